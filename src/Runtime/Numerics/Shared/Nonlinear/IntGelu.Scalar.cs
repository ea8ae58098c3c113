using System;

namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Integer-only GELU (after I-BERT's i-GELU) with the constants of a <see cref="GeluPlan"/>. Only int and long
    /// arithmetic; see <see cref="GeluPlan"/> for the derivation of every constant.
    /// </summary>
    /// <remarks>
    /// Error (measured by the tests against an exact GELU, every integer input with |x| &lt;= min(8, 127 S) at input
    /// scales 1e-4 to 0.1): at most the error of the polynomial itself (0.01447 with the default coefficients, 0.01815
    /// with I-BERT's) plus about 1e-4 from the integer arithmetic, before any INT8 output rounding.
    /// </remarks>
    public static partial class IntGelu
    {
        /// <summary>
        /// GELU of one INT32 (or zero-point-free) input. Input: q with real value <c>S * q</c>, S =
        /// <see cref="GeluPlan.InputScale"/>. Output: GELU(S q) in units of <see cref="GeluPlan.OutputScale"/>
        /// (S_eff = S * 2^-k), rounded to nearest (ties up). Where |erf| is exactly 1 (|x| &gt;= -b sqrt 2, about
        /// 2.59) the result is exactly <c>q * 2^k</c> or 0; a positive result beyond the int range (only possible
        /// for |x| &gt; 2^31 S_eff, about 65,000) saturates to <see cref="int.MaxValue"/>.
        /// </summary>
        public static int Gelu(int q, GeluPlan plan)
        {
            int k = plan.InputShift;
            long v;
            if (k >= 0)
            {
                // |q| > (clamp >> k) means |q * 2^k| > clamp: erf is +-1 and GELU(x) is x or 0, with no product that
                // could overflow (q * 2^k alone can need 31 + 40 bits).
                long magnitude = Math.Abs((long)q);
                if (magnitude > plan.ClampInt >> k)
                {
                    return q <= 0 ? 0 : q > (long)int.MaxValue >> k ? int.MaxValue : q << k;
                }

                // |v| <= clamp < 2^17.
                v = (long)q << k;
            }
            else
            {
                // Input finer than the working scale: round q * 2^k to nearest (ties up); |v| <= |q| < 2^31.
                int s = -k;
                v = ((long)q + (1L << (s - 1))) >> s;
            }

            return (int)GeluAligned(v, plan);
        }

        /// <summary>
        /// GELU of an INT8 input with the plan's input zero point, requantized to INT8 at the plan's output scale and
        /// zero point with <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/>, clamped to [-128, 127].
        /// </summary>
        /// <exception cref="InvalidOperationException">The plan was not made by <see cref="GeluPlan.CreateInt8"/>.</exception>
        public static sbyte GeluInt8(sbyte q, GeluPlan plan)
        {
            if (!plan.HasInt8Output)
            {
                throw new InvalidOperationException("This GELU plan has no INT8 output; create it with GeluPlan.CreateInt8.");
            }

            // q - Z_in is in [-255, 255]; the INT32 result is at most 255 * 2^k in magnitude.
            int y = Gelu(q - plan.InputZeroPoint, plan);
            return RequantizeToInt8(y, plan);
        }

        /// <summary>
        /// An INT32 GELU result (at <see cref="GeluPlan.OutputScale"/>) requantized to the plan's INT8 output:
        /// <c>clamp(MultiplyByQuantizedMultiplier(y, M0, shift) + Z_out, -128, 127)</c>.
        /// </summary>
        /// <exception cref="InvalidOperationException">The plan was not made by <see cref="GeluPlan.CreateInt8"/>.</exception>
        public static sbyte RequantizeToInt8(int y, GeluPlan plan)
        {
            if (!plan.HasInt8Output)
            {
                throw new InvalidOperationException("This GELU plan has no INT8 output; create it with GeluPlan.CreateInt8.");
            }

            int scaled = FixedPoint.MultiplyByQuantizedMultiplier(y, plan.RequantizeMultiplier, plan.RequantizeShift);
            long result = (long)scaled + plan.Int8OutputZeroPoint;
            return (sbyte)(result < -128 ? -128 : result > 127 ? 127 : result);
        }

        /// <summary>
        /// GELU of an input already at the effective scale S_eff: <c>round(v * g / 2^P)</c>, g the gate
        /// <c>(1 + erf(t)) / 2</c> in Q(P). |v| &lt; 2^31 (or, if larger, |v| &gt;= clamp).
        /// </summary>
        private static long GeluAligned(long v, GeluPlan plan)
        {
            long clamp = plan.ClampInt;
            long magnitude = Math.Abs(v);
            if (magnitude >= clamp)
            {
                // erf(t) = sign(t) exactly: GELU(x) = x for x > 0, 0 for x < 0.
                return v > 0 ? v : 0;
            }

            // d = min(|v|, clamp) - clamp in [-clamp, 0]: (min(|t|, -b) + b) / S'.
            long d = magnitude - clamp;

            // d^2 <= clamp^2 < 2^33 (clamp < 1.84 * 2^15.5). d^2 * M <= |a| b^2 2^62 + rounding < 2^63 (checked when
            // the plan was made): a long is needed, an int could not hold even d^2.
            long dSquared = d * d;
            int shift = plan.PolynomialShift;
            // h = |a| (min(|t|, -b) + b)^2 * 2^(P - 1), in [0, |a| b^2 2^(P - 1)] (about [0, 0.87 * 2^23]).
            long h = (dSquared * plan.PolynomialMultiplier + (1L << (shift - 1))) >> shift;

            // g = (1 + erf(t)) / 2 in Q(P): 1 - h / 2^P for t >= 0, h / 2^P for t < 0; g in [0, 2^P].
            long g = v >= 0 ? (1L << GeluPlan.FractionBits) - h : h;

            // |v| < clamp < 2^17 and g <= 2^24: |v * g| < 2^41.
            return (v * g + (1L << (GeluPlan.FractionBits - 1))) >> GeluPlan.FractionBits;
        }
    }
}
