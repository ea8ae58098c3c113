using System;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time constants of the integer exponential of a non-positive input (after I-BERT's i-exp), derived
    /// from the input scale: <c>x = -ln 2 * z + p</c> with integer z &gt;= 0 and p in (-ln 2, 0], so
    /// <c>exp(x) = 2^-z exp(p)</c>; <c>exp(p) ~= A (p + B)^2 + C</c> with A = 0.3585, B = 1.353, C = 0.344, and
    /// 2^-z is a right shift.
    /// </summary>
    /// <remarks>
    /// As for <see cref="GeluPlan"/>, the input x (real value <c>S * x</c>, x &lt;= 0) is first aligned to an effective
    /// scale <c>S_eff = S * 2^-k</c> in (2^-15, 2^-14] (<see cref="InputShift"/>), so that ln 2, B and C have 14 or
    /// more significant bits at every input scale, including the coarse scales of INT8 logits where I-BERT's
    /// <c>floor(-ln 2 / S)</c> would be a single digit. In units of S_eff: <see cref="Ln2Int"/> = round(ln 2 / S_eff),
    /// <see cref="PolynomialB"/> = round(B / S_eff), <see cref="PolynomialC"/> = round(C / (A S_eff^2)); the
    /// polynomial <c>(r + B_int)^2 + C_int</c> of the remainder r in (-Ln2Int, 0] is exp(p) in units of
    /// <see cref="OutputScale"/> = A S_eff^2, below 2^31.5. The polynomial itself is within 0.31% (relative) of
    /// exp(p) on (-ln 2, 0].
    /// </remarks>
    public sealed class ExpPlan : IEquatable<ExpPlan>
    {
        /// <summary>A of the polynomial A (p + B)^2 + C for exp(p), p in (-ln 2, 0].</summary>
        public const double PolynomialA = 0.3585;

        /// <summary>B of the polynomial A (p + B)^2 + C.</summary>
        public const double PolynomialBReal = 1.353;

        /// <summary>C of the polynomial A (p + B)^2 + C.</summary>
        public const double PolynomialCReal = 0.344;

        /// <summary>
        /// The largest power-of-two exponent z kept: inputs below <c>-MaxExponent * ln 2</c> (about -22.2) give
        /// exactly 0, which is also what the shift gives there, since exp(p) &lt; 2^31.5 units.
        /// </summary>
        public const int MaxExponent = 32;

        private ExpPlan(double inputScale, int inputShift, double effectiveScale, long ln2Int, long polynomialB,
            long polynomialC, long inputClamp)
        {
            InputScale = inputScale;
            InputShift = inputShift;
            EffectiveScale = effectiveScale;
            Ln2Int = ln2Int;
            PolynomialB = polynomialB;
            PolynomialC = polynomialC;
            InputClamp = inputClamp;
        }

        /// <summary>S: the real value of one unit of the (non-positive) integer input.</summary>
        public double InputScale { get; }

        /// <summary>k: the input x becomes <c>v = x * 2^k</c> at <see cref="EffectiveScale"/> (k &lt; 0: rounding right shift).</summary>
        public int InputShift { get; }

        /// <summary>S_eff = S * 2^-k, in (2^-15, 2^-14].</summary>
        public double EffectiveScale { get; }

        /// <summary>round(ln 2 / S_eff): ln 2 in units of S_eff, 11,357 to 22,713.</summary>
        public long Ln2Int { get; }

        /// <summary>round(B / S_eff): the polynomial's B in units of S_eff.</summary>
        public long PolynomialB { get; }

        /// <summary>round(C / (A S_eff^2)): the polynomial's C in units of <see cref="OutputScale"/>.</summary>
        public long PolynomialC { get; }

        /// <summary>
        /// The most negative input the kernel shifts (no smaller input changes the result, and clamping first keeps
        /// <c>x * 2^k</c> within a long).
        /// </summary>
        public long InputClamp { get; }

        /// <summary>A S_eff^2: the real value of one unit of the integer exp result.</summary>
        public double OutputScale => PolynomialA * EffectiveScale * EffectiveScale;

        /// <summary>Constants for non-positive inputs at <paramref name="inputScale"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The scale is not positive and finite or far outside
        /// [2^-54, 2^26].</exception>
        public static ExpPlan Create(double inputScale)
        {
            int k = NonlinearMath.AlignmentShift(inputScale, nameof(inputScale), out double effective);
            long ln2 = NonlinearMath.RoundToLong(Math.Log(2.0) / effective, "ln 2 in units of the effective scale");
            long b = NonlinearMath.RoundToLong(PolynomialBReal / effective, "The exp polynomial's B");
            long c = NonlinearMath.RoundToLong(PolynomialCReal / (PolynomialA * effective * effective), "The exp polynomial's C");
            long lowest = MaxExponent * ln2;
            // k >= 0: any x below -((lowest >> k) + 1) shifts below -lowest. k < 0: x = -(lowest << -k) - 1 rounds below
            // -lowest; lowest < 2^20 and -k <= 40, so this fits a long.
            long clamp = k >= 0 ? -((lowest >> k) + 1) : -(lowest << -k) - 1;
            return new ExpPlan(inputScale, k, effective, ln2, b, c, clamp);
        }

        /// <summary>The constants with their real meaning, one per line (for comments in generated code).</summary>
        public string Describe()
        {
            var text = new StringBuilder();
            text.Append("Integer exp of x <= 0: x = -ln2 z + p, exp(x) = 2^-z (0.3585 (p + 1.353)^2 + 0.344)\n");
            AppendLines(text);
            return text.ToString();
        }

        internal void AppendLines(StringBuilder text)
        {
            NonlinearMath.Line(text, "S", NonlinearMath.Format(InputScale), "input scale (real value of one input unit)");
            NonlinearMath.Line(text, "k", NonlinearMath.Format(InputShift), "v = x * 2^k (negative: rounding right shift)");
            NonlinearMath.Line(text, "S_eff", NonlinearMath.Format(EffectiveScale), "scale of v, S * 2^-k");
            NonlinearMath.Line(text, "ln2", NonlinearMath.Format(Ln2Int), "round(ln 2 / S_eff)");
            NonlinearMath.Line(text, "B", NonlinearMath.Format(PolynomialB), "round(1.353 / S_eff)");
            NonlinearMath.Line(text, "C", NonlinearMath.Format(PolynomialC), "round(0.344 / (0.3585 S_eff^2))");
            NonlinearMath.Line(text, "x_min", NonlinearMath.Format(InputClamp), "inputs are clamped below at this (exp is 0 there)");
            NonlinearMath.Line(text, "S_exp", NonlinearMath.Format(OutputScale), "0.3585 S_eff^2, the real value of one unit of the exp result");
        }

        /// <inheritdoc />
        public override string ToString() => Describe();

        /// <inheritdoc />
        public bool Equals(ExpPlan? other) =>
            other is not null && InputScale.Equals(other.InputScale) && InputShift == other.InputShift &&
            EffectiveScale.Equals(other.EffectiveScale) && Ln2Int == other.Ln2Int && PolynomialB == other.PolynomialB &&
            PolynomialC == other.PolynomialC && InputClamp == other.InputClamp;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as ExpPlan);

        /// <inheritdoc />
        public override int GetHashCode() =>
            NonlinearMath.Combine(NonlinearMath.Hash(InputScale), PolynomialC.GetHashCode());
    }
}
