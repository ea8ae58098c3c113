using System;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time constants of the integer Softmax over a row: subtract the row maximum, integer exp
    /// (<see cref="ExpPlan"/>), sum, one integer division per row for the reciprocal of the sum, then a multiply and a
    /// rounding shift per element.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Input: integers q (INT32, or INT8 whose zero point cancels when the maximum is subtracted) with real value
    /// <c>S * factor * q</c>; <c>factor</c> folds a constant real multiplier of the logits into the scale, such as
    /// 1/sqrt(d) of attention.
    /// </para>
    /// <para>
    /// Output: INT8 probabilities with scale 1/256 and zero point -128 (TensorFlow Lite's INT8 Softmax convention):
    /// <c>q_out = clamp(round(256 * e_i / sum) - 128, -128, 127)</c>, so 0 is -128 and probability 1 saturates
    /// at 127 (255/256). The reciprocal <c>floor(2^62 / sum)</c> is formed once per row; e_i * reciprocal &lt;= 2^62.
    /// </para>
    /// </remarks>
    public sealed class SoftmaxPlan : IEquatable<SoftmaxPlan>
    {
        /// <summary>Scale of the INT8 probabilities: 1/256.</summary>
        public const double OutputScale = 1.0 / 256;

        /// <summary>Zero point of the INT8 probabilities: -128 (probability 0).</summary>
        public const int OutputZeroPoint = -128;

        /// <summary>log2 of the output's integer range per unit probability (256 = 2^8).</summary>
        public const int OutputBits = 8;

        /// <summary>The row reciprocal is <c>floor(2^ReciprocalBits / sum)</c>.</summary>
        public const int ReciprocalBits = 62;

        private SoftmaxPlan(double inputScale, double inputFactor, ExpPlan exp)
        {
            InputScale = inputScale;
            InputFactor = inputFactor;
            Exp = exp;
        }

        /// <summary>S: the scale of the integer logits.</summary>
        public double InputScale { get; }

        /// <summary>The real factor folded into the scale (1 when none).</summary>
        public double InputFactor { get; }

        /// <summary>The exp constants, for the input scale S * factor.</summary>
        public ExpPlan Exp { get; }

        /// <summary>
        /// Constants for logits at <paramref name="inputScale"/>, optionally multiplied by a positive real
        /// <paramref name="inputFactor"/> (e.g. 1/sqrt(head size)) folded into the scale at compile time.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The scale or factor is not positive and finite, or their
        /// product is far outside [2^-54, 2^26].</exception>
        public static SoftmaxPlan Create(double inputScale, double inputFactor = 1.0)
        {
            NonlinearMath.CheckScale(inputScale, nameof(inputScale));
            NonlinearMath.CheckScale(inputFactor, nameof(inputFactor));
            return new SoftmaxPlan(inputScale, inputFactor, ExpPlan.Create(inputScale * inputFactor));
        }

        /// <summary>The constants with their real meaning, one per line (for comments in generated code).</summary>
        public string Describe()
        {
            var text = new StringBuilder();
            text.Append("Integer Softmax: e_i = exp(S factor (q_i - max q)), q_out = clamp(round(256 e_i / sum e) - 128, -128, 127)\n");
            NonlinearMath.Line(text, "factor", NonlinearMath.Format(InputFactor), "real factor folded into the input scale");
            Exp.AppendLines(text);
            NonlinearMath.Line(text, "reciprocal", "floor(2^" + NonlinearMath.Format(ReciprocalBits) + " / sum)", "one long division per row");
            NonlinearMath.Line(text, "S_out, Z_out", "1/256, -128", "INT8 probabilities");
            return text.ToString();
        }

        /// <inheritdoc />
        public override string ToString() => Describe();

        /// <inheritdoc />
        public bool Equals(SoftmaxPlan? other) =>
            other is not null && InputScale.Equals(other.InputScale) && InputFactor.Equals(other.InputFactor) &&
            Exp.Equals(other.Exp);

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as SoftmaxPlan);

        /// <inheritdoc />
        public override int GetHashCode() =>
            NonlinearMath.Combine(NonlinearMath.Combine(NonlinearMath.Hash(InputScale), NonlinearMath.Hash(InputFactor)), Exp.GetHashCode());
    }
}
