using System;

namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Integer-only exponential of a non-positive input (after I-BERT's i-exp) with the constants of an
    /// <see cref="ExpPlan"/>. Only long arithmetic.
    /// </summary>
    public static class IntExp
    {
        /// <summary>
        /// exp(S x) for x &lt;= 0 (S = <see cref="ExpPlan.InputScale"/>), in units of <see cref="ExpPlan.OutputScale"/>
        /// (A S_eff^2). The result is in [0, 2^31.5): exp(0) is about 0.9998 / (A S_eff^2). Error (measured by the
        /// tests at input scales 3e-6 to 0.5): at most 0.31% relative for x &gt;= -10, which is the polynomial's own
        /// error, and at most 0.0022 absolute; inputs below -32 ln 2 (about -22.2) give 0.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="x"/> is positive.</exception>
        public static long Exp(long x, ExpPlan plan)
        {
            if (x > 0)
            {
                throw new ArgumentOutOfRangeException(nameof(x), x, "The integer exp takes non-positive inputs (subtract the maximum first).");
            }

            long ln2 = plan.Ln2Int;
            long lowest = ExpPlan.MaxExponent * ln2;

            // Align to S_eff. Clamping first keeps x * 2^k (k <= 40) within a long; nothing below the clamp changes
            // the result.
            if (x < plan.InputClamp)
            {
                x = plan.InputClamp;
            }

            int k = plan.InputShift;
            long v = k >= 0 ? x << k : (x + (1L << (-k - 1))) >> -k;
            // v in [-32 ln2_int, 0], i.e. [-2^20, 0].
            if (v < -lowest)
            {
                v = -lowest;
            }

            // x = -ln2 z + p: z = floor(-v / ln2_int) in [0, 32], r = v + z ln2_int in (-ln2_int, 0].
            long z = -v / ln2;
            long r = v + z * ln2;

            // exp(p) ~ A (p + B)^2 + C = A S_eff^2 [(r + B_int)^2 + C_int]. r + B_int in (B_int - ln2_int, B_int],
            // positive because B > ln 2; its square is below B_int^2 < 2^31 and C_int < 2^30, so the sum needs a long
            // (it can exceed 2^31).
            long t = r + plan.PolynomialB;
            long polynomial = t * t + plan.PolynomialC;

            // 2^-z: a flooring right shift, z <= 32.
            return polynomial >> (int)z;
        }
    }
}
