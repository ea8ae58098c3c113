using System;

namespace Gen.Runtime
{
    /// <summary>
    /// Fixed-point primitives of integer-only inference, named and defined exactly as their counterparts in
    /// gemmlowp (<c>fixedpoint/fixedpoint.h</c>) and TensorFlow Lite (<c>kernels/internal/common.h</c>,
    /// <c>quantization_util.cc</c>) so that a reader can compare them line by line and a model quantized by
    /// that tool chain gives the same bits here.
    /// </summary>
    /// <remarks>
    /// A real multiplier <c>M</c> is represented as <c>M0 * 2^(shift - 31)</c> with <c>M0</c> in [2^30, 2^31 - 1]
    /// (a Q0.31 number in [0.5, 1)) and an integer <c>shift</c>. This file is compiled into both the runtime and
    /// the source generator, so compile-time constants and run-time oracles cannot disagree.
    /// </remarks>
    public static class FixedPoint
    {
        /// <summary>
        /// The high 32 bits of <c>2 * a * b</c>, rounded: <c>(a * b + 2^30) &gt;&gt; 31</c> on the exact 64-bit product
        /// with an arithmetic (flooring) shift, so ties round toward +infinity. The single overflow case,
        /// <c>a == b == int.MinValue</c>, saturates to <see cref="int.MaxValue"/>. (gemmlowp's
        /// <c>SaturatingRoundingDoublingHighMul</c>; its nudge-and-truncate formulation is the same function.)
        /// </summary>
        public static int SaturatingRoundingDoublingHighMul(int a, int b)
        {
            if (a == int.MinValue && b == int.MinValue)
            {
                return int.MaxValue;
            }

            long product = (long)a * b;
            return (int)((product + (1L << 30)) >> 31);
        }

        /// <summary>
        /// <c>x / 2^exponent</c> rounded to nearest, ties away from zero (gemmlowp's <c>RoundingDivideByPOT</c>).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="exponent"/> is outside 0..31.</exception>
        public static int RoundingDivideByPOT(int x, int exponent)
        {
            if ((uint)exponent > 31)
            {
                throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The exponent must be in 0..31.");
            }

            int mask = (int)((1L << exponent) - 1);
            int remainder = x & mask;
            // The remainder is compared with half the divisor; a negative x needs one more to round its tie away
            // from zero, because '>>' floors.
            int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
            return (x >> exponent) + (remainder > threshold ? 1 : 0);
        }

        /// <summary>
        /// <c>x * M0 * 2^(shift - 31)</c> with TensorFlow Lite's default "double rounding": a rounding doubling
        /// high multiply by <c>M0</c> (after a left shift by <c>max(shift, 0)</c>), then a rounding right shift by
        /// <c>max(-shift, 0)</c>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantizedMultiplier"/> is negative or
        /// <paramref name="shift"/> is outside [-31, 30].</exception>
        /// <exception cref="OverflowException"><c>x * 2^shift</c> does not fit in an int (TensorFlow Lite leaves this
        /// undefined; here it is an error rather than a wrong number).</exception>
        public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
        {
            CheckMultiplier(quantizedMultiplier, shift);
            int leftShift = shift > 0 ? shift : 0;
            int rightShift = shift > 0 ? 0 : -shift;
            long shifted = (long)x << leftShift;
            if (shifted > int.MaxValue || shifted < int.MinValue)
            {
                throw new OverflowException($"{x} * 2^{leftShift} does not fit in a 32-bit integer.");
            }

            return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul((int)shifted, quantizedMultiplier), rightShift);
        }

