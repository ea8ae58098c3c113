using System;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time constants of the integer GELU (after I-BERT's i-GELU, Kim et al. 2021), derived from the input
    /// scale. <c>GELU(x) = x * (1 + erf(x / sqrt 2)) / 2</c> with
    /// <c>erf(t) ~= sign(t) * [a * (min(|t|, -b) + b)^2 + 1]</c>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The run-time kernel (<c>Gen.Runtime.Kernels.IntGelu</c>) works in integer units of an <em>effective</em>
    /// scale <c>S_eff = S * 2^-k</c> in the octave (2^-15, 2^-14]: the input q (real value <c>S * q</c>) becomes
    /// <c>v = q * 2^k</c> (<see cref="InputShift"/>; a left shift at coarse scales, a rounding right shift at very
    /// fine ones). The published reference always works at the input scale and rescales the erf term by a fixed
    /// 2^-14, which loses almost every bit at INT8 scales (error 5.4 at S = 4/127); aligning the input first makes
    /// every constant below, and the error, independent of S.
    /// </para>
    /// <para>
    /// With <c>S' = S_eff / sqrt 2</c> (the unit of <c>t = x / sqrt 2</c>) the clamp <c>-b</c> is the integer
    /// <see cref="ClampInt"/> = <c>round(-b / S')</c>, I-BERT's <c>-b_int</c>. I-BERT's
    /// <c>c_int = 1/(a * S'^2)</c> (about 2^31..2^33 here) appears as its reciprocal, the fixed-point multiplier
    /// <see cref="PolynomialMultiplier"/> = <c>round(|a| * S'^2 * 2^(P - 1 + PolynomialShift))</c>, so that
    /// <c>h = (d^2 * PolynomialMultiplier) &gt;&gt; PolynomialShift</c> with <c>d = min(|v|, ClampInt) - ClampInt</c>
    /// is <c>|a| (min(|t|, -b) + b)^2 * 2^(P - 1)</c>. Then <c>(1 + erf(t)) / 2</c> is <c>(2^P - h) / 2^P</c> for
    /// t &gt;= 0 and <c>h / 2^P</c> for t &lt; 0 (P = <see cref="FractionBits"/>), and the result
    /// <c>round(v * g / 2^P)</c> is GELU(x) in units of <see cref="OutputScale"/> = S_eff.
    /// </para>
    /// <para>
    /// Coefficients: the defaults (<see cref="DefaultA"/>, <see cref="DefaultB"/>) are a minimax refit of I-BERT's
    /// form for the GELU error (not the erf error): 0.01447 maximum absolute error over all x, against 0.01815 for
    /// I-BERT's published a = -0.2888, b = -1.769 (<see cref="IBertA"/>, <see cref="IBertB"/>). The integer
    /// arithmetic adds at most about 1e-4 to either at every input scale.
    /// </para>
    /// </remarks>
    public sealed class GeluPlan : IEquatable<GeluPlan>
    {
        /// <summary>I-BERT's published quadratic coefficient a.</summary>
        public const double IBertA = -0.2888;

        /// <summary>I-BERT's published clamp coefficient b.</summary>
        public const double IBertB = -1.769;

        /// <summary>Gen's default a: minimizes the maximum GELU error of the form (0.01447).</summary>
        public const double DefaultA = -0.2576;

        /// <summary>Gen's default b: minimizes the maximum GELU error of the form (0.01447).</summary>
        public const double DefaultB = -1.8305;

        /// <summary>P: fractional bits of the gate <c>g = (1 + erf(t)) / 2 * 2^P</c>.</summary>
        public const int FractionBits = 24;

        private GeluPlan(double inputScale, double a, double b, int inputShift, double outputScale, long clampInt,
            long polynomialMultiplier, int polynomialShift, bool hasInt8Output, int inputZeroPoint,
            double int8OutputScale, int int8OutputZeroPoint, int requantizeMultiplier, int requantizeShift)
        {
            InputScale = inputScale;
            CoefficientA = a;
            CoefficientB = b;
            InputShift = inputShift;
            OutputScale = outputScale;
            ClampInt = clampInt;
            PolynomialMultiplier = polynomialMultiplier;
            PolynomialShift = polynomialShift;
            HasInt8Output = hasInt8Output;
            InputZeroPoint = inputZeroPoint;
            Int8OutputScale = int8OutputScale;
            Int8OutputZeroPoint = int8OutputZeroPoint;
            RequantizeMultiplier = requantizeMultiplier;
            RequantizeShift = requantizeShift;
        }

        /// <summary>S: the real value of one unit of the integer input.</summary>
        public double InputScale { get; }

        /// <summary>a of the erf polynomial (negative).</summary>
        public double CoefficientA { get; }

        /// <summary>b of the erf polynomial (negative; -b is where the polynomial reaches 1).</summary>
        public double CoefficientB { get; }

        /// <summary>k: the input q becomes <c>v = q * 2^k</c> at <see cref="OutputScale"/> (k &lt; 0: rounding right shift).</summary>
        public int InputShift { get; }

        /// <summary>S_eff = S * 2^-k, in (2^-15, 2^-14]: the scale of v and of the INT32 GELU result.</summary>
        public double OutputScale { get; }

        /// <summary>round(-b / S'), S' = S_eff / sqrt 2: the |v| from which erf is taken as exactly +-1 (I-BERT's -b_int).</summary>
        public long ClampInt { get; }

        /// <summary>round(|a| * S'^2 * 2^(P - 1 + <see cref="PolynomialShift"/>)): I-BERT's 1 / c_int as a fixed-point multiplier.</summary>
        public long PolynomialMultiplier { get; }

        /// <summary>The right shift after multiplying d^2 by <see cref="PolynomialMultiplier"/>.</summary>
        public int PolynomialShift { get; }

        /// <summary>Whether the INT8 input/output constants below are set (see <see cref="CreateInt8"/>).</summary>
        public bool HasInt8Output { get; }

        /// <summary>Zero point of INT8 inputs (0 when <see cref="HasInt8Output"/> is false).</summary>
        public int InputZeroPoint { get; }

        /// <summary>Scale of the INT8 output (0 when <see cref="HasInt8Output"/> is false).</summary>
        public double Int8OutputScale { get; }

        /// <summary>Zero point of the INT8 output.</summary>
        public int Int8OutputZeroPoint { get; }

        /// <summary>M0 of <c>S_eff / Int8OutputScale</c> (<see cref="FixedPoint.QuantizeMultiplier"/>).</summary>
        public int RequantizeMultiplier { get; }

        /// <summary>shift of <c>S_eff / Int8OutputScale</c> (<see cref="FixedPoint.QuantizeMultiplier"/>).</summary>
        public int RequantizeShift { get; }

        /// <summary>
        /// Constants for INT32 (or zero-point-free) inputs at <paramref name="inputScale"/>; the kernel's result is
        /// an int at <see cref="OutputScale"/>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The scale is not positive and finite or far outside
        /// [2^-54, 2^26], or a coefficient is not negative.</exception>
        public static GeluPlan Create(double inputScale, double a = DefaultA, double b = DefaultB) =>
            Build(inputScale, a, b, false, 0, 0, 0);

        /// <summary>
        /// Constants for INT8 inputs (<c>real = inputScale * (q - inputZeroPoint)</c>) and INT8 outputs
        /// (<c>real = outputScale * (q - outputZeroPoint)</c>); also usable with INT32 inputs.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A scale is not positive and finite, a zero point is outside
        /// [-128, 127], or a coefficient is not negative.</exception>
        public static GeluPlan CreateInt8(double inputScale, int inputZeroPoint, double outputScale, int outputZeroPoint,
            double a = DefaultA, double b = DefaultB)
        {
            NonlinearMath.CheckScale(outputScale, nameof(outputScale));
            CheckZeroPoint(inputZeroPoint, nameof(inputZeroPoint));
            CheckZeroPoint(outputZeroPoint, nameof(outputZeroPoint));
            return Build(inputScale, a, b, true, inputZeroPoint, outputScale, outputZeroPoint);
        }

        private static GeluPlan Build(double inputScale, double a, double b, bool int8, int inputZeroPoint,
            double outputScale, int outputZeroPoint)
        {
            if (!(a < 0) || !(b < 0) || double.IsInfinity(a) || double.IsInfinity(b))
            {
                throw new ArgumentOutOfRangeException(nameof(a), "Both GELU coefficients must be negative and finite.");
            }

            int k = NonlinearMath.AlignmentShift(inputScale, nameof(inputScale), out double effective);
            double unitT = effective / Math.Sqrt(2.0);
            long clamp = NonlinearMath.RoundToLong(-b / unitT, "The GELU clamp");

            // d^2 * M is about |a| * (S' d)^2 * 2^(P - 1 + shift) <= |a| b^2 * 2^62 for P - 1 + shift = 62:
            // the product fits a long with room for the rounding term (checked exactly below).
            int shift = 63 - FractionBits;
            long multiplier = NonlinearMath.RoundToLong(-a * unitT * unitT * Math.Pow(2.0, FractionBits - 1 + shift),
                "The GELU polynomial multiplier");
            try
            {
                checked
                {
                    long worst = clamp * clamp * multiplier + (1L << (shift - 1));
                    _ = worst;
                }
            }
            catch (OverflowException)
            {
                throw new ArgumentOutOfRangeException(nameof(b), b, "|a| * b^2 is too large for the integer GELU.");
            }

            int m0 = 0;
            int qShift = 0;
            if (int8)
            {
                FixedPoint.QuantizeMultiplier(effective / outputScale, out m0, out qShift);
            }

            return new GeluPlan(inputScale, a, b, k, effective, clamp, multiplier, shift, int8, inputZeroPoint,
                outputScale, outputZeroPoint, m0, qShift);
        }

        private static void CheckZeroPoint(int zeroPoint, string name)
        {
            if (zeroPoint < QuantizationMath.Int8Min || zeroPoint > QuantizationMath.Int8Max)
            {
                throw new ArgumentOutOfRangeException(name, zeroPoint, "An INT8 zero point must be in [-128, 127].");
            }
        }

        /// <summary>The constants with their real meaning, one per line (for comments in generated code).</summary>
        public string Describe()
        {
            var text = new StringBuilder();
            text.Append("Integer GELU, x * (1 + erf(x / sqrt 2)) / 2, erf(t) ~ sign(t) * [a (min(|t|, -b) + b)^2 + 1], a = ")
                .Append(NonlinearMath.Format(CoefficientA)).Append(", b = ").Append(NonlinearMath.Format(CoefficientB)).Append('\n');
            NonlinearMath.Line(text, "S", NonlinearMath.Format(InputScale), "input scale (real value of one input unit)");
            NonlinearMath.Line(text, "k", NonlinearMath.Format(InputShift), "v = q * 2^k (negative: rounding right shift)");
            NonlinearMath.Line(text, "S_eff", NonlinearMath.Format(OutputScale), "scale of v and of the INT32 result, S * 2^-k");
            NonlinearMath.Line(text, "clamp", NonlinearMath.Format(ClampInt), "round(-b / S'), S' = S_eff / sqrt 2: |v| beyond it has erf = +-1");
            NonlinearMath.Line(text, "M", NonlinearMath.Format(PolynomialMultiplier),
                "round(|a| S'^2 2^(P - 1 + shift)), P = " + NonlinearMath.Format(FractionBits) + ": h = (d^2 M) >> shift is |a| (min(|t|, -b) + b)^2 2^(P - 1)");
            NonlinearMath.Line(text, "shift", NonlinearMath.Format(PolynomialShift), "right shift of d^2 M");
            if (HasInt8Output)
            {
                NonlinearMath.Line(text, "Z_in", NonlinearMath.Format(InputZeroPoint), "INT8 input zero point");
                NonlinearMath.Line(text, "S_out", NonlinearMath.Format(Int8OutputScale), "INT8 output scale");
                NonlinearMath.Line(text, "Z_out", NonlinearMath.Format(Int8OutputZeroPoint), "INT8 output zero point");
                NonlinearMath.Line(text, "M0, shift", NonlinearMath.Format(RequantizeMultiplier) + ", " + NonlinearMath.Format(RequantizeShift),
                    "S_eff / S_out = " + NonlinearMath.Format(OutputScale / Int8OutputScale) + " as M0 * 2^(shift - 31)");
            }

            return text.ToString();
        }

        /// <inheritdoc />
        public override string ToString() => Describe();

        /// <inheritdoc />
        public bool Equals(GeluPlan? other) =>
            other is not null &&
            InputScale.Equals(other.InputScale) && CoefficientA.Equals(other.CoefficientA) &&
            CoefficientB.Equals(other.CoefficientB) && InputShift == other.InputShift &&
            OutputScale.Equals(other.OutputScale) && ClampInt == other.ClampInt &&
            PolynomialMultiplier == other.PolynomialMultiplier && PolynomialShift == other.PolynomialShift &&
            HasInt8Output == other.HasInt8Output && InputZeroPoint == other.InputZeroPoint &&
            Int8OutputScale.Equals(other.Int8OutputScale) && Int8OutputZeroPoint == other.Int8OutputZeroPoint &&
            RequantizeMultiplier == other.RequantizeMultiplier && RequantizeShift == other.RequantizeShift;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as GeluPlan);

        /// <inheritdoc />
        public override int GetHashCode()
        {
            int hash = NonlinearMath.Hash(InputScale);
            hash = NonlinearMath.Combine(hash, NonlinearMath.Hash(CoefficientA));
            hash = NonlinearMath.Combine(hash, NonlinearMath.Hash(CoefficientB));
            hash = NonlinearMath.Combine(hash, PolynomialMultiplier.GetHashCode());
            hash = NonlinearMath.Combine(hash, InputZeroPoint);
            hash = NonlinearMath.Combine(hash, NonlinearMath.Hash(Int8OutputScale));
            hash = NonlinearMath.Combine(hash, Int8OutputZeroPoint);
            return hash;
        }
    }
}
