using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Gen.Benchmarks
{
    /// <summary>
    /// Loops that measure the peak multiply-accumulate rate reachable from C# on one core, with no memory traffic:
    /// twelve independent accumulator chains held in registers. Each chain feeds its own accumulator back in as an
    /// operand, which keeps the JIT from hoisting the arithmetic out of the loop; with twelve chains the loop is bound
    /// by throughput, not latency.
    /// </summary>
    public static class PeakProbes
    {
        /// <summary>One probe: its kernel name in the tables, what it runs, its MACs per call, whether it is an INT8
        /// route (the generated kernels' ceiling), whether this process can run it, and the call.</summary>
        public sealed record Probe(string Kernel, string Description, long MacsPerCall, bool Int8, bool Supported, Func<object> Run);

        /// <summary>Every probe, the INT8 routes first. The zmm VNNI one exists in the .NET 11 build only (AvxVnni.V512).</summary>
        public static IReadOnlyList<Probe> All { get; } = new List<Probe>
        {
            new("Int8Peak", "INT8 vpmaddubsw + vpmaddwd + vpaddd zmm (64 MACs per vpmaddubsw)", Int8MacsPerCall, true, Avx512BW.IsSupported, () => Int8()),
            new("VnniYmmPeak", "INT8 vpdpbusd ymm (AvxVnni, 32 MACs per instruction)", VnniYmmMacsPerCall, true, AvxVnni.IsSupported, () => VnniYmm()),
#if GEN_NET11
            new("VnniZmmPeak", "INT8 vpdpbusd zmm (AvxVnni.V512, .NET 11 only; 64 MACs per instruction)", VnniZmmMacsPerCall, true, AvxVnni.V512.IsSupported, () => VnniZmm()),
#endif
            new("Fp32Peak", "FP32 Vector512 FMA (16 MACs per FMA)", Fp32MacsPerCall, false, Avx512F.IsSupported, () => Fp32()),
        };

        /// <summary>Every probe any build has, in table order (the side-by-side table names those of other builds too).</summary>
        public static IReadOnlyList<Probe> AllKnown { get; } = new List<Probe>
        {
            All[0], All[1],
            new("VnniZmmPeak", "INT8 vpdpbusd zmm (AvxVnni.V512, .NET 11 only; 64 MACs per instruction)", VnniZmmMacsPerCall, true, false, () => 0),
            All[All.Count - 1],
        };

        /// <summary>The probe of a kernel name, or null.</summary>
        public static Probe? Find(string kernel) => ((List<Probe>)AllKnown).Find(p => p.Kernel == kernel);

        /// <summary>Loop trips per call.</summary>
        public const int Iterations = 1 << 20;

        /// <summary>INT8: per chain and trip, one vpmaddubsw (64 u8 x s8 products in int16 pairs), one vpmaddwd
        /// against ones (pairs to int32) and one vpaddd: 64 MACs.</summary>
        public const long Int8MacsPerCall = 12L * 64 * Iterations;

        /// <summary>VNNI ymm: per chain and trip, one vpdpbusd on 8 int32 lanes of four u8 x s8 products: 32 MACs.</summary>
        public const long VnniYmmMacsPerCall = 12L * 32 * Iterations;

        /// <summary>VNNI zmm: per chain and trip, one vpdpbusd on 16 int32 lanes: 64 MACs.</summary>
        public const long VnniZmmMacsPerCall = 12L * 64 * Iterations;

        /// <summary>FP32: per chain and trip, one 16-lane vfmadd: 16 MACs.</summary>
        public const long Fp32MacsPerCall = 12L * 16 * Iterations;

        /// <summary>Whether the probes have the instructions they measure.</summary>
        public static bool Supported => Avx512BW.IsSupported;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Int8()
        {
            if (!Avx512BW.IsSupported) return 0;
            Vector512<sbyte> w = Vector512.Create((sbyte)3);
            Vector512<short> ones = Vector512.Create((short)1);
            Vector512<int> a0 = Vector512.Create(1), a1 = Vector512.Create(2), a2 = Vector512.Create(3), a3 = Vector512.Create(4);
            Vector512<int> a4 = Vector512.Create(5), a5 = Vector512.Create(6), a6 = Vector512.Create(7), a7 = Vector512.Create(8);
            Vector512<int> a8 = Vector512.Create(9), a9 = Vector512.Create(10), a10 = Vector512.Create(11), a11 = Vector512.Create(12);
            for (int i = 0; i < Iterations; i++)
            {
                a0 = Avx512F.Add(a0, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0.AsByte(), w), ones));
                a1 = Avx512F.Add(a1, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1.AsByte(), w), ones));
                a2 = Avx512F.Add(a2, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2.AsByte(), w), ones));
                a3 = Avx512F.Add(a3, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a3.AsByte(), w), ones));
                a4 = Avx512F.Add(a4, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a4.AsByte(), w), ones));
                a5 = Avx512F.Add(a5, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a5.AsByte(), w), ones));
                a6 = Avx512F.Add(a6, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a6.AsByte(), w), ones));
                a7 = Avx512F.Add(a7, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a7.AsByte(), w), ones));
                a8 = Avx512F.Add(a8, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a8.AsByte(), w), ones));
                a9 = Avx512F.Add(a9, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a9.AsByte(), w), ones));
                a10 = Avx512F.Add(a10, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a10.AsByte(), w), ones));
                a11 = Avx512F.Add(a11, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a11.AsByte(), w), ones));
            }

            Vector512<int> sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
            return Vector512.Sum(sum);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int VnniYmm()
        {
            if (!AvxVnni.IsSupported) return 0;
            Vector256<sbyte> w = Vector256.Create((sbyte)3);
            Vector256<int> a0 = Vector256.Create(1), a1 = Vector256.Create(2), a2 = Vector256.Create(3), a3 = Vector256.Create(4);
            Vector256<int> a4 = Vector256.Create(5), a5 = Vector256.Create(6), a6 = Vector256.Create(7), a7 = Vector256.Create(8);
            Vector256<int> a8 = Vector256.Create(9), a9 = Vector256.Create(10), a10 = Vector256.Create(11), a11 = Vector256.Create(12);
            for (int i = 0; i < Iterations; i++)
            {
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, a0.AsByte(), w);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, a1.AsByte(), w);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, a2.AsByte(), w);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, a3.AsByte(), w);
                a4 = AvxVnni.MultiplyWideningAndAdd(a4, a4.AsByte(), w);
                a5 = AvxVnni.MultiplyWideningAndAdd(a5, a5.AsByte(), w);
                a6 = AvxVnni.MultiplyWideningAndAdd(a6, a6.AsByte(), w);
                a7 = AvxVnni.MultiplyWideningAndAdd(a7, a7.AsByte(), w);
                a8 = AvxVnni.MultiplyWideningAndAdd(a8, a8.AsByte(), w);
                a9 = AvxVnni.MultiplyWideningAndAdd(a9, a9.AsByte(), w);
                a10 = AvxVnni.MultiplyWideningAndAdd(a10, a10.AsByte(), w);
                a11 = AvxVnni.MultiplyWideningAndAdd(a11, a11.AsByte(), w);
            }

            Vector256<int> sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
            return Vector256.Sum(sum);
        }

