using System;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>
    /// An INT8 add across two scales rounded once: <c>q_out = clamp(Z_out + ((M_a (a - Z_a) + M_b (b - Z_b) + 2^(S-1)) &gt;&gt; S))</c>
    /// with <c>M_a = round(S_a / S_out 2^S)</c> and <c>M_b = round(S_b / S_out 2^S)</c>. The transformer's residual
    /// adds use it: one multiply per input and one rounding, where TensorFlow Lite's add
    /// (<see cref="AddParameters"/>) rescales each input and the sum separately, rounding three times.
    /// </summary>
    /// <remarks>
    /// S is the largest shift (at most 30) for which every intermediate fits an int:
    /// <c>255 (M_a + M_b) + 2^(S-1) &lt;= 2^31 - 1</c>. The multipliers then carry about 21 significant bits for scales of
    /// similar size, so the result is the exact <c>round((S_a (a - Z_a) + S_b (b - Z_b)) / S_out) + Z_out</c> except where
    /// the real sum lies within about 2^-21 of a rounding tie.
    /// </remarks>
    public sealed class ResidualAddPlan : IEquatable<ResidualAddPlan>
    {
        private ResidualAddPlan(QuantizationParameters a, QuantizationParameters b, QuantizationParameters output, int shift,
            int multiplierA, int multiplierB)
        {
            InputA = a;
            InputB = b;
            Output = output;
            Shift = shift;
            MultiplierA = multiplierA;
            MultiplierB = multiplierB;
        }

        /// <summary>Quantization of the first input.</summary>
        public QuantizationParameters InputA { get; }

        /// <summary>Quantization of the second input.</summary>
        public QuantizationParameters InputB { get; }

        /// <summary>Quantization of the sum.</summary>
        public QuantizationParameters Output { get; }

        /// <summary>S: the right shift after the two products.</summary>
        public int Shift { get; }

        /// <summary>M_a = round(S_a / S_out 2^S).</summary>
        public int MultiplierA { get; }

        /// <summary>M_b = round(S_b / S_out 2^S).</summary>
        public int MultiplierB { get; }

        /// <summary>
        /// <c>2^(S-1) - M_a Z_a - M_b Z_b</c>: the rounding term with both zero points folded in, so that
        /// <c>q_out = Z_out + ((M_a a + M_b b + Offset) &gt;&gt; S)</c>.
        /// </summary>
        public int Offset => (1 << (Shift - 1)) - MultiplierA * InputA.ZeroPoint - MultiplierB * InputB.ZeroPoint;

        /// <summary>The constants for adding <paramref name="a"/> and <paramref name="b"/> into <paramref name="output"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">An input scale is so small against the output's that its multiplier
        /// would be 0 at every shift, or so large that no shift of at least 8 keeps the sums in an int.</exception>
        public static ResidualAddPlan Create(QuantizationParameters a, QuantizationParameters b, QuantizationParameters output)
        {
            double ratioA = (double)a.Scale / output.Scale, ratioB = (double)b.Scale / output.Scale;
            for (int shift = 30; shift >= 8; shift--)
            {
                double ma = Math.Round(ratioA * (1L << shift), MidpointRounding.AwayFromZero);
                double mb = Math.Round(ratioB * (1L << shift), MidpointRounding.AwayFromZero);
                if (255 * (ma + mb) + (1L << (shift - 1)) > int.MaxValue) continue;
                if (ma < 1 || mb < 1)
                {
                    throw new ArgumentOutOfRangeException(nameof(output), output.Scale, string.Format(CultureInfo.InvariantCulture,
                        "the add's input scales ({0:G9}, {1:G9}) are too small against its output scale for an integer add.", a.Scale, b.Scale));
                }

                return new ResidualAddPlan(a, b, output, shift, (int)ma, (int)mb);
            }

            throw new ArgumentOutOfRangeException(nameof(output), output.Scale, string.Format(CultureInfo.InvariantCulture,
                "the add's input scales ({0:G9}, {1:G9}) are more than 2^22 times its output scale; raise the output scale.", a.Scale, b.Scale));
        }

        /// <summary>The sum of one pair of INT8 values.</summary>
        public sbyte Apply(int a, int b)
        {
            long value = ((long)MultiplierA * (a - InputA.ZeroPoint) + (long)MultiplierB * (b - InputB.ZeroPoint) + (1L << (Shift - 1))) >> Shift;
            long q = value + Output.ZeroPoint;
            return (sbyte)(q < -128 ? -128 : q > 127 ? 127 : q);
        }

        /// <summary>The constants with their real meaning (for comments in generated code).</summary>
        public override string ToString() => string.Format(CultureInfo.InvariantCulture,
            "M_a = {0} (S_a / S_out = {1:G6}), M_b = {2} (S_b / S_out = {3:G6}), S = {4}, Z_a = {5}, Z_b = {6}, Z_out = {7}",
            MultiplierA, (double)MultiplierA / (1L << Shift), MultiplierB, (double)MultiplierB / (1L << Shift), Shift,
            InputA.ZeroPoint, InputB.ZeroPoint, Output.ZeroPoint);

        /// <inheritdoc />
        public bool Equals(ResidualAddPlan? other) =>
            other is not null && InputA.Equals(other.InputA) && InputB.Equals(other.InputB) && Output.Equals(other.Output) &&
            Shift == other.Shift && MultiplierA == other.MultiplierA && MultiplierB == other.MultiplierB;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as ResidualAddPlan);

        /// <inheritdoc />
        public override int GetHashCode() => (MultiplierA * 31 + MultiplierB) * 31 + Shift;
    }
}
