using System;
using System.Collections.Generic;
using System.Linq;

namespace Gen.Benchmarks
{
    /// <summary>
    /// Quick correctness checks run before timing: the float32 GEMM against the plain loop (shapes with row and column
    /// tails included), and, per benchmarked shape, the generated model against the naive INT8 loop (both follow
    /// the TFLite numerics, so they should agree exactly) plus the spread of the outputs, so that a benchmark never
    /// times a layer whose outputs are all clamped.
    /// </summary>
    public static class SelfCheck
    {
        /// <summary>Prints the checks; returns false if one fails.</summary>
        public static bool Run(IEnumerable<string> shapes)
        {
            bool ok = true;
            Console.WriteLine($"Float32 GEMM path: {Float32Gemm.Path}");
            var random = new Random(7);
            foreach (var (m, k, n) in new[] { (1, 784, 128), (1, 64, 40), (3, 100, 70), (4, 768, 96), (5, 300, 33), (9, 257, 64), (16, 64, 256) })
            {
                var w = RandomFloats(random, n * k, 1 / MathF.Sqrt(k));
                var b = RandomFloats(random, n, 0.1f);
                var x = RandomFloats(random, m * k, 1f);
                var expected = new float[m * n];
                var actual = new float[m * n];
                Float32Gemm.Reference(w, b, k, n, x, expected, m);
                new Float32Gemm(w, b, k, n).Run(x, actual, m);
                double worst = 0;
                for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / (1 + Math.Abs(expected[i])));
                bool pass = worst < 1e-4;
                ok &= pass;
                Console.WriteLine($"  float32 {m}x{k}x{n}: max relative error {worst:E2} {(pass ? "ok" : "FAIL")}");
            }

            foreach (string shape in shapes)
            {
                var layer = DenseLayer.Create(shape);
                int rows = layer.Shape.M, n = layer.Shape.N;
                var generated = new sbyte[rows * n];
                var naive = new sbyte[rows * n];
                GeneratedModels.Run(layer.ModelId, layer.Inputs, generated, rows);
                new NaiveInt8(layer).Run(layer.Inputs, naive, rows);
                int differ = 0, maxDiff = 0;
                for (int i = 0; i < generated.Length; i++)
                {
                    int d = Math.Abs(generated[i] - naive[i]);
                    if (d != 0) differ++;
                    maxDiff = Math.Max(maxDiff, d);
                }

                // One row through the single-row overload must agree with the batched call.
                var single = new sbyte[n];
                RunOne(layer.ModelId, layer.Inputs.AsSpan(0, layer.Shape.K), single);
                bool rowOk = single.AsSpan().SequenceEqual(generated.AsSpan(0, n));

                int clamped = generated.Count(v => v == -128 || v == 127);
                int distinct = generated.Distinct().Count();
                bool pass = differ == 0 && rowOk && distinct > 16 && clamped < generated.Length / 10;
                ok &= pass;
                Console.WriteLine($"  int8 {shape}: generated vs naive {differ} of {generated.Length} differ (max {maxDiff}); " +
                    $"single-row Run {(rowOk ? "agrees" : "DIFFERS")}; outputs {generated.Min()}..{generated.Max()}, {distinct} distinct, " +
                    $"{100.0 * clamped / generated.Length:F2}% clamped; {(pass ? "ok" : "FAIL")}");
            }

            return ok;
        }

        private static void RunOne(int id, ReadOnlySpan<sbyte> input, Span<sbyte> output)
        {
            switch (id)
            {
                case 0: Dense784x128.Run(input, output); break;
                case 1: Dense768x768.Run(input, output); break;
                case 2: Dense256x256.Run(input, output); break;
                case 3: Dense64x256.Run(input, output); break;
                case 4: Dense768x3072.Run(input, output); break;
                case 5: Dense3072x768.Run(input, output); break;
            }
        }

        private static float[] RandomFloats(Random random, int count, float scale)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
            return values;
        }
    }
}
