using System;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Max calibration: the observed range, or (with <c>movingAverage</c>) the moving averages of the per-batch
    /// minimum and maximum, as PyTorch's <c>MovingAverageMinMaxObserver</c>. Nothing is clipped by the plain form.
    /// </summary>
    public sealed class MaxCalibrator : ICalibrator
    {
        /// <summary>Creates a max calibrator.</summary>
        /// <param name="movingAverage">Use the moving averages of the batch min and max instead of the global ones.</param>
        public MaxCalibrator(bool movingAverage = false) => MovingAverage = movingAverage;

        /// <summary>Whether the moving averages are used.</summary>
        public bool MovingAverage { get; }

        /// <inheritdoc />
        public string Name => MovingAverage ? "max (moving average)" : "max";

        /// <inheritdoc />
        public CalibrationRange ChooseRange(HistogramCollector statistics, RangeMode mode)
        {
            if (statistics.Count == 0) throw new InvalidOperationException($"{statistics.Name}: no values were collected.");
            double lo = MovingAverage ? statistics.MovingAverageMin : statistics.Min;
            double hi = MovingAverage ? statistics.MovingAverageMax : statistics.Max;
            if (mode == RangeMode.Symmetric)
            {
                double t = Math.Max(Math.Abs(lo), Math.Abs(hi));
                return new CalibrationRange(-t, t);
            }

            return new CalibrationRange(lo, hi);
        }
    }

    /// <summary>
    /// Percentile calibration: the range that keeps a given percentage of the values. Symmetric: the percentile of
    /// |x|. Asymmetric: the upper percentile for the maximum and the complementary lower one for the minimum.
    /// Read from the histogram with linear interpolation inside a bin, so it is within one bin width of the exact
    /// quantile (<see cref="ExactQuantile"/>).
    /// </summary>
    public sealed class PercentileCalibrator : ICalibrator
    {
        /// <summary>Creates a percentile calibrator.</summary>
        /// <param name="percentile">The percentage of values to keep, in (0, 100], e.g. 99.99.</param>
        public PercentileCalibrator(double percentile = 99.99)
        {
            if (!(percentile > 0 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile lies in (0, 100].");
            Percentile = percentile;
        }

        /// <summary>The percentage kept.</summary>
        public double Percentile { get; }

        /// <inheritdoc />
        public string Name => "percentile " + Percentile.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

        /// <inheritdoc />
        public CalibrationRange ChooseRange(HistogramCollector statistics, RangeMode mode)
        {
            double p = Percentile / 100;
            if (mode == RangeMode.Symmetric)
            {
                double t = HistogramView.Folded(statistics).Quantile(p);
                return new CalibrationRange(-t, t);
            }

            var view = HistogramView.Signed(statistics);
            double lo = statistics.Min < 0 ? Math.Min(0, view.Quantile(1 - p)) : 0;
            double hi = statistics.Max > 0 ? Math.Max(0, view.Quantile(p)) : 0;
            return new CalibrationRange(lo, hi);
        }

        /// <summary>
        /// The exact quantile of raw values by the nearest-rank rule: the smallest value <c>x</c> with at least a
        /// fraction <paramref name="fraction"/> of the values at or below it (sorted[ceil(fraction * n) - 1]).
        /// </summary>
        public static double ExactQuantile(ReadOnlySpan<float> values, double fraction)
        {
            if (values.IsEmpty) throw new ArgumentException("No values.", nameof(values));
            var sorted = values.ToArray();
            Array.Sort(sorted);
            int rank = (int)Math.Ceiling(fraction * sorted.Length);
            return sorted[Math.Min(Math.Max(rank, 1), sorted.Length) - 1];
        }
    }

    /// <summary>
    /// MSE calibration: the range whose INT8 grid (the actual scale and zero point it yields, with the run-time
    /// rounding and clamp) minimizes the mean squared error between the values and their quantized versions,
    /// estimated from the histogram (each bin's values at its centre; exact zeros are free). Every bin edge is a
    /// candidate.
    /// </summary>
    public sealed class MseCalibrator : ICalibrator
    {
        /// <inheritdoc />
        public string Name => "mse";

        /// <inheritdoc />
        public CalibrationRange ChooseRange(HistogramCollector statistics, RangeMode mode)
        {
            bool symmetric = mode == RangeMode.Symmetric;
            var view = symmetric ? HistogramView.Folded(statistics) : HistogramView.Signed(statistics);
            return RangeSearch.Run(view, symmetric, 1, (a, b) =>
            {
                var range = symmetric ? view.RangeOf(0, b) : view.RangeOf(a, b);
                return view.QuantizationError(range.ToParameters(mode));
            });
        }

        /// <summary>The mean squared quantization error of the collected values under <paramref name="parameters"/>, from the histogram.</summary>
        public static double Error(HistogramCollector statistics, QuantizationParameters parameters) =>
            HistogramView.Signed(statistics).QuantizationError(parameters) / statistics.Count;
    }

    /// <summary>
    /// Entropy calibration as TensorRT's calibrator: for each candidate threshold, the reference distribution P is
    /// the histogram clipped to it (outliers added to the edge bins) and Q is that histogram without the outliers
    /// merged into as many groups as there are INT8 levels (128 on |x| for symmetric, 256 for asymmetric) and
    /// spread back over the non-empty bins of each group; the threshold minimizing KL(P || Q) wins. A heavy
    /// outlier that max calibration would keep is clipped.
    /// </summary>
    public sealed class EntropyCalibrator : ICalibrator
    {
        /// <inheritdoc />
        public string Name => "entropy";

        /// <inheritdoc />
        public CalibrationRange ChooseRange(HistogramCollector statistics, RangeMode mode)
        {
            bool symmetric = mode == RangeMode.Symmetric;
            var view = symmetric ? HistogramView.Folded(statistics) : HistogramView.Signed(statistics);
            int levels = symmetric ? 128 : 256;
            var counts = (double[])view.Counts.Clone();
            if (view.ZeroBin < counts.Length) counts[view.ZeroBin] += view.Zeros;
            var prefix = new double[counts.Length + 1];
            for (int i = 0; i < counts.Length; i++) prefix[i + 1] = prefix[i] + counts[i];
            var sums = new double[levels];
            var nonEmpty = new int[levels];
            return RangeSearch.Run(view, symmetric, levels, (a, b) => Divergence(counts, prefix, a, b, levels, sums, nonEmpty));
        }

        // KL(P || Q) for the bins [a, b). As MXNet's variant of TensorRT's calibrator, Q is spread over the bins
        // where P is non-zero and a bin where P has mass but Q has none gets a small epsilon, so that thresholds whose
        // edge bin is empty but receives outliers stay comparable instead of infinite.
        private static double Divergence(double[] counts, double[] prefix, int a, int b, int levels, double[] sums, int[] nonEmpty)
        {
            const double epsilon = 1e-7;
            int n = b - a;
            if (n < levels) return double.PositiveInfinity;
            Array.Clear(sums, 0, levels);
            Array.Clear(nonEmpty, 0, levels);
            double below = prefix[a], above = prefix[counts.Length] - prefix[b];
            for (int i = 0; i < n; i++)
            {
                double c = counts[a + i];
                double p = c + (i == 0 ? below : 0) + (i == n - 1 ? above : 0);
                int j = (int)((long)i * levels / n);
                sums[j] += c;
                if (p != 0) nonEmpty[j]++;
            }

            double pTotal = prefix[counts.Length], qTotal = prefix[b] - prefix[a];
            if (qTotal == 0) return double.PositiveInfinity;
            double kl = 0;
            for (int i = 0; i < n; i++)
            {
                double c = counts[a + i];
                double p = c + (i == 0 ? below : 0) + (i == n - 1 ? above : 0);
                if (p == 0) continue;
                int j = (int)((long)i * levels / n);
                double pn = p / pTotal, qn = Math.Max(sums[j] / nonEmpty[j] / qTotal, epsilon);
                kl += pn * Math.Log(pn / qn);
            }

            return kl;
        }
    }
}
