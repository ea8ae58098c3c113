using System;
using System.Numerics;

namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Integer-only Softmax of one row with the constants of a <see cref="SoftmaxPlan"/>: subtract the row maximum,
    /// <see cref="IntExp.Exp"/> each element, sum, one long division for <c>floor(2^62 / sum)</c>, then per element a
    /// multiply and a rounding shift to INT8 probabilities (scale 1/256, zero point -128).
    /// </summary>
    /// <remarks>
    /// The exps are computed twice (once for the sum, once for the output) rather than stored: the kernel needs no
    /// scratch memory and the two passes give identical values. Rows of any length from 1 to int.MaxValue: each exp
    /// is below 2^31.5, so the sum stays below 2^63.
    /// Accuracy (rows of 128, measured by the tests against the exact softmax): max error of a probability 0.0039,
    /// which is 1/256 where a probability near 1 saturates at 255/256, and otherwise within 0.0007 of the 1/512 that
    /// rounding the exact probability to 8 bits costs; the mean error equals that rounding's own (0.0004 to 0.001,
    /// largest for flat rows). Row sums: <c>|sum(q - Z) - 256| &lt;= N / 2 + 1</c> by construction (each output rounds
    /// by at most half a unit, and probability 1 saturates by one).
    /// </remarks>
    public static class IntSoftmax
    {
        /// <summary>Softmax of a row of INT32 logits (real value <c>S * factor * q</c>) into INT8 probabilities.</summary>
        /// <exception cref="ArgumentException">The row is empty or the spans differ in length.</exception>
        public static void Softmax(ReadOnlySpan<int> input, Span<sbyte> output, SoftmaxPlan plan) => SoftmaxRow(input, output, plan);

        /// <summary>
        /// Softmax of a row of INT8 logits (real value <c>S * factor * (q - Z)</c>; the zero point cancels when the
        /// maximum is subtracted) into INT8 probabilities.
        /// </summary>
        /// <exception cref="ArgumentException">The row is empty or the spans differ in length.</exception>
        public static void Softmax(ReadOnlySpan<sbyte> input, Span<sbyte> output, SoftmaxPlan plan) => SoftmaxRow(input, output, plan);

        private static void SoftmaxRow<T>(ReadOnlySpan<T> input, Span<sbyte> output, SoftmaxPlan plan)
            where T : struct, IBinaryInteger<T>
        {
            CheckLengths(input.Length, output.Length);
            long max = long.CreateTruncating(input[0]);
            for (int i = 1; i < input.Length; i++)
            {
                max = Math.Max(max, long.CreateTruncating(input[i]));
            }

            // q - max in [-(2^32 - 1), 0] for INT32 rows, [-255, 0] for INT8 rows: a long either way.
            long sum = 0;
            for (int i = 0; i < input.Length; i++)
            {
                sum += IntExp.Exp(long.CreateTruncating(input[i]) - max, plan.Exp);
            }

            long reciprocal = Reciprocal(sum);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = Probability(IntExp.Exp(long.CreateTruncating(input[i]) - max, plan.Exp), reciprocal);
            }
        }

        /// <summary>
        /// floor(2^62 / sum), the row's only division. The maximum element contributes exp(0), about 2^29.5 or more
        /// units, so sum &gt; 2^29 and the reciprocal is below 2^33; for rows of up to 2^20 elements it keeps more than
        /// 10 significant bits beyond the 8 of the output.
        /// </summary>
        private static long Reciprocal(long sum) => (1L << SoftmaxPlan.ReciprocalBits) / sum;

        /// <summary>
        /// round(256 e / sum) - 128, clamped to [-128, 127]: e * reciprocal &lt;= sum * 2^62 / sum = 2^62 fits a long, and
        /// the rounding shift by 62 - 8 = 54 leaves a value in [0, 256].
        /// </summary>
        private static sbyte Probability(long e, long reciprocal)
        {
            const int shift = SoftmaxPlan.ReciprocalBits - SoftmaxPlan.OutputBits;
            long scaled = (e * reciprocal + (1L << (shift - 1))) >> shift;
            long q = scaled + SoftmaxPlan.OutputZeroPoint;
            return (sbyte)(q > 127 ? 127 : q);
        }

        private static void CheckLengths(int input, int output)
        {
            if (input == 0)
            {
                throw new ArgumentException("A Softmax row needs at least one element.");
            }

            if (input != output)
            {
                throw new ArgumentException($"The output holds {output} values but the input has {input}.");
            }
        }
    }
}
