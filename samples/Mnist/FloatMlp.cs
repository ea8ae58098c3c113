using System;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Gen.Runtime;

namespace Gen.Samples.Mnist
{
    /// <summary>The same MLP in float32, straight from the safetensors file: the accuracy and speed to compare with.</summary>
    internal sealed class FloatMlp
    {
        private readonly float[] _w1, _b1, _w2, _b2;
        private readonly int _inputs, _hidden, _outputs;

        public FloatMlp(string path)
        {
            var file = SafeTensorsFile.Parse(File.ReadAllBytes(path));
            var w1 = file.Tensors["fc1.weight"];
            var w2 = file.Tensors["fc2.weight"];
            _hidden = w1.Shape[0];
            _inputs = w1.Shape[1];
            _outputs = w2.Shape[0];
            _w1 = file.ReadFloat32(w1);
            _b1 = file.ReadFloat32(file.Tensors["fc1.bias"]);
            _w2 = file.ReadFloat32(w2);
            _b2 = file.ReadFloat32(file.Tensors["fc2.bias"]);
        }

        /// <summary>Logits for one input row; <paramref name="hidden"/> is caller-provided scratch.</summary>
        public void Run(ReadOnlySpan<float> input, Span<float> hidden, Span<float> logits)
        {
            Dense(input, _w1, _b1, hidden, _inputs, _hidden, relu: true);
            Dense(hidden, _w2, _b2, logits, _hidden, _outputs, relu: false);
        }

        // A fair float baseline: the widest vectors the CPU has, four independent accumulators (to hide FMA latency),
        // no bounds checks.
        private static void Dense(ReadOnlySpan<float> x, float[] w, float[] b, Span<float> y, int k, int n, bool relu)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                Dense512(x, w, b, y, k, n, relu);
                return;
            }

            ref float xs = ref MemoryMarshal.GetReference(x);
            int width = Vector<float>.Count;
            for (int j = 0; j < n; j++)
            {
                ref float row = ref w[j * k];
                Vector<float> a0 = Vector<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                int i = 0;
                for (; i <= k - 4 * width; i += 4 * width)
                {
                    a0 += Vector.LoadUnsafe(ref row, (nuint)i) * Vector.LoadUnsafe(ref xs, (nuint)i);
                    a1 += Vector.LoadUnsafe(ref row, (nuint)(i + width)) * Vector.LoadUnsafe(ref xs, (nuint)(i + width));
                    a2 += Vector.LoadUnsafe(ref row, (nuint)(i + 2 * width)) * Vector.LoadUnsafe(ref xs, (nuint)(i + 2 * width));
                    a3 += Vector.LoadUnsafe(ref row, (nuint)(i + 3 * width)) * Vector.LoadUnsafe(ref xs, (nuint)(i + 3 * width));
                }

                for (; i <= k - width; i += width) a0 += Vector.LoadUnsafe(ref row, (nuint)i) * Vector.LoadUnsafe(ref xs, (nuint)i);
                float sum = Vector.Sum((a0 + a1) + (a2 + a3)) + b[j];
                for (; i < k; i++) sum += Unsafe.Add(ref row, i) * Unsafe.Add(ref xs, i);
                y[j] = relu ? MathF.Max(sum, 0f) : sum;
            }
        }

        private static void Dense512(ReadOnlySpan<float> x, float[] w, float[] b, Span<float> y, int k, int n, bool relu)
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            for (int j = 0; j < n; j++)
            {
                ref float row = ref w[j * k];
                Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                int i = 0;
                for (; i <= k - 64; i += 64)
                {
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)i), Vector512.LoadUnsafe(ref xs, (nuint)i), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)(i + 16)), Vector512.LoadUnsafe(ref xs, (nuint)(i + 16)), a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)(i + 32)), Vector512.LoadUnsafe(ref xs, (nuint)(i + 32)), a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)(i + 48)), Vector512.LoadUnsafe(ref xs, (nuint)(i + 48)), a3);
                }

                for (; i <= k - 16; i += 16) a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)i), Vector512.LoadUnsafe(ref xs, (nuint)i), a0);
                float sum = Vector512.Sum((a0 + a1) + (a2 + a3)) + b[j];
                for (; i < k; i++) sum += Unsafe.Add(ref row, i) * Unsafe.Add(ref xs, i);
                y[j] = relu ? MathF.Max(sum, 0f) : sum;
            }
        }
    }
}
