using System;
using System.Numerics;

namespace Gen.Tests.Support
{
    /// <summary>
    /// The fixed-point primitives written from their definitions (DESIGN.md section 2) in exact arithmetic: every value
    /// is a BigInteger or a ratio of them, every rounding a floor of an exact quotient. Nothing here shares code, masks
    /// or shifts with Gen.Runtime.FixedPoint; property tests compare the two on generated inputs.
    /// </summary>
    internal static class BigIntegerOracle
    {
        private static readonly BigInteger IntMin = int.MinValue, IntMax = int.MaxValue;

        public static BigInteger Pow2(int exponent) => BigInteger.One << exponent;

        /// <summary>floor(n / d) for d &gt; 0.</summary>
        public static BigInteger FloorDiv(BigInteger n, BigInteger d)
        {
            BigInteger q = BigInteger.DivRem(n, d, out BigInteger r);
            return r.Sign < 0 ? q - 1 : q;
        }

        /// <summary>n / d rounded to nearest, ties toward +infinity: floor(n / d + 1/2).</summary>
        public static BigInteger RoundHalfUp(BigInteger n, BigInteger d) => FloorDiv(2 * n + d, 2 * d);

        /// <summary>n / d rounded to nearest, ties away from zero.</summary>
        public static BigInteger RoundHalfAway(BigInteger n, BigInteger d)
        {
            BigInteger magnitude = RoundHalfUp(BigInteger.Abs(n), d);
            return n.Sign < 0 ? -magnitude : magnitude;
        }

        public static bool FitsInt(BigInteger v) => v >= IntMin && v <= IntMax;

        /// <summary>round(a * b / 2^31), ties toward +infinity, saturated to the int range (only int.MinValue squared needs it).</summary>
        public static int SaturatingRoundingDoublingHighMul(int a, int b)
        {
            BigInteger v = RoundHalfUp((BigInteger)a * b, Pow2(31));
            return (int)BigInteger.Min(v, IntMax);
        }

        /// <summary>round(x / 2^exponent), ties away from zero.</summary>
        public static int RoundingDivideByPOT(int x, int exponent) => (int)RoundHalfAway(x, Pow2(exponent));

        /// <summary>
        /// TFLite's double rounding: the high multiply of <c>x * 2^max(shift, 0)</c> by M0, then the rounding divide by
        /// <c>2^max(-shift, 0)</c>. Null when <c>x * 2^max(shift, 0)</c> does not fit in an int (an error, not a number).
        /// </summary>
        public static int? MultiplyByQuantizedMultiplier(int x, int m0, int shift)
        {
            BigInteger shifted = (BigInteger)x * Pow2(Math.Max(shift, 0));
            if (!FitsInt(shifted)) return null;
            BigInteger high = BigInteger.Min(RoundHalfUp(shifted * m0, Pow2(31)), IntMax);
            return (int)RoundHalfAway(high, Pow2(Math.Max(-shift, 0)));
        }

        /// <summary>The single-rounding variant: <c>round(x * M0 / 2^(31 - shift))</c>, ties toward +infinity; null when it does not fit.</summary>
        public static int? MultiplyByQuantizedMultiplierSingleRounding(int x, int m0, int shift)
        {
            BigInteger v = RoundHalfUp((BigInteger)x * m0, Pow2(31 - shift));
            return FitsInt(v) ? (int)v : null;
        }

        /// <summary>
        /// A positive finite double as an exact ratio <c>mantissa * 2^exponent</c> with an integer mantissa, read from
        /// its IEEE 754 bits.
        /// </summary>
        public static (BigInteger Mantissa, int Exponent) Exact(double value)
        {
            long bits = BitConverter.DoubleToInt64Bits(value);
            int biased = (int)((bits >> 52) & 0x7FF);
            long fraction = bits & ((1L << 52) - 1);
            return biased == 0 ? (fraction, -1074) : (fraction | (1L << 52), biased - 1075);
        }

        /// <summary>
        /// <c>m = f * 2^shift</c> with f in [0.5, 1), <c>M0 = round_half_away(f * 2^31)</c>; <c>M0 == 2^31</c> becomes
        /// 2^30 with shift + 1; zero, and any m whose shift is below -31, is (0, 0).
        /// </summary>
        public static (int M0, int Shift) QuantizeMultiplier(double m)
        {
            if (m == 0) return (0, 0);
            var (mantissa, exponent) = Exact(m);
            // m = mantissa * 2^exponent with 2^(bits - 1) <= mantissa < 2^bits, so m / 2^(bits + exponent) is in [0.5, 1).
            int bits = (int)mantissa.GetBitLength();
            int shift = bits + exponent;
            // f * 2^31 = mantissa * 2^(31 - bits): exact, then rounded once.
            BigInteger m0 = 31 - bits >= 0 ? mantissa * Pow2(31 - bits) : RoundHalfAway(mantissa, Pow2(bits - 31));
            if (m0 == Pow2(31))
            {
                m0 = Pow2(30);
                shift++;
            }

            return shift < -31 ? (0, 0) : ((int)m0, shift);
        }

        /// <summary>The exact value of <c>M0 * 2^(shift - 31)</c> minus <paramref name="m"/>, over <paramref name="m"/>, as a double.</summary>
        public static double RelativeError(double m, int m0, int shift)
        {
            var (mantissa, exponent) = Exact(m);
            // Both sides times 2^k for a k that makes them integers.
            int k = Math.Max(31 - shift, -exponent);
            BigInteger encoded = (BigInteger)m0 * Pow2(shift - 31 + k);
            BigInteger real = mantissa * Pow2(exponent + k);
            // The ratio in units of 2^-80, so that neither side has to fit in a double.
            return (double)BigInteger.Divide((encoded - real) * Pow2(80), real) / Math.Pow(2, 80);
        }
    }
}
