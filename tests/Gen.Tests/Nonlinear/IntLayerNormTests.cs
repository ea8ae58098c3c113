using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Nonlinear
{
    /// <summary>
    /// LayerNorm against a double reference. Three errors are measured: the normalized value n = (x - mean) / std
    /// (the kernel's Q16 output), the affine output gamma n + beta before the final INT8 rounding (reconstructed from
    /// the plan's integers exactly as the kernel forms it), and the INT8 output after rounding, which adds up to half an
    /// output step. The float reference uses eps = 0 (the integer path has no epsilon) and, separately, eps = 1e-5.
    /// </summary>
    public class IntLayerNormTests
    {
        private const int Width = 768;

        private readonly ITestOutputHelper _output;

        public IntLayerNormTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData(1e-4, 1.0, 0.0)]
        [InlineData(1e-4, 0.05, 3.0)]
        [InlineData(1e-4, 20.0, -50.0)]
        [InlineData(1e-3, 2.0, 0.5)]
        public void Int32RowsOfWidth768AreAccurate(double scale, double std, double mean)
        {
            var random = new Random(21);
            var (gamma, beta) = Affine(random);
            double outputScale = OutputScale(gamma, beta);
            var plan = LayerNormPlan.Create(gamma, beta, scale, outputScale, 3);
            var stats = new Statistics();
            var q = new int[Width];
            for (int row = 0; row < 40; row++)
            {
                double rowStd = std * (0.5 + random.NextDouble());
                for (int i = 0; i < Width; i++)
                {
                    // A few outliers per row, as LayerNorm inputs in transformers have.
                    double x = mean + rowStd * NonlinearReference.NextNormal(random) * (i % 97 == 0 ? 8 : 1);
                    q[i] = (int)Math.Round(x / scale);
                }

                stats.Add(q, scale, gamma, beta, plan);
            }

            _output.WriteLine($"LayerNorm INT32 width {Width}, S = {scale:G4}, std {std}, mean {mean}: {stats}");
            stats.AssertWithin(normalized: 2e-5, beforeRounding: 1e-4, outputScale: outputScale);
        }

        [Theory]
        [InlineData(0.05, 0, 20.0)]
        [InlineData(0.02, -30, 40.0)]
        [InlineData(0.1, 100, 3.0)]
        [InlineData(0.01, 5, 1.0)]
        public void Int8RowsOfWidth768AreAccurate(double scale, int zeroPoint, double spread)
        {
            var random = new Random(22);
            var (gamma, beta) = Affine(random);
            double outputScale = OutputScale(gamma, beta);
            var plan = LayerNormPlan.Create(gamma, beta, scale, outputScale, -7);
            var stats = new Statistics();
            var q = new sbyte[Width];
            for (int row = 0; row < 40; row++)
            {
                for (int i = 0; i < Width; i++)
                {
                    q[i] = (sbyte)Math.Clamp(Math.Round(zeroPoint + spread * NonlinearReference.NextNormal(random)), -128, 127);
                }

                stats.Add(q, scale, zeroPoint, gamma, beta, plan);
            }

            _output.WriteLine($"LayerNorm INT8 width {Width}, S = {scale:G4}, Z = {zeroPoint}, spread {spread}: {stats}");
            stats.AssertWithin(normalized: 2e-5, beforeRounding: 1e-4, outputScale: outputScale);
        }

        [Fact]
        public void ZeroVarianceGivesBetaWithoutDividing()
        {
            var random = new Random(23);
            var (gamma, beta) = Affine(random);
            double outputScale = OutputScale(gamma, beta);
            var plan = LayerNormPlan.Create(gamma, beta, 0.05, outputScale, 0);
            var output = new sbyte[Width];
            var constant = new int[Width];
            Array.Fill(constant, -123456);
            IntLayerNorm.LayerNorm(constant, output, plan);
            var constant8 = new sbyte[Width];
            Array.Fill(constant8, (sbyte)-128);
            var output8 = new sbyte[Width];
            IntLayerNorm.LayerNorm(constant8, output8, plan);
            for (int i = 0; i < Width; i++)
            {
                int expected = (int)Math.Clamp(Math.Round(beta[i] / outputScale), -128, 127);
                Assert.Equal(expected, output[i]);
                Assert.Equal(expected, output8[i]);
            }

            var single = LayerNormPlan.Create(new[] { 2f }, new[] { 0.5f }, 1.0, 0.01, 0);
            var one = new sbyte[1];
            IntLayerNorm.LayerNorm(new[] { 77 }, one, single);
            Assert.Equal(50, one[0]);
        }

        [Fact]
        public void ExtremeInt32ValuesDoNotOverflow()
        {
            foreach (int width in new[] { 2, 3, 768, 4096 })
            {
                var random = new Random(width);
                var q = new int[width];
                for (int i = 0; i < width; i++)
                {
                    q[i] = random.Next(2) == 0 ? int.MinValue + random.Next(100) : int.MaxValue - random.Next(100);
                }

                var normalized = new int[width];
                IntLayerNorm.Normalize(q, normalized);
                var real = new double[width];
                for (int i = 0; i < width; i++)
                {
                    real[i] = q[i];
                }

                double[] exact = NonlinearReference.Normalize(real, 0);
                double max = 0;
                for (int i = 0; i < width; i++)
                {
                    max = Math.Max(max, Math.Abs(normalized[i] / 65536.0 - exact[i]));
                }

                _output.WriteLine($"LayerNorm INT32 extremes, width {width}: max normalized error {max:E3}");
                Assert.True(max <= 2e-5, $"width {width}: {max}");
            }
        }

        [Fact]
        public void PlansAreEquatableAndDescribeTheirConstants()
        {
            var random = new Random(5);
            var (gamma, beta) = Affine(random);
            var a = LayerNormPlan.Create(gamma, beta, 1e-4, 0.05, 1);
            var b = LayerNormPlan.Create((float[])gamma.Clone(), (float[])beta.Clone(), 1e-4, 0.05, 1);
            Assert.Equal(a, b);
            Assert.Equal(a.GetHashCode(), b.GetHashCode());
            beta[5] += 0.25f;
            Assert.NotEqual(a, LayerNormPlan.Create(gamma, beta, 1e-4, 0.05, 1));
            Assert.Equal(Width, a.GammaMultipliers.Count);
            string text = a.Describe();
            _output.WriteLine(text);
            Assert.Contains("T = ", text);
            Assert.Throws<ArgumentException>(() => LayerNormPlan.Create(new float[2], new float[3], 1, 1, 0));
            Assert.Throws<ArgumentException>(() => IntLayerNorm.LayerNorm(new int[5], new sbyte[5], a));
        }

        private static (float[] Gamma, float[] Beta) Affine(Random random)
        {
            var gamma = new float[Width];
            var beta = new float[Width];
            for (int i = 0; i < Width; i++)
            {
                gamma[i] = (float)(1 + 0.3 * NonlinearReference.NextNormal(random));
                beta[i] = (float)(0.2 * NonlinearReference.NextNormal(random));
            }

            gamma[1] = -0.7f; // signed gamma
            gamma[2] = 0f;
            return (gamma, beta);
        }

        /// <summary>An INT8 output scale covering gamma n + beta for |n| up to 6.</summary>
        private static double OutputScale(float[] gamma, float[] beta)
        {
            double max = 0;
            for (int i = 0; i < gamma.Length; i++)
            {
                max = Math.Max(max, 6 * Math.Abs(gamma[i]) + Math.Abs(beta[i]));
            }

            return max / 127;
        }

        private sealed class Statistics
        {
            private double _normalizedMax;
            private double _normalizedMaxEps;
            private double _normalizedTotal;
            private double _beforeMax;
            private double _afterMax;
            private double _afterTotal;
            private long _count;

            public void Add(int[] q, double scale, float[] gamma, float[] beta, LayerNormPlan plan)
            {
                var normalized = new int[q.Length];
                IntLayerNorm.Normalize(q, normalized);
                var output = new sbyte[q.Length];
                IntLayerNorm.LayerNorm(q, output, plan);
                var real = new double[q.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    real[i] = scale * q[i];
                }

                Add(real, normalized, output, gamma, beta, plan);
            }

            public void Add(sbyte[] q, double scale, int zeroPoint, float[] gamma, float[] beta, LayerNormPlan plan)
            {
                var normalized = new int[q.Length];
                IntLayerNorm.Normalize(q, normalized);
                var output = new sbyte[q.Length];
                IntLayerNorm.LayerNorm(q, output, plan);
                var real = new double[q.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    real[i] = scale * (q[i] - zeroPoint);
                }

                Add(real, normalized, output, gamma, beta, plan);
            }

            private void Add(double[] real, int[] normalized, sbyte[] output, float[] gamma, float[] beta, LayerNormPlan plan)
            {
                double[] exact = NonlinearReference.Normalize(real, 0);
                double[] exactEps = NonlinearReference.Normalize(real, 1e-5);
                double unit = Math.Pow(2, -LayerNormPlan.NormalizedFractionBits);
                for (int i = 0; i < real.Length; i++)
                {
                    double n = normalized[i] * unit;
                    double error = Math.Abs(n - exact[i]);
                    _normalizedMax = Math.Max(_normalizedMax, error);
                    _normalizedMaxEps = Math.Max(_normalizedMaxEps, Math.Abs(n - exactEps[i]));
                    _normalizedTotal += error;

                    double reference = gamma[i] * exact[i] + beta[i];
                    // The kernel's value before its final rounding shift, in real units.
                    double before = ((double)normalized[i] * plan.GammaMultipliers[i] + plan.BetaOffsets[i])
                        * Math.Pow(2, -plan.OutputShift) * plan.OutputScale;
                    _beforeMax = Math.Max(_beforeMax, Math.Abs(before - reference));
                    double after = plan.OutputScale * (output[i] - plan.OutputZeroPoint);
                    // The INT8 output saturates: compare it with the reference clamped to the representable range.
                    double low = plan.OutputScale * (-128 - plan.OutputZeroPoint);
                    double high = plan.OutputScale * (127 - plan.OutputZeroPoint);
                    double clamped = Math.Clamp(reference, low, high);
                    Assert.Equal(output[i], IntLayerNorm.Affine(normalized[i], i, plan));
                    _afterMax = Math.Max(_afterMax, Math.Abs(after - clamped));
                    _afterTotal += Math.Abs(after - clamped);
                    _count++;
                }
            }

            public void AssertWithin(double normalized, double beforeRounding, double outputScale)
            {
                Assert.True(_normalizedMax <= normalized, $"normalized error {_normalizedMax}");
                Assert.True(_beforeMax <= beforeRounding, $"error before rounding {_beforeMax}");
                Assert.True(_afterMax <= outputScale / 2 + beforeRounding, $"error after rounding {_afterMax}");
            }

            public override string ToString() =>
                $"normalized max {_normalizedMax:E3} (vs eps 1e-5: {_normalizedMaxEps:E3}), mean {_normalizedTotal / _count:E3}; " +
                $"gamma n + beta before INT8 rounding max {_beforeMax:E3}; after max {_afterMax:E3}, mean {_afterTotal / _count:E3}";
        }
    }
}