#if GEN_NET11
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int VnniZmm()
        {
            if (!AvxVnni.V512.IsSupported) return 0;
            Vector512<sbyte> w = Vector512.Create((sbyte)3);
            Vector512<int> a0 = Vector512.Create(1), a1 = Vector512.Create(2), a2 = Vector512.Create(3), a3 = Vector512.Create(4);
            Vector512<int> a4 = Vector512.Create(5), a5 = Vector512.Create(6), a6 = Vector512.Create(7), a7 = Vector512.Create(8);
            Vector512<int> a8 = Vector512.Create(9), a9 = Vector512.Create(10), a10 = Vector512.Create(11), a11 = Vector512.Create(12);
            for (int i = 0; i < Iterations; i++)
            {
                a0 = AvxVnni.V512.MultiplyWideningAndAdd(a0, a0.AsByte(), w);
                a1 = AvxVnni.V512.MultiplyWideningAndAdd(a1, a1.AsByte(), w);
                a2 = AvxVnni.V512.MultiplyWideningAndAdd(a2, a2.AsByte(), w);
                a3 = AvxVnni.V512.MultiplyWideningAndAdd(a3, a3.AsByte(), w);
                a4 = AvxVnni.V512.MultiplyWideningAndAdd(a4, a4.AsByte(), w);
                a5 = AvxVnni.V512.MultiplyWideningAndAdd(a5, a5.AsByte(), w);
                a6 = AvxVnni.V512.MultiplyWideningAndAdd(a6, a6.AsByte(), w);
                a7 = AvxVnni.V512.MultiplyWideningAndAdd(a7, a7.AsByte(), w);
                a8 = AvxVnni.V512.MultiplyWideningAndAdd(a8, a8.AsByte(), w);
                a9 = AvxVnni.V512.MultiplyWideningAndAdd(a9, a9.AsByte(), w);
                a10 = AvxVnni.V512.MultiplyWideningAndAdd(a10, a10.AsByte(), w);
                a11 = AvxVnni.V512.MultiplyWideningAndAdd(a11, a11.AsByte(), w);
            }

            Vector512<int> sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
            return Vector512.Sum(sum);
        }
#endif

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static float Fp32()
        {
            if (!Avx512F.IsSupported) return 0;
            Vector512<float> m = Vector512.Create(0.999999f), c = Vector512.Create(1e-6f);
            Vector512<float> a0 = Vector512.Create(1f), a1 = Vector512.Create(2f), a2 = Vector512.Create(3f), a3 = Vector512.Create(4f);
            Vector512<float> a4 = Vector512.Create(5f), a5 = Vector512.Create(6f), a6 = Vector512.Create(7f), a7 = Vector512.Create(8f);
            Vector512<float> a8 = Vector512.Create(9f), a9 = Vector512.Create(10f), a10 = Vector512.Create(11f), a11 = Vector512.Create(12f);
            for (int i = 0; i < Iterations; i++)
            {
                a0 = Avx512F.FusedMultiplyAdd(a0, m, c);
                a1 = Avx512F.FusedMultiplyAdd(a1, m, c);
                a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
                a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
                a4 = Avx512F.FusedMultiplyAdd(a4, m, c);
                a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
                a6 = Avx512F.FusedMultiplyAdd(a6, m, c);
                a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
                a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
                a9 = Avx512F.FusedMultiplyAdd(a9, m, c);
                a10 = Avx512F.FusedMultiplyAdd(a10, m, c);
                a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
            }

            Vector512<float> sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
            return Vector512.Sum(sum);
        }
    }
}
