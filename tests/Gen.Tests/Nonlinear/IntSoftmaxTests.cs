using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Nonlinear
{
    public class IntSoftmaxTests
    {
        private readonly ITestOutputHelper _output;

        public IntSoftmaxTests(ITestOutputHelper output) => _output = output;

        /// <summary>
        /// exp of every integer input in [-24, 0] (a dense grid at fine scales) against Math.Exp: relative error
        /// within the polynomial's 0.31% (plus the integer constants' share) down to -10, and absolute error within
        /// 0.0022 everywhere.
        /// </summary>
        [Theory]
        [InlineData(1e-4)]
        [InlineData(1e-3)]
        [InlineData(0.01)]
        [InlineData(4.0 / 127)]
        [InlineData(0.1)]
        [InlineData(0.5)]
        [InlineData(3e-6)]
        public void ExpErrorIsBounded(double scale)
        {
            var plan = ExpPlan.Create(scale);
            long lowest = (long)Math.Floor(-24 / scale);
            long step = Math.Max(1, -lowest / 200_000);
            double maxAbsolute = 0;
            double maxRelative = 0;
            for (long q = 0; q >= lowest; q -= step)
            {
                double x = scale * q;
                double actual = plan.OutputScale * IntExp.Exp(q, plan);
                double exact = Math.Exp(x);
                maxAbsolute = Math.Max(maxAbsolute, Math.Abs(actual - exact));
                if (x >= -10)
                {
                    maxRelative = Math.Max(maxRelative, Math.Abs(actual / exact - 1));
                }
            }

            _output.WriteLine($"exp, S = {scale:G6}, x in [-24, 0]: max abs {maxAbsolute:F6}, max rel (x >= -10) {maxRelative:F6}");
            Assert.True(maxAbsolute <= 0.0022, $"absolute error {maxAbsolute}");
            Assert.True(maxRelative <= 0.0033, $"relative error {maxRelative}");
            Assert.Equal(0, IntExp.Exp(long.MinValue / 2, plan));
            Assert.Throws<ArgumentOutOfRangeException>(() => IntExp.Exp(1, plan));
        }

        /// <summary>
        /// Rows of 128 INT8 logits, INT8 probabilities (scale 1/256, zero point -128) against the exact softmax of
        /// the dequantized logits.
        /// </summary>
        [Theory]
        [InlineData(0.05, 1.0, 0)]
        [InlineData(0.1, 1.0, 10)]
        [InlineData(0.25, 0.125, -5)]
        [InlineData(4.0 / 127, 1.0, 0)]
        [InlineData(0.02, 1.0, 0)]
        public void Int8RowsOf128AreAccurate(double scale, double factor, int zeroPoint)
        {
            var plan = SoftmaxPlan.Create(scale, factor);
            var random = new Random(7);
            var stats = new ErrorStatistics();
            var q = new sbyte[128];
            var output = new sbyte[128];
            for (int row = 0; row < 300; row++)
            {
                double spread = 10 + row % 5 * 25;
                for (int i = 0; i < q.Length; i++)
                {
                    q[i] = (sbyte)Math.Clamp(Math.Round(zeroPoint + spread * NonlinearReference.NextNormal(random)), -128, 127);
                }

                IntSoftmax.Softmax(q, output, plan);
                var real = new double[q.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    real[i] = scale * factor * (q[i] - zeroPoint);
                }

                stats.Add(NonlinearReference.Softmax(real), output);
            }

            _output.WriteLine($"softmax INT8 rows of 128, S = {scale:G4}, factor {factor}: {stats}");
            stats.AssertWithin(maxError: 0.0045, meanError: 0.0011, rowLength: 128);
        }

        /// <summary>Rows of 128 INT32 logits (attention scores at scale 1e-3 or 1e-4, times 1/sqrt(64)).</summary>
        [Theory]
        [InlineData(1e-3, 0.125, 2.0)]
        [InlineData(1e-3, 0.125, 8.0)]
        [InlineData(1e-4, 0.125, 30.0)]
        [InlineData(1e-4, 1.0, 1.0)]
        [InlineData(1e-6, 1.0, 3.0)]
        public void Int32RowsOf128AreAccurate(double scale, double factor, double logitStd)
        {
            var plan = SoftmaxPlan.Create(scale, factor);
            var random = new Random(11);
            var stats = new ErrorStatistics();
            var q = new int[128];
            var output = new sbyte[128];
            for (int row = 0; row < 300; row++)
            {
                double offset = 10 * NonlinearReference.NextNormal(random); // the row maximum is subtracted anyway
                for (int i = 0; i < q.Length; i++)
                {
                    double logit = offset + logitStd * NonlinearReference.NextNormal(random);
                    q[i] = (int)Math.Round(logit / (scale * factor));
                }

                IntSoftmax.Softmax(q, output, plan);
                var real = new double[q.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    real[i] = scale * factor * q[i];
                }

                stats.Add(NonlinearReference.Softmax(real), output);
            }

            _output.WriteLine($"softmax INT32 rows of 128, S = {scale:G4}, factor {factor}, logit std {logitStd}: {stats}");
            stats.AssertWithin(maxError: 0.0045, meanError: 0.0011, rowLength: 128);
        }

        [Fact]
        public void ShortLongAndConstantRows()
        {
            var plan = SoftmaxPlan.Create(0.05);
            var one = new sbyte[1];
            IntSoftmax.Softmax(new sbyte[] { 17 }, one, plan);
            Assert.Equal(127, one[0]); // probability 1 saturates at 255/256

            var two = new sbyte[2];
            IntSoftmax.Softmax(new sbyte[] { -3, -3 }, two, plan);
            Assert.Equal(new sbyte[] { 0, 0 }, two); // 1/2 = 128/256

            foreach (int length in new[] { 3, 7, 1000, 4096 })
            {
                var random = new Random(length);
                var input = new int[length];
                var output = new sbyte[length];
                var stats = new ErrorStatistics();
                for (int i = 0; i < length; i++)
                {
                    input[i] = random.Next(-40_000, 40_000);
                }

                var wide = SoftmaxPlan.Create(1e-4, 1.0);
                IntSoftmax.Softmax(input, output, wide);
                var real = new double[length];
                for (int i = 0; i < length; i++)
                {
                    real[i] = 1e-4 * input[i];
                }

                stats.Add(NonlinearReference.Softmax(real), output);
                _output.WriteLine($"softmax INT32 row of {length}: {stats}");
                stats.AssertWithin(maxError: 0.0045, meanError: 0.002, rowLength: length);
            }

            // Extreme INT32 logits: differences of almost 2^32 do not overflow.
            var extreme = new int[] { int.MinValue, int.MaxValue, 0, int.MaxValue - 1 };
            var extremeOut = new sbyte[4];
            IntSoftmax.Softmax(extreme, extremeOut, SoftmaxPlan.Create(1e-6));
            Assert.Equal(new sbyte[] { -128, 0, -128, 0 }, extremeOut);
            IntSoftmax.Softmax(extreme, extremeOut, SoftmaxPlan.Create(1e-9));
            var extremeStats = new ErrorStatistics();
            extremeStats.Add(NonlinearReference.Softmax(new[] { 1e-9 * int.MinValue, 1e-9 * int.MaxValue, 0, 1e-9 * (int.MaxValue - 1) }), extremeOut);
            _output.WriteLine($"softmax INT32 extremes at 1e-9: {extremeStats}");
            extremeStats.AssertWithin(maxError: 0.0045, meanError: 0.002, rowLength: 4);
            Assert.Throws<ArgumentException>(() => IntSoftmax.Softmax(ReadOnlySpan<int>.Empty, Span<sbyte>.Empty, plan));
        }

        [Fact]
        public void PlansAreEquatableAndDescribeTheirConstants()
        {
            Assert.Equal(SoftmaxPlan.Create(0.05, 0.125), SoftmaxPlan.Create(0.05, 0.125));
            Assert.Equal(SoftmaxPlan.Create(0.05, 0.125).GetHashCode(), SoftmaxPlan.Create(0.05, 0.125).GetHashCode());
            Assert.NotEqual(SoftmaxPlan.Create(0.05, 0.125), SoftmaxPlan.Create(0.05, 0.25));
            Assert.Equal(ExpPlan.Create(0.3), ExpPlan.Create(0.3));
            string text = SoftmaxPlan.Create(0.05, 0.125).Describe();
            _output.WriteLine(text);
            Assert.Contains("ln2 = ", text);
            Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxPlan.Create(0.05, -1));
        }

        /// <summary>
        /// Probability errors and row-sum deviations over many rows, next to a baseline: the exact probabilities
        /// rounded once to the same INT8 grid (scale 1/256, zero point -128, clamped at 127). The baseline is the
        /// floor that any 8-bit Softmax has: for flat rows of 128 (probabilities near 2/256) its mean error is
        /// already about a quarter of a step, 0.001.
        /// </summary>
        private sealed class ErrorStatistics
        {
            private double _max;
            private double _total;
            private double _baselineMax;
            private double _baselineTotal;
            private long _count;
            private int _maxSumDeviation;
            private int _maxBaselineSumDeviation;
            private int _maxSumDifference;

            public void Add(double[] exact, sbyte[] output)
            {
                int sum = 0;
                int baselineSum = 0;
                for (int i = 0; i < exact.Length; i++)
                {
                    int units = output[i] - SoftmaxPlan.OutputZeroPoint;
                    sum += units;
                    double error = Math.Abs(units * SoftmaxPlan.OutputScale - exact[i]);
                    _max = Math.Max(_max, error);
                    _total += error;

                    int baselineUnits = (int)Math.Min(255, Math.Round(exact[i] * 256, MidpointRounding.AwayFromZero));
                    baselineSum += baselineUnits;
                    double baselineError = Math.Abs(baselineUnits * SoftmaxPlan.OutputScale - exact[i]);
                    _baselineMax = Math.Max(_baselineMax, baselineError);
                    _baselineTotal += baselineError;
                    _count++;
                }

                _maxSumDeviation = Math.Max(_maxSumDeviation, Math.Abs(sum - 256));
                _maxBaselineSumDeviation = Math.Max(_maxBaselineSumDeviation, Math.Abs(baselineSum - 256));
                _maxSumDifference = Math.Max(_maxSumDifference, Math.Abs(sum - baselineSum));
            }

            /// <summary>
            /// Asserts the error bounds, the mean error within 0.0002 of the rounding baseline, and the row-sum
            /// tolerance <c>|sum(q - Z) - 256| &lt;= N / 2 + 1</c> (each output rounds by at most half a unit, and
            /// probability 1 saturates by one); the row sums also stay within 10 units of the baseline's row sums.
            /// </summary>
            public void AssertWithin(double maxError, double meanError, int rowLength)
            {
                double mean = _total / _count;
                Assert.True(_max <= maxError, $"max error {_max}");
                Assert.True(mean <= meanError, $"mean error {mean}");
                Assert.True(mean <= _baselineTotal / _count + 0.0002, $"mean error {mean}, rounding alone {_baselineTotal / _count}");
                Assert.True(_maxSumDeviation <= rowLength / 2 + 1, $"row sum off by {_maxSumDeviation}");
                Assert.True(_maxSumDifference <= 10, $"row sum differs from the rounded exact row sum by {_maxSumDifference}");
            }

            public override string ToString() =>
                $"max {_max:F6}, mean {_total / _count:F6} (rounding exact p alone: max {_baselineMax:F6}, mean {_baselineTotal / _count:F6}), " +
                $"max |sum(q - Z) - 256| {_maxSumDeviation} (rounded exact p: {_maxBaselineSumDeviation}; max difference {_maxSumDifference})";
        }
    }
}
