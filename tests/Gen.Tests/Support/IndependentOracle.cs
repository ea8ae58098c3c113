using System;
using System.Numerics;

namespace Gen.Tests.Support
{
    /// <summary>
    /// Requantization written a second time, from the formulas rather than from the runtime's code: exact
    /// BigInteger arithmetic and explicit floor divisions instead of masks and shifts. Tests compare the runtime
    /// with this so that a shared misunderstanding cannot pass unnoticed.
    /// </summary>
    internal static class IndependentOracle
    {
        /// <summary>floor(n / d) for d &gt; 0.</summary>
        public static BigInteger FloorDiv(BigInteger n, BigInteger d)
        {
            BigInteger q = BigInteger.DivRem(n, d, out BigInteger r);
            return r.Sign < 0 ? q - 1 : q;
        }

        /// <summary>x * 2^(shift-31) * M0 by TFLite's double rounding, from the definition.</summary>
        public static long MultiplyByQuantizedMultiplier(long x, long m0, int shift)
        {
            int left = Math.Max(shift, 0), right = Math.Max(-shift, 0);
            BigInteger shifted = new BigInteger(x) * BigInteger.Pow(2, left);
            // Doubling high multiply: round(shifted * m0 / 2^31), ties toward +infinity.
            BigInteger high = FloorDiv(shifted * m0 + BigInteger.Pow(2, 30), BigInteger.Pow(2, 31));
            if (high > int.MaxValue) high = int.MaxValue; // the single saturating case
            // Divide by 2^right, ties away from zero.
            if (right == 0) return (long)high;
            BigInteger d = BigInteger.Pow(2, right);
            BigInteger magnitude = FloorDiv(BigInteger.Abs(high) * 2 + d, 2 * d);
            return (long)(high.Sign < 0 ? -magnitude : magnitude);
        }

        /// <summary>round half away from zero of a double, written without Math.Round.</summary>
        public static long RoundAway(double v) => v >= 0 ? (long)Math.Floor(v + 0.5) : -(long)Math.Floor(-v + 0.5);
    }
}
