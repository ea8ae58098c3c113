using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Environments;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.NativeAot;
using Perfolizer.Horology;

namespace Gen.Benchmarks
{
    /// <summary>
    /// A short but stable job (3 warmup and 15 measured iterations of about 250 ms, one process per benchmark),
    /// times in microseconds, and a GMAC/s column. The JIT job runs on the runtime that runs the host (.NET 10 here);
    /// the NativeAOT job compiles the benchmarks with the ILCompiler 10 package from NuGet, for x86-64-v4 so that the
    /// AVX-512 paths stay. Every benchmark process is built from source by BenchmarkDotNet, which runs the generator
    /// on the big models again: hence the long build timeout.
    /// </summary>
    public sealed class SuiteConfig : ManualConfig
    {
        /// <summary>The ILCompiler package version the NativeAOT job uses (the net10.0 one NuGet serves here).</summary>
        public const string IlCompilerVersion = "10.0.12";

        public SuiteConfig(bool nativeAot)
        {
            Add(DefaultConfig.Instance);
            Job job = Job.Default
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithIterationTime(TimeInterval.FromMilliseconds(250))
                .WithLaunchCount(1);
            if (nativeAot)
            {
                var toolchain = NativeAotToolchain.CreateBuilder()
                    .UseNuGet(IlCompilerVersion, "https://api.nuget.org/v3/index.json")
                    .IlcInstructionSet("x86-64-v4")
                    .TargetFrameworkMoniker("net10.0")
                    .ToToolchain();
                job = job.WithToolchain(toolchain).WithId("NativeAOT");
            }
            else
            {
                job = job.WithId("JIT");
            }

            AddJob(job);
            AddColumn(new GmacColumn());
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
            WithBuildTimeout(TimeSpan.FromMinutes(30));
        }
    }

    /// <summary>
    /// One dense layer per shape, M x K x N, single thread, through three kernels: Gen's generated INT8 code, the naive
    /// scalar INT8 loop, and a register-blocked AVX-512 float32 GEMM. Set GEN_BENCH_QUICK=1 (Program's --quick) to run
    /// three small shapes only.
    /// </summary>
    [MemoryDiagnoser]
    public class GemmBenchmarks
    {
        private DenseLayer layer = null!;
        private NaiveInt8 naive = null!;
        private Float32Gemm float32 = null!;
        private sbyte[] inputs = null!, outputs = null!;
        private float[] floatInputs = null!, floatOutputs = null!;
        private int modelId, rows;

        /// <summary>The shape, "MxKxN".</summary>
        [ParamsSource(nameof(Shapes))]
        public string Shape { get; set; } = "1x784x128";

        public static IEnumerable<string> Shapes => Program.Quick ? GemmShape.Quick : GemmShape.All;

        [GlobalSetup]
        public void Setup()
        {
            layer = DenseLayer.Create(Shape);
            modelId = layer.ModelId;
            rows = layer.Shape.M;
            inputs = layer.Inputs;
            outputs = new sbyte[rows * layer.Shape.N];
            floatInputs = layer.FloatInputs;
            floatOutputs = new float[rows * layer.Shape.N];
            naive = new NaiveInt8(layer);
            float32 = new Float32Gemm(layer.FloatWeights, layer.FloatBias, layer.Shape.K, layer.Shape.N);
        }

        /// <summary>Gen's generated model: <c>Run(inputs, outputs, M)</c>.</summary>
        [Benchmark(Baseline = true)]
        public void Generated() => GeneratedModels.Run(modelId, inputs, outputs, rows);

        /// <summary>The naive scalar INT8 triple loop with the same numerics.</summary>
        [Benchmark]
        public void NaiveScalar() => naive.Run(inputs, outputs, rows);

        /// <summary>The same layer in float32, register-blocked AVX-512 FMA.</summary>
        [Benchmark]
        public void Float32() => float32.Run(floatInputs, floatOutputs, rows);
    }

    /// <summary>Peak multiply-accumulate rates reachable from C# on one core (see <see cref="PeakProbes"/>).</summary>
    public class PeakBenchmarks
    {
        /// <summary>vpmaddubsw + vpmaddwd + vpaddd chains, 64 MACs per vpmaddubsw.</summary>
        [Benchmark]
        [MacsPerCall(PeakProbes.Int8MacsPerCall)]
        public int Int8Peak() => PeakProbes.Int8();

        /// <summary>vpdpbusd ymm chains (AvxVnni), 32 MACs per instruction.</summary>
        [Benchmark]
        [MacsPerCall(PeakProbes.VnniYmmMacsPerCall)]
        public int VnniYmmPeak() => PeakProbes.VnniYmm();

        /// <summary>Vector512 FMA chains, 16 MACs per FMA.</summary>
        [Benchmark]
        [MacsPerCall(PeakProbes.Fp32MacsPerCall)]
        public float Fp32Peak() => PeakProbes.Fp32();
    }

    /// <summary>The multiply-accumulates one call of a benchmark method performs (for benchmarks without a shape).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MacsPerCallAttribute : Attribute
    {
        public MacsPerCallAttribute(long macs) => Macs = macs;

        public long Macs { get; }
    }
}
