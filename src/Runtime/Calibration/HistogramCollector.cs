using System;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Streams the values of one tensor into a histogram whose range grows as data arrives, and keeps the exact
    /// statistics the calibrators need besides: count, min, max, sum of squares, the number of exact zeros and
    /// moving averages of the per-batch min and max.
    /// </summary>
    /// <remarks>
    /// Bin <c>g</c> (a global index, possibly negative) covers <c>[g * w, (g + 1) * w)</c>, so 0 is always a bin edge
    /// and folding the histogram onto |x| is exact. At most <see cref="BinCount"/> consecutive bins are held. When a
    /// value falls outside them, the width doubles and neighbouring bins merge pairwise (edges stay multiples of the
    /// new width) until the data fits: counts are never approximated, only the resolution coarsens. After any growth
    /// the data still spans at least half of the bins.
    /// </remarks>
    public sealed class HistogramCollector
    {
        private readonly long[] _counts;
        private double _width;   // 0 until a non-zero value arrives
        private long _start;     // global index of _counts[0]
        private long _zerosBeforeWidth;

        /// <summary>Creates an empty collector.</summary>
        /// <param name="name">The tensor's name, for reports.</param>
        /// <param name="binCount">Bins held at once (TensorRT uses 2048); at least 16 and even.</param>
        /// <param name="movingAverageConstant">The weight of a new batch in the moving averages of the batch
        /// min and max (PyTorch's <c>averaging_constant</c>, 0.01 by default), in (0, 1].</param>
        public HistogramCollector(string name, int binCount = 2048, double movingAverageConstant = 0.01)
        {
            if (binCount < 16 || binCount % 2 != 0) throw new ArgumentOutOfRangeException(nameof(binCount), binCount, "Use an even number of bins, at least 16.");
            if (!(movingAverageConstant > 0 && movingAverageConstant <= 1)) throw new ArgumentOutOfRangeException(nameof(movingAverageConstant), movingAverageConstant, "The averaging constant must lie in (0, 1].");
            Name = name;
            _counts = new long[binCount];
            MovingAverageConstant = movingAverageConstant;
            Min = double.PositiveInfinity;
            Max = double.NegativeInfinity;
        }

        /// <summary>The tensor's name.</summary>
        public string Name { get; }

        /// <summary>Bins held at once.</summary>
        public int BinCount => _counts.Length;

        /// <summary>The weight of each new batch in <see cref="MovingAverageMin"/> and <see cref="MovingAverageMax"/>.</summary>
        public double MovingAverageConstant { get; }

        /// <summary>Values seen.</summary>
        public long Count { get; private set; }

        /// <summary>Values seen that are exactly 0 (ReLU outputs are often half zeros).</summary>
        public long ZeroCount { get; private set; }

        /// <summary>Batches seen (calls of <see cref="Add"/> with at least one value).</summary>
        public long BatchCount { get; private set; }

        /// <summary>The smallest value seen (+infinity before any).</summary>
        public double Min { get; private set; }

        /// <summary>The largest value seen (-infinity before any).</summary>
        public double Max { get; private set; }

        /// <summary>Sum of squares of every value seen (the signal power times <see cref="Count"/>).</summary>
        public double SumOfSquares { get; private set; }

        /// <summary>Moving average of the per-batch minimum: the first batch's, then <c>m += c * (batchMin - m)</c>.</summary>
        public double MovingAverageMin { get; private set; }

        /// <summary>Moving average of the per-batch maximum.</summary>
        public double MovingAverageMax { get; private set; }

        /// <summary>The width of every bin (0 while every value seen is 0).</summary>
        public double BinWidth => _width;

        /// <summary>The global index of bin 0: bin i covers <c>[(FirstBin + i) * BinWidth, (FirstBin + i + 1) * BinWidth)</c>.</summary>
        public long FirstBin => _start;

        /// <summary>The lower edge of bin i.</summary>
        public double BinLower(int i) => (_start + i) * _width;

        /// <summary>The count of bin i (exact zeros are counted in the bin whose lower edge is 0).</summary>
        public long this[int i] => _counts[i];

        /// <summary>Adds one batch of values.</summary>
        /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
        public void Add(ReadOnlySpan<float> values)
        {
            if (values.IsEmpty) return;
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity, squares = 0;
            long zeros = 0;
            for (int i = 0; i < values.Length; i++)
            {
                float v = values[i];
                if (float.IsNaN(v) || float.IsInfinity(v))
                {
                    throw new ArgumentException($"{Name}: value {i} of the batch is {v}; calibration needs finite values.", nameof(values));
                }

                if (v < lo) lo = v;
                if (v > hi) hi = v;
                squares += (double)v * v;
                if (v == 0) zeros++;
            }

            if (BatchCount == 0)
            {
                MovingAverageMin = lo;
                MovingAverageMax = hi;
            }
            else
            {
                MovingAverageMin += MovingAverageConstant * (lo - MovingAverageMin);
                MovingAverageMax += MovingAverageConstant * (hi - MovingAverageMax);
            }

            BatchCount++;
            Count += values.Length;
            ZeroCount += zeros;
            SumOfSquares += squares;
            Min = Math.Min(Min, lo);
            Max = Math.Max(Max, hi);

            if (Min == 0 && Max == 0)
            {
                _zerosBeforeWidth += values.Length;
                return;
            }

            if (_width == 0)
            {
                // First non-zero data: spread [min(Min, 0), max(Max, 0)] over all bins.
                double a = Math.Min(Min, 0), b = Math.Max(Max, 0);
                _width = (b - a) / (BinCount - 1);
                _start = (long)Math.Floor(a / _width);
                _counts[0 - _start] += _zerosBeforeWidth;
                _zerosBeforeWidth = 0;
            }

            Cover(Index(lo), Index(hi));
            for (int i = 0; i < values.Length; i++)
            {
                _counts[Index(values[i]) - _start]++;
            }
        }

        private long Index(double v) => (long)Math.Floor(v / _width);

        // Doubles the width until global bins [gLo, gHi] fit together with every occupied bin, then slides the
        // window over them if needed.
        private void Cover(long gLo, long gHi)
        {
            while (true)
            {
                int first = 0, last = BinCount - 1;
                while (first < BinCount && _counts[first] == 0) first++;
                while (last >= 0 && _counts[last] == 0) last--;
                long lo = first <= last ? Math.Min(_start + first, gLo) : gLo;
                long hi = first <= last ? Math.Max(_start + last, gHi) : gHi;
                if (hi - lo < BinCount)
                {
                    if (lo < _start) Slide(lo);
                    else if (hi >= _start + BinCount) Slide(hi - BinCount + 1);
                    return;
                }

                var merged = new long[BinCount];
                long start = FloorDiv(_start, 2);
                for (int i = 0; i < BinCount; i++)
                {
                    if (_counts[i] != 0) merged[FloorDiv(_start + i, 2) - start] += _counts[i];
                }

                Array.Copy(merged, _counts, BinCount);
                _start = start;
                _width *= 2;
                gLo = FloorDiv(gLo, 2);
                gHi = FloorDiv(gHi, 2);
            }
        }

        private void Slide(long newStart)
        {
            var moved = new long[BinCount];
            for (int i = 0; i < BinCount; i++)
            {
                if (_counts[i] == 0) continue;
                moved[_start + i - newStart] += _counts[i];
            }

            Array.Copy(moved, _counts, BinCount);
            _start = newStart;
        }

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    }
}
