using System;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// A snapshot of a <see cref="HistogramCollector"/> as plain arrays, signed or folded onto |x|, with the
    /// per-histogram computations the calibrators share. Exact zeros are kept apart from the bin that holds them,
    /// as a point mass at 0.
    /// </summary>
    internal sealed class HistogramView
    {
        private HistogramView(double[] counts, double lower, double width, int zeroBin, double zeros, double min, double max, double total)
        {
            Counts = counts;
            Lower = lower;
            Width = width;
            ZeroBin = zeroBin;
            Zeros = zeros;
            Min = min;
            Max = max;
            Total = total;
        }

        /// <summary>Counts per bin, exact zeros excluded.</summary>
        public double[] Counts { get; }

        /// <summary>Lower edge of bin 0.</summary>
        public double Lower { get; }

        public double Width { get; }

        /// <summary>The index whose lower edge is 0 (may equal Counts.Length when every value is negative).</summary>
        public int ZeroBin { get; }

        public double Zeros { get; }

        public double Min { get; }

        public double Max { get; }

        public double Total { get; }

        public int Length => Counts.Length;

        public double Edge(int i) => Lower + i * Width;

        public double Center(int i) => Lower + (i + 0.5) * Width;

        public static HistogramView Signed(HistogramCollector h)
        {
            if (h.Count == 0) throw new InvalidOperationException($"{h.Name}: no values were collected.");
            if (h.BinWidth == 0)
            {
                return new HistogramView(new double[1], 0, 1, 0, h.ZeroCount, 0, 0, h.Count);
            }

            int first = 0, last = h.BinCount - 1;
            while (h[first] == 0) first++;
            while (h[last] == 0) last--;
            // Keep the bin at 0 inside the view, so that ranges can always start or end there.
            long zeroGlobal = 0;
            long lo = Math.Min(h.FirstBin + first, zeroGlobal), hi = Math.Max(h.FirstBin + last, zeroGlobal - 1);
            var counts = new double[hi - lo + 1];
            for (long g = Math.Max(lo, h.FirstBin); g <= Math.Min(hi, h.FirstBin + h.BinCount - 1); g++)
            {
                counts[g - lo] = h[(int)(g - h.FirstBin)];
            }

            int zeroBin = (int)(zeroGlobal - lo);
            if (zeroBin < counts.Length) counts[zeroBin] -= h.ZeroCount;
            return new HistogramView(counts, lo * h.BinWidth, h.BinWidth, zeroBin, h.ZeroCount, h.Min, h.Max, h.Count);
        }

        /// <summary>The histogram of |x|: bin g &lt; 0, <c>[g w, (g + 1) w)</c>, lands on bin <c>-g - 1</c>.</summary>
        public static HistogramView Folded(HistogramCollector h)
        {
            var s = Signed(h);
            int positive = s.Length - s.ZeroBin, negative = s.ZeroBin;
            var counts = new double[Math.Max(1, Math.Max(positive, negative))];
            for (int i = 0; i < s.Length; i++)
            {
                int f = i >= s.ZeroBin ? i - s.ZeroBin : s.ZeroBin - i - 1;
                counts[f] += s.Counts[i];
            }

            double maxAbs = Math.Max(Math.Abs(s.Min), Math.Abs(s.Max));
            return new HistogramView(counts, 0, s.Width, 0, s.Zeros, 0, maxAbs, s.Total);
        }

        /// <summary>The first and last bins holding a value (ZeroBin for a view of exact zeros only).</summary>
        public (int First, int Last) Occupied()
        {
            int first = 0, last = Length - 1;
            while (first < Length && Counts[first] == 0) first++;
            while (last >= 0 && Counts[last] == 0) last--;
            if (first > last) return (Math.Min(ZeroBin, Length - 1), Math.Min(ZeroBin, Length - 1));
            return (first, last);
        }

        /// <summary>
        /// Sum of squared quantization errors over every value: each bin's values are represented by its centre,
        /// exact zeros cost nothing (0 is always representable). The same INT8 clamp as at run time, [-128, 127].
        /// </summary>
        public double QuantizationError(QuantizationParameters p) => QuantizationError((double)p.Scale, p.ZeroPoint);

        public double QuantizationError(double scale, int zeroPoint)
        {
            double error = 0;
            double inverse = 1 / scale;
            for (int i = 0; i < Counts.Length; i++)
            {
                double c = Counts[i];
                if (c == 0) continue;
                double x = Center(i);
                double q = Math.Round(x * inverse, MidpointRounding.AwayFromZero) + zeroPoint;
                q = q < QuantizationMath.Int8Min ? QuantizationMath.Int8Min : q > QuantizationMath.Int8Max ? QuantizationMath.Int8Max : q;
                double d = x - scale * (q - zeroPoint);
                error += c * d * d;
            }

            return error;
        }

        /// <summary>Fraction of values whose bin centre lies outside what the parameters represent.</summary>
        public double ClippedFraction(QuantizationParameters p)
        {
            double lo = (double)p.Scale * (QuantizationMath.Int8Min - p.ZeroPoint) - 0.5 * p.Scale;
            double hi = (double)p.Scale * (QuantizationMath.Int8Max - p.ZeroPoint) + 0.5 * p.Scale;
            double clipped = 0;
            for (int i = 0; i < Counts.Length; i++)
            {
                double x = Center(i);
                if (x < lo || x > hi) clipped += Counts[i];
            }

            return clipped / Total;
        }

        /// <summary>
        /// The value below which a fraction <paramref name="p"/> of all values lie, interpolating linearly inside a
        /// bin; exact zeros are a point mass at 0 ahead of the other values of the bin at 0.
        /// </summary>
        public double Quantile(double p)
        {
            double target = p * Total, cumulative = 0;
            for (int i = 0; i < Counts.Length; i++)
            {
                if (i == ZeroBin)
                {
                    if (cumulative + Zeros >= target) return 0;
                    cumulative += Zeros;
                }

                double c = Counts[i];
                if (c > 0 && cumulative + c >= target)
                {
                    double x = Edge(i) + Width * (target - cumulative) / c;
                    return Math.Min(Math.Max(x, Min), Max);
                }

                cumulative += c;
            }

            return Max;
        }

        /// <summary>
        /// The bins [a, b) of a candidate range: its lower edge, or the exact minimum when the range reaches the
        /// lowest value (and likewise above), so that a range never extends beyond the data.
        /// </summary>
        public CalibrationRange RangeOf(int a, int b)
        {
            var (first, last) = Occupied();
            double lo = a <= first ? Math.Min(Min, 0) : Edge(a);
            double hi = b > last ? Math.Max(Max, 0) : Edge(b);
            return new CalibrationRange(Math.Min(lo, 0), Math.Max(hi, 0));
        }
    }
}
