using System;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Interpreter;
using Xunit;

namespace Gen.Tests.Calibration
{
    /// <summary>Each calibrator on synthetic distributions whose answer is known.</summary>
    public class CalibratorTests
    {
        internal static float Gaussian(Random rng) =>
            (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));

        private static float[] Samples(int seed, int n, Func<Random, float> draw)
        {
            var rng = new Random(seed);
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = draw(rng);
            return values;
        }

        private static HistogramCollector Collect(float[] values, int batch = 1000)
        {
            var h = new HistogramCollector("t");
            for (int i = 0; i < values.Length; i += batch) h.Add(values.AsSpan(i, Math.Min(batch, values.Length - i)));
            return h;
        }

        // The exact mean squared error of quantizing raw values with the parameters of a range.
        private static double ExactMse(float[] values, QuantizationParameters p)
        {
            double sum = 0;
            foreach (float v in values)
            {
                double d = v - QuantizationMath.Dequantize(QuantizationMath.Quantize(v, p.Scale, p.ZeroPoint), p.Scale, p.ZeroPoint);
                sum += d * d;
            }

            return sum / values.Length;
        }

        [Theory]
        [InlineData(RangeMode.Symmetric, false)]
        [InlineData(RangeMode.Asymmetric, false)]
        [InlineData(RangeMode.Asymmetric, true)]
        public void MseThresholdEqualsABruteForceSearch(RangeMode mode, bool relu)
        {
            // A heavy-tailed distribution, sign * exp(2 g), optionally through a ReLU.
            var values = Samples(1, 20000, r =>
            {
                float v = (r.Next(2) == 0 ? -1 : 1) * (float)Math.Exp(2 * Gaussian(r));
                return relu ? Math.Max(v, 0) : v;
            });
            var h = Collect(values);
            var chosen = new MseCalibrator().ChooseRange(h, mode);
            double chosenMse = ExactMse(values, chosen.ToParameters(mode));

            // Brute force on the raw values: 1001 thresholds on a log grid from max / 1000 to max (the upper end; for a two-sided
            // asymmetric range, both ends scaled from the observed ones).
            double bestMse = double.PositiveInfinity, bestT = 0;
            double maxAbs = Math.Max(-h.Min, h.Max);
            for (int i = 0; i <= 1000; i++)
            {
                double f = Math.Pow(10, -3 + 3 * i / 1000.0);
                var range = mode == RangeMode.Symmetric ? new CalibrationRange(-f * maxAbs, f * maxAbs) : new CalibrationRange(f * h.Min, f * h.Max);
                double mse = ExactMse(values, range.ToParameters(mode));
                if (mse < bestMse)
                {
                    bestMse = mse;
                    bestT = range.Max;
                }
            }

            Assert.True(chosenMse <= bestMse * 1.01, $"MSE calibrator: {chosenMse:G6} at {chosen}; brute force: {bestMse:G6} at {bestT:G6}");
            Assert.InRange(chosen.Max, bestT * 0.9, bestT * 1.1);
        }

        [Fact]
        public void EntropyClipsHeavyOutliersThatMaxKeeps()
        {
            var values = Samples(2, 50000, Gaussian);
            for (int i = 0; i < 5; i++) values[i * 9973] = 60 + i; // five huge outliers
            var h = Collect(values);
            var max = new MaxCalibrator().ChooseRange(h, RangeMode.Symmetric);
            var entropy = new EntropyCalibrator().ChooseRange(h, RangeMode.Symmetric);
            Assert.Equal(64, max.Threshold, 3);
            Assert.InRange(entropy.Threshold, 2.5, 8);
            var asymmetric = new EntropyCalibrator().ChooseRange(h, RangeMode.Asymmetric);
            Assert.InRange(asymmetric.Max, 2.5, 16); // 256 levels over at least 256 bins keep a wider range
            Assert.InRange(asymmetric.Min, -10, -2.5);
        }

