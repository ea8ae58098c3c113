using System;
using System.Globalization;
using System.Numerics;

namespace Gen.Runtime
{
    /// <summary>
    /// The add of the residual stream, where an input or the output is wide (INT32 at its own scale, zero point 0):
    /// <c>q = clamp(Z_out + ((M_a (a - Z_a) + M_b (b - Z_b) + 2^(S-1)) &gt;&gt; S))</c> on 64 bits, rounding once (half up), with
    /// <c>M_x = round(S_x / S_out 2^S)</c> below 2^30. The clamp is INT32's for a wide output and INT8's otherwise.
    /// </summary>
    /// <param name="InputA">Quantization of a.</param>
    /// <param name="WideA">Whether a is wide (its differences from the zero point then reach 2^31, else 255).</param>
    /// <param name="InputB">Quantization of b.</param>
    /// <param name="WideB">Whether b is wide.</param>
    /// <param name="Output">Quantization of the sum.</param>
    /// <param name="WideOutput">Whether the sum is wide.</param>
    /// <param name="MultiplierA">M_a.</param>
    /// <param name="MultiplierB">M_b.</param>
    /// <param name="Shift">S.</param>
    public sealed record WideAddPlan(QuantizationParameters InputA, bool WideA, QuantizationParameters InputB, bool WideB,
        QuantizationParameters Output, bool WideOutput, long MultiplierA, long MultiplierB, int Shift)
    {
        /// <summary>The multipliers stay below this, so that each 64-bit product stays below 2^61 even for wide inputs.</summary>
        public const long MultiplierLimit = 1L << 30;

        /// <summary>The largest S: beyond it the multipliers' rounding is far below any input's step.</summary>
        public const int MaxShift = 62;

        /// <summary>The clamp's lower end.</summary>
        public long Min => WideOutput ? int.MinValue : QuantizationMath.Int8Min;

        /// <summary>The clamp's upper end.</summary>
        public long Max => WideOutput ? int.MaxValue : QuantizationMath.Int8Max;

        /// <summary>
        /// The constants for inputs a, b and the output: the largest S (up to <see cref="MaxShift"/>) that keeps both
        /// multipliers below <see cref="MultiplierLimit"/>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">An input's scale is 2^30 times the output's or more.</exception>
        public static WideAddPlan Create(QuantizationParameters a, bool wideA, QuantizationParameters b, bool wideB, QuantizationParameters output, bool wideOutput)
        {
            double ra = (double)a.Scale / output.Scale, rb = (double)b.Scale / output.Scale, larger = Math.Max(ra, rb);
            if (larger >= MultiplierLimit / 2)
            {
                throw new ArgumentOutOfRangeException(nameof(output), output.Scale, string.Format(CultureInfo.InvariantCulture,
                    "an input scale is {0:G6} times the output scale {1:G6}; the wide add needs it below 2^29 (raise the output scale).", larger, output.Scale));
            }

            int shift = MaxShift;
            while (Math.Round(larger * Math.Pow(2, shift), MidpointRounding.AwayFromZero) >= MultiplierLimit) shift--;
            long Multiplier(double r) => (long)Math.Round(r * Math.Pow(2, shift), MidpointRounding.AwayFromZero);
            return new WideAddPlan(a, wideA, b, wideB, output, wideOutput, Multiplier(ra), Multiplier(rb), shift);
        }

        /// <summary>One sum; a and b are the inputs' integers (INT8 or INT32).</summary>
        public int Apply(int a, int b)
        {
            long sum = (MultiplierA * ((long)a - InputA.ZeroPoint) + MultiplierB * ((long)b - InputB.ZeroPoint) + (1L << (Shift - 1))) >> Shift;
            long q = sum + Output.ZeroPoint;
            return (int)(q < Min ? Min : q > Max ? Max : q);
        }

        /// <summary>The largest <c>|M_a (a - Z_a) + M_b (b - Z_b)| + 2^(S-1)</c> over every input, which must fit a long.</summary>
        public BigInteger WorstSum()
        {
            BigInteger Reach(bool wide, int zeroPoint) => wide ? (BigInteger)1 << 31 : Math.Max(127 - zeroPoint, zeroPoint + 128);
            return MultiplierA * Reach(WideA, InputA.ZeroPoint) + MultiplierB * Reach(WideB, InputB.ZeroPoint) + (BigInteger.One << (Shift - 1));
        }

        /// <summary>The add as comments describe it.</summary>
        public string Description => string.Format(CultureInfo.InvariantCulture,
            "M_a = {0} = round(S_a / S_out 2^{2}), M_b = {1} = round(S_b / S_out 2^{2}); S_a = {3:R}, S_b = {4:R}, S_out = {5:R}; {6} out",
            MultiplierA, MultiplierB, Shift, InputA.Scale, InputB.Scale, Output.Scale, WideOutput ? "INT32" : "INT8");
    }
}
