using System;
using System.Numerics;

namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Integer-only LayerNorm of one row with the constants of a <see cref="LayerNormPlan"/>: exact integer mean and
    /// variance, <see cref="IntSqrt.Floor(ulong)"/>, integer division, then gamma and beta folded into the INT8
    /// output requantization. Only int and long arithmetic.
    /// </summary>
    /// <remarks>
    /// <para>
    /// For a row q_0..q_(N-1) (INT32, or INT8 with any zero point; both the scale and the zero point cancel):
    /// </para>
    /// <list type="number">
    /// <item><description>sum = sum of q (|sum| &lt;= N 2^31 &lt;= 2^55).</description></item>
    /// <item><description>D_i = N q_i - sum = N (q_i - mean) exactly, no rounded mean
    /// (|D_i| &lt;= (N - 1)(2^32 - 1) &lt; 2^56).</description></item>
    /// <item><description>E_i = D_i / 2^s rounded, with the smallest s for which |E_i| &lt;= 2^31 / N; then
    /// W = N * sum(E_i^2) &lt;= N^2 max(E)^2 &lt;= 2^62 (for INT8 rows of up to about 2,900 values, s = 0 and nothing is
    /// rounded).</description></item>
    /// <item><description>R = IntSqrt(W * 4^m) with the largest m that keeps W 4^m below 2^62, so R is in
    /// [2^30, 2^31): R / 2^m = sqrt(W) = N sqrt(N) std / 2^s.</description></item>
    /// <item><description>One division per row, as I-BERT does: the reciprocal <c>F = floor(2^(62 - c) / R)</c> with
    /// <c>c = 1 + ceil(ceil(log2 N) / 2)</c> guard bits (<see cref="LayerNormPlan.ReciprocalGuardBits"/>), so F is in
    /// (2^(31 - c), 2^(32 - c)].</description></item>
    /// <item><description>n_i = (q_i - mean) / std = E_i N 2^m / R at 16 fractional bits:
    /// <c>(A_i F + 2^(45 - c)) &gt;&gt; (46 - c)</c> with <c>A_i = E_i N 2^m</c> (rounding half up). |A_i| &lt; sqrt(N) 2^31
    /// &lt;= 2^(30 + c), so |A_i F| &lt; 2^62. |n_i| &lt;= sqrt(N - 1), so the Q16 value fits an int.</description></item>
    /// </list>
    /// <para>
    /// A row with zero variance (all values equal) has W = 0: every n_i is 0 and nothing is divided.
    /// The error of n_i is its final rounding, 2^-17, plus at most about 2^-20 relative from E and R and
    /// <c>sqrt(N) 2^(c - 31)</c> from the reciprocal (1e-6 at N = 768).
    /// </para>
    /// </remarks>
    public static class IntLayerNorm
    {
        /// <summary>
        /// The normalized row <c>(q_i - mean) / std</c> as integers at scale 2^-16
        /// (<see cref="LayerNormPlan.NormalizedFractionBits"/>); all zero for a row of equal values.
        /// </summary>
        /// <exception cref="ArgumentException">The row is empty, wider than <see cref="LayerNormPlan.MaxWidth"/>, or the
        /// spans differ in length.</exception>
        public static void Normalize(ReadOnlySpan<int> input, Span<int> normalized)
        {
            CheckLengths(input.Length, normalized.Length);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                normalized[i] = statistics.Normalized(input[i]);
            }
        }

        /// <summary>The normalized INT8 row at scale 2^-16 (the zero point cancels; see <see cref="Normalize(ReadOnlySpan{int}, Span{int})"/>).</summary>
        /// <exception cref="ArgumentException">The row is empty, wider than <see cref="LayerNormPlan.MaxWidth"/>, or the
        /// spans differ in length.</exception>
        public static void Normalize(ReadOnlySpan<sbyte> input, Span<int> normalized)
        {
            CheckLengths(input.Length, normalized.Length);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                normalized[i] = statistics.Normalized(input[i]);
            }
        }

        /// <summary>LayerNorm of an INT32 row, INT8 out at the plan's output scale and zero point.</summary>
        /// <exception cref="ArgumentException">The row's width is not the plan's, or the spans differ in length.</exception>
        public static void LayerNorm(ReadOnlySpan<int> input, Span<sbyte> output, LayerNormPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            CheckWidth(input.Length, plan);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = Affine(statistics.Normalized(input[i]), i, plan);
            }
        }

        /// <summary>LayerNorm of an INT8 row (any zero point), INT8 out at the plan's output scale and zero point.</summary>
        /// <exception cref="ArgumentException">The row's width is not the plan's, or the spans differ in length.</exception>
        public static void LayerNorm(ReadOnlySpan<sbyte> input, Span<sbyte> output, LayerNormPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            CheckWidth(input.Length, plan);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = Affine(statistics.Normalized(input[i]), i, plan);
            }
        }

        /// <summary>LayerNorm of an INT32 row, INT32 out (a wide value: zero point 0, clamped to INT32 only).</summary>
        /// <exception cref="ArgumentException">The row's width is not the plan's, or the spans differ in length.</exception>
        public static void LayerNorm(ReadOnlySpan<int> input, Span<int> output, LayerNormPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            CheckWidth(input.Length, plan);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = AffineWide(statistics.Normalized(input[i]), i, plan);
            }
        }

        /// <summary>LayerNorm of an INT8 row (any zero point), INT32 out (a wide value).</summary>
        /// <exception cref="ArgumentException">The row's width is not the plan's, or the spans differ in length.</exception>
        public static void LayerNorm(ReadOnlySpan<sbyte> input, Span<int> output, LayerNormPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            CheckWidth(input.Length, plan);
            var statistics = RowStatistics.Compute(input);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = AffineWide(statistics.Normalized(input[i]), i, plan);
            }
        }

        /// <summary>
        /// <see cref="Affine"/> for a wide output: <c>(n * G_c + B_c + 2^(T - 1)) &gt;&gt; T</c> (the plan's zero point is 0),
        /// clamped to INT32.
        /// </summary>
        public static int AffineWide(int normalized, int channel, LayerNormPlan plan)
        {
            int shift = plan.OutputShift;
            long value = ((long)normalized * plan.GammaMultiplierArray[channel] + plan.BetaOffsetArray[channel]
                + (1L << (shift - 1))) >> shift;
            return (int)(value < int.MinValue ? int.MinValue : value > int.MaxValue ? int.MaxValue : value);
        }

        /// <summary>
        /// gamma and beta of one channel and the INT8 requantization, rounded once:
        /// <c>clamp(Z_out + ((n * G_c + B_c + 2^(T - 1)) &gt;&gt; T), -128, 127)</c> for a Q16 normalized value n.
        /// The plan chose T so that |n G_c| + |B_c| + 2^(T - 1) fits a long for every |n| &lt;= sqrt(N) 2^16 + 1.
        /// </summary>
        public static sbyte Affine(int normalized, int channel, LayerNormPlan plan)
        {
            int shift = plan.OutputShift;
            long value = ((long)normalized * plan.GammaMultiplierArray[channel] + plan.BetaOffsetArray[channel]
                + (1L << (shift - 1))) >> shift;
            long q = value + plan.OutputZeroPoint;
            return (sbyte)(q < -128 ? -128 : q > 127 ? 127 : q);
        }

        private static void CheckLengths(int input, int output)
        {
            if (input == 0 || input > LayerNormPlan.MaxWidth)
            {
                throw new ArgumentException($"A LayerNorm row needs 1 to {LayerNormPlan.MaxWidth} elements, not {input}.");
            }

            if (input != output)
            {
                throw new ArgumentException($"The output holds {output} values but the input has {input}.");
            }
        }

        private static void CheckWidth(int width, LayerNormPlan plan)
        {
            if (width != plan.Width)
            {
                throw new ArgumentException($"The row has {width} values but the plan is for width {plan.Width}.");
            }
        }

        /// <summary>The per-row integers of the normalization (steps 1 to 5 of the remarks).</summary>
        private readonly struct RowStatistics
        {
            private readonly long _width;
            private readonly long _sum;
            private readonly int _shift;
            private readonly int _sqrtShift;
            private readonly long _reciprocal;
            private readonly int _guardBits;

            private RowStatistics(long width, long sum, int shift, int sqrtShift, long reciprocal, int guardBits)
            {
                _width = width;
                _sum = sum;
                _shift = shift;
                _sqrtShift = sqrtShift;
                _reciprocal = reciprocal;
                _guardBits = guardBits;
            }

            public static RowStatistics Compute<T>(ReadOnlySpan<T> row)
                where T : struct, IBinaryInteger<T>
            {
                long n = row.Length;

                // 1. The sum: |sum| <= 2^24 * 2^31 = 2^55.
                long sum = 0;
                foreach (T q in row)
                {
                    sum += long.CreateTruncating(q);
                }

                // 2. max |D_i|, D_i = N q_i - sum: |N q_i| <= 2^55 and |D_i| < N 2^32 <= 2^56.
                long maxAbs = 0;
                foreach (T q in row)
                {
                    maxAbs = Math.Max(maxAbs, Math.Abs(n * long.CreateTruncating(q) - sum));
                }

                if (maxAbs == 0)
                {
                    return new RowStatistics(n, sum, 0, 0, 0, 0);
                }

                // 3. The smallest s with max |E_i| <= 2^31 / N, bounding max|E| by (maxAbs >> s) + 1 (rounding adds at
                // most one). Then W = N * sum(E^2) <= N^2 (2^31 / N)^2 = 2^62.
                long limit = (1L << 31) / n;
                int s = 0;
                while ((maxAbs >> s) + 1 > limit)
                {
                    s++;
                }

                long sumOfSquares = 0;
                foreach (T q in row)
                {
                    long e = RoundingShift(n * long.CreateTruncating(q) - sum, s);
                    sumOfSquares += e * e;
                }

                long w = n * sumOfSquares;
                if (w == 0)
                {
                    return new RowStatistics(n, sum, 0, 0, 0, 0);
                }

                // 4. W * 4^m in [2^60, 2^62): m = floor((62 - bits(W)) / 2), bits(W) <= 63.
                int bits = 64 - BitOperations.LeadingZeroCount((ulong)w);
                int m = (62 - bits) / 2;
                long root = IntSqrt.Floor((ulong)w << (2 * m));

                // 5. The row's one division: F = floor(2^(62 - c) / R), R in [2^30, 2^31).
                int c = LayerNormPlan.ReciprocalGuardBits(row.Length);
                return new RowStatistics(n, sum, s, m, (1L << (62 - c)) / root, c);
            }

            /// <summary>6. n_i = E_i N 2^m / R at scale 2^-16 via the row reciprocal, rounded half up; 0 for a constant row.</summary>
            public int Normalized<T>(T q)
                where T : struct, IBinaryInteger<T>
            {
                if (_reciprocal == 0)
                {
                    return 0;
                }

                long e = RoundingShift(_width * long.CreateTruncating(q) - _sum, _shift);
                // |A| = |e N| 2^m < sqrt(N) 2^31 <= 2^(30 + c) and F <= 2^(32 - c): the product is below 2^62.
                long a = (e * _width) << _sqrtShift;
                int shift = 62 - _guardBits - LayerNormPlan.NormalizedFractionBits;
                return (int)((a * _reciprocal + (1L << (shift - 1))) >> shift);
            }

            /// <summary>x / 2^s rounded to nearest, ties up (s = 0: x itself).</summary>
            private static long RoundingShift(long x, int s) => s == 0 ? x : (x + (1L << (s - 1))) >> s;
        }
    }
}