        [Theory]
        [InlineData(99.0)]
        [InlineData(99.9)]
        [InlineData(99.99)]
        public void PercentileMatchesTheExactQuantile(double percentile)
        {
            var values = Samples(3, 40000, r => Gaussian(r) * 2 + 0.5f);
            var sorted = values.OrderBy(v => v).ToArray();
            double fraction = percentile / 100;
            double exactUpper = sorted[(int)Math.Ceiling(fraction * sorted.Length) - 1];
            double exactLower = sorted[(int)Math.Ceiling((1 - fraction) * sorted.Length) - 1];
            Assert.Equal(exactUpper, PercentileCalibrator.ExactQuantile(values, fraction));

            var h = Collect(values);
            var range = new PercentileCalibrator(percentile).ChooseRange(h, RangeMode.Asymmetric);
            Assert.InRange(range.Max, exactUpper - h.BinWidth, exactUpper + h.BinWidth);
            Assert.InRange(range.Min, exactLower - h.BinWidth, exactLower + h.BinWidth);

            var abs = values.Select(Math.Abs).OrderBy(v => v).ToArray();
            double exactAbs = abs[(int)Math.Ceiling(fraction * abs.Length) - 1];
            var symmetric = new PercentileCalibrator(percentile).ChooseRange(h, RangeMode.Symmetric);
            Assert.InRange(symmetric.Threshold, exactAbs - h.BinWidth, exactAbs + h.BinWidth);
        }

        [Fact]
        public void PercentileTreatsExactZerosAsAPointMass()
        {
            // 70 % zeros (a ReLU output): the 50th percentile is 0, not somewhere inside the first bin.
            var values = Samples(4, 10000, r => r.NextDouble() < 0.7 ? 0f : (float)r.NextDouble());
            var h = Collect(values);
            Assert.Equal(0, new PercentileCalibrator(50).ChooseRange(h, RangeMode.Asymmetric).Max);
            Assert.InRange(h.ZeroCount, 6850, 7150);
        }

        [Fact]
        public void MovingAverageMaxFollowsTheBatchRanges()
        {
            var h = new HistogramCollector("t", movingAverageConstant: 0.5);
            h.Add(new[] { -1f, 1f });
            h.Add(new[] { -3f, 2f });
            h.Add(new[] { -1f, 3f, 0.5f });
            // min: -1, then -1 + 0.5 (-3 + 1) = -2, then -2 + 0.5 (-1 + 2) = -1.5; max: 1, 1.5, 2.25.
            var ma = new MaxCalibrator(movingAverage: true).ChooseRange(h, RangeMode.Asymmetric);
            Assert.Equal(-1.5, ma.Min, 12);
            Assert.Equal(2.25, ma.Max, 12);
            var plain = new MaxCalibrator().ChooseRange(h, RangeMode.Asymmetric);
            Assert.Equal(-3, plain.Min);
            Assert.Equal(3, plain.Max);
            Assert.Equal(3, h.BatchCount);
        }

        [Fact]
        public void SymmetricAndAsymmetricParameters()
        {
            var h = new HistogramCollector("t");
            h.Add(new[] { -1f, 0.25f, 3f });
            var range = new MaxCalibrator().ChooseRange(h, RangeMode.Asymmetric);
            Assert.Equal(QuantizationMath.ChooseAsymmetric(-1, 3), range.ToParameters(RangeMode.Asymmetric));
            var asymmetric = range.ToParameters(RangeMode.Asymmetric);
            Assert.Equal(4f / 255, asymmetric.Scale, 6);
            Assert.Equal(-64, asymmetric.ZeroPoint); // -128 + 1 / (4 / 255) = -64.25, rounded
            var symmetric = new MaxCalibrator().ChooseRange(h, RangeMode.Symmetric).ToParameters(RangeMode.Symmetric);
            Assert.Equal(new QuantizationParameters(3f / 127, 0), symmetric);
            // A range that does not contain 0 is widened to contain it.
            var positive = new CalibrationRange(2, 5);
            Assert.Equal(0, positive.Min);
            // Per-channel weight scales from a calibrator: max equals the generator's scales.
            var w = Samples(5, 4 * 64, Gaussian);
            Assert.Equal(QuantizationMath.ChooseSymmetricPerChannel(w, 4), WeightCalibration.PerChannel(w, 4, new MaxCalibrator()));
            var mse = WeightCalibration.PerChannel(w, 4, new MseCalibrator());
            Assert.All(mse.Zip(QuantizationMath.ChooseSymmetricPerChannel(w, 4)), p => Assert.True(p.First <= p.Second * 1.0001f));
        }

