using System;
using System.Globalization;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time helpers shared by the plans of the integer-only nonlinearities: choosing the power-of-two
    /// alignment of an input scale, rounding, and the small pieces of equality and text that every plan needs.
    /// Floating point is allowed here; it never reaches a run-time kernel.
    /// </summary>
    internal static class NonlinearMath
    {
        /// <summary>
        /// The working scale of the polynomial approximations lies in the octave (2^-(WorkingScaleBits + 1),
        /// 2^-WorkingScaleBits]: fine enough that every polynomial constant has at least 14 significant bits,
        /// coarse enough that every square of an integer in that unit fits in 33 bits.
        /// </summary>
        public const int WorkingScaleBits = 14;

        /// <summary>The largest alignment shift a plan accepts either way (scales from about 2^-54 to 2^26).</summary>
        public const int MaxAlignmentShift = 40;

        /// <summary>
        /// The power of two that moves <paramref name="scale"/> into the working octave (2^-15, 2^-14]:
        /// returns k with <c>effectiveScale = scale * 2^-k</c>. An integer q at <paramref name="scale"/> becomes
        /// <c>q * 2^k</c> at the effective scale (a left shift for k &gt; 0, a rounding right shift for k &lt; 0).
        /// Every step is an exact power-of-two scaling of a double.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The scale is not positive and finite, or is so far from the
        /// working octave that the shift would exceed <see cref="MaxAlignmentShift"/>.</exception>
        public static int AlignmentShift(double scale, string parameterName, out double effectiveScale)
        {
            CheckScale(scale, parameterName);
            double upper = Math.Pow(2.0, -WorkingScaleBits);
            double lower = upper / 2;
            int k = 0;
            double effective = scale;
            while (effective > upper)
            {
                effective /= 2;
                k++;
            }

            while (effective <= lower)
            {
                effective *= 2;
                k--;
            }

            if (k > MaxAlignmentShift || k < -MaxAlignmentShift)
            {
                throw new ArgumentOutOfRangeException(parameterName, scale,
                    "The scale is too far from 2^-14 for the integer nonlinearities (shift " + k.ToString(CultureInfo.InvariantCulture) + ").");
            }

            effectiveScale = effective;
            return k;
        }

        /// <summary>Throws unless <paramref name="scale"/> is positive and finite.</summary>
        public static void CheckScale(double scale, string parameterName)
        {
            if (!(scale > 0) || double.IsInfinity(scale))
            {
                throw new ArgumentOutOfRangeException(parameterName, scale, "A scale must be positive and finite.");
            }
        }

        /// <summary>Rounds half away from zero to a long, throwing if the value does not fit.</summary>
        public static long RoundToLong(double value, string what)
        {
            double rounded = Math.Round(value, MidpointRounding.AwayFromZero);
            // 2^63 is exactly representable; anything at or beyond it does not fit.
            if (double.IsNaN(rounded) || rounded >= 9223372036854775808.0 || rounded < -9223372036854775808.0)
            {
                throw new OverflowException(what + " (" + value.ToString("R", CultureInfo.InvariantCulture) + ") does not fit in a 64-bit integer.");
            }

            return (long)rounded;
        }

        /// <summary>Combines hash codes (netstandard2.0 has no System.HashCode).</summary>
        public static int Combine(int hash, int value) => unchecked(hash * 31 + value);

        /// <summary>A stable hash of a double's bits.</summary>
        public static int Hash(double value) => BitConverter.DoubleToInt64Bits(value).GetHashCode();

        /// <summary>Element-wise equality of two arrays of longs.</summary>
        public static bool SequenceEqual(long[] a, long[] b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }

            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>A hash of every element of an array of longs.</summary>
        public static int Hash(long[] values)
        {
            int hash = values.Length;
            foreach (long value in values)
            {
                hash = Combine(hash, value.GetHashCode());
            }

            return hash;
        }

        /// <summary>Invariant-culture round-trip text of a double.</summary>
        public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>Invariant-culture text of a long.</summary>
        public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>Appends one "name = value: meaning" line to a description.</summary>
        public static void Line(StringBuilder text, string name, string value, string meaning)
        {
            text.Append("  ").Append(name).Append(" = ").Append(value).Append(": ").Append(meaning).Append('\n');
        }
    }
}