        /// <summary>
        /// <c>x * M0 * 2^(shift - 31)</c> rounded once, ties toward +infinity: <c>(x * M0 + 2^(30 - shift)) &gt;&gt; (31 - shift)</c>
        /// on 64 bits (TensorFlow Lite built with <c>TFLITE_SINGLE_ROUNDING</c>). Differs from
        /// <see cref="MultiplyByQuantizedMultiplier"/> by one on some ties.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantizedMultiplier"/> is negative or
        /// <paramref name="shift"/> is outside [-31, 30].</exception>
        /// <exception cref="OverflowException">The result does not fit in an int.</exception>
        public static int MultiplyByQuantizedMultiplierSingleRounding(int x, int quantizedMultiplier, int shift)
        {
            CheckMultiplier(quantizedMultiplier, shift);
            int totalShift = 31 - shift;
            long round = 1L << (totalShift - 1);
            long result = ((long)x * quantizedMultiplier + round) >> totalShift;
            if (result > int.MaxValue || result < int.MinValue)
            {
                throw new OverflowException($"{x} * {quantizedMultiplier} * 2^({shift} - 31) does not fit in a 32-bit integer.");
            }

            return (int)result;
        }

        /// <summary>
        /// Splits a real multiplier into <c>M0 * 2^(shift - 31)</c> exactly as TensorFlow Lite's
        /// <c>QuantizeMultiplier</c>: <c>m = f * 2^shift</c> with f in [0.5, 1) (frexp), <c>M0 = round(f * 2^31)</c>
        /// with ties away from zero; <c>M0 == 2^31</c> becomes <c>2^30</c> with <c>shift + 1</c>; zero, and any
        /// multiplier so small that <c>shift &lt; -31</c>, become (0, 0).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="realMultiplier"/> is negative, NaN or infinite.</exception>
        public static void QuantizeMultiplier(double realMultiplier, out int quantizedMultiplier, out int shift)
        {
            if (double.IsNaN(realMultiplier) || double.IsInfinity(realMultiplier) || realMultiplier < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier,
                    "A quantized multiplier must be finite and not negative.");
            }

            if (realMultiplier == 0)
            {
                quantizedMultiplier = 0;
                shift = 0;
                return;
            }

            double fraction = FrExp(realMultiplier, out shift);
            // fraction * 2^31 is exact (a power-of-two scaling), so the only rounding is this one.
            long fixedPoint = (long)Math.Round(fraction * 2147483648.0, MidpointRounding.AwayFromZero);
            if (fixedPoint == 1L << 31)
            {
                fixedPoint /= 2;
                shift++;
            }

            if (shift < -31)
            {
                // Every product would shift out entirely: flush to zero as TensorFlow Lite does.
                shift = 0;
                fixedPoint = 0;
            }

            quantizedMultiplier = (int)fixedPoint;
        }

        /// <summary>The real number that <c>(M0, shift)</c> encodes: <c>M0 * 2^(shift - 31)</c>.</summary>
        public static double MultiplierValue(int quantizedMultiplier, int shift) =>
            quantizedMultiplier * Math.Pow(2.0, shift - 31);

        /// <summary>
        /// C's <c>frexp</c> for a positive finite double: returns f in [0.5, 1) with <c>value = f * 2^exponent</c>.
        /// Subnormals are normalized first, so the result is exact for every positive finite input.
        /// </summary>
        internal static double FrExp(double value, out int exponent)
        {
            long bits = BitConverter.DoubleToInt64Bits(value);
            int biased = (int)((bits >> 52) & 0x7FF);
            int extra = 0;
            if (biased == 0)
            {
                // Subnormal: scale into the normal range, remember the scaling.
                value *= 18014398509481984.0; // 2^54
                bits = BitConverter.DoubleToInt64Bits(value);
                biased = (int)((bits >> 52) & 0x7FF);
                extra = -54;
            }

            exponent = biased - 1022 + extra;
            long fractionBits = (bits & ~(0x7FFL << 52)) | (1022L << 52);
            return BitConverter.Int64BitsToDouble(fractionBits);
        }

        private static void CheckMultiplier(int quantizedMultiplier, int shift)
        {
            if (quantizedMultiplier < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(quantizedMultiplier), quantizedMultiplier,
                    "The quantized multiplier M0 must not be negative.");
            }

            if (shift < -31 || shift > 30)
            {
                throw new ArgumentOutOfRangeException(nameof(shift), shift, "The shift must be in [-31, 30].");
            }
        }
    }
}