        [Fact]
        public void HistogramGrowsWithoutLosingCounts()
        {
            var h = new HistogramCollector("t", binCount: 64);
            h.Add(new[] { 0.1f, 0.2f, 0.3f });
            double firstWidth = h.BinWidth;
            h.Add(new[] { -5f, 40f, 0f });
            h.Add(new[] { 1000f });
            Assert.True(h.BinWidth > firstWidth);
            long total = 0;
            for (int i = 0; i < h.BinCount; i++) total += h[i];
            Assert.Equal(7, total);
            Assert.Equal(7, h.Count);
            Assert.Equal(-5, h.Min);
            Assert.Equal(1000, h.Max);
            Assert.Equal(1, h.ZeroCount);
            // Every value lies in the bins held.
            Assert.True(h.BinLower(0) <= -5 && h.BinLower(h.BinCount - 1) + h.BinWidth > 1000);
            Assert.Throws<ArgumentException>(() => h.Add(new[] { float.NaN }));
            Assert.Throws<InvalidOperationException>(() => new MseCalibrator().ChooseRange(new HistogramCollector("empty"), RangeMode.Asymmetric));
        }

        [Fact]
        public void AllZeroTensorGetsADegenerateButValidRange()
        {
            var h = new HistogramCollector("t");
            h.Add(new float[100]);
            foreach (string m in new[] { "max", "max-ma", "percentile", "mse", "entropy" })
            {
                var r = CalibrationMethods.Create(m).ChooseRange(h, RangeMode.Asymmetric);
                Assert.Equal(0, r.Min);
                Assert.Equal(0, r.Max);
                Assert.Equal(new QuantizationParameters(1f, 0), r.ToParameters(RangeMode.Asymmetric));
            }
        }

        [Fact]
        public void EasyQuantDoesNotWorsenCosineSimilarityOverMax()
        {
            // A layer whose inputs have rare large outliers: max wastes the grid on them.
            var rng = new Random(6);
            int k = 64, n = 16, rows = 400;
            var w1 = Samples(7, n * k, r => Gaussian(r) * 0.2f);
            var w2 = Samples(8, 4 * n, r => Gaussian(r) * 0.3f);
            var model = new FloatModel(new[]
            {
                new FloatDense("a", k, n, FusedActivation.Relu, w1, new float[n]),
                new FloatDense("b", n, 4, FusedActivation.None, w2, null),
            });
            var data = new float[rows * k];
            for (int i = 0; i < data.Length; i++) data[i] = rng.NextDouble() < 0.002 ? 30 * Gaussian(rng) : Gaussian(rng);
            var stats = ActivationStatistics.Collect(model, data, 100);
            var max = ActivationCalibration.Calibrate(stats, new MaxCalibrator());
            var eq = EasyQuant.Calibrate(stats, data);
            // Per activation: the input, then the outputs of a and b.
            double[] maxCos = CalibrationMetrics.CosineSimilarities(model, max.Quantize(model), data);
            double[] eqCos = CalibrationMetrics.CosineSimilarities(model, eq.Quantize(model), data);
            Assert.True(eqCos[2] >= maxCos[2] - 1e-4, $"EasyQuant {eqCos[2]:F6} vs max {maxCos[2]:F6}");
            Assert.True(eqCos[1] >= maxCos[1] - 1e-4, $"EasyQuant {eqCos[1]:F6} vs max {maxCos[1]:F6}");
            Assert.True(eqCos[2] > maxCos[2], $"EasyQuant should improve here: {eqCos[2]:F6} vs {maxCos[2]:F6}");
            Assert.False(eq.UsesGeneratorWeightScales);
        }

        [Fact]
        public void AttributeTextRoundTripsEveryFloat()
        {
            foreach (float f in new[] { 0.061932486f, 1e-7f, 3f, 0.1f, 123456.79f })
            {
                string literal = CalibrationWriters.FloatLiteral(f);
                Assert.EndsWith("f", literal, StringComparison.Ordinal);
                Assert.Equal(f, float.Parse(literal.TrimEnd('f'), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
