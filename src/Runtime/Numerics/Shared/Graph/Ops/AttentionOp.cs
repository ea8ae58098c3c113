using System;
using System.Numerics;

namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of multi-head attention; <see cref="Part"/> names it in messages (the encoder layer).</summary>
    /// <param name="Heads">Heads; head h uses features <c>h * d</c> to <c>(h + 1) * d - 1</c> of Q, K and V.</param>
    /// <param name="Part">The encoder layer's prefix.</param>
    public sealed record AttentionAttributes(int Heads, string Part) : OpAttributes;

    /// <summary>
    /// Attention in integer form: INT32 scores <c>sum_d (q - Z_q)(k - Z_k)</c>, the integer Softmax with 1/sqrt(d)
    /// folded in (INT8 probabilities at 1/256, zero point -128), and <c>sum_j (p_j + 128)(v_j - Z_v)</c> requantized by
    /// <c>S_v / (256 S_context)</c>.
    /// </summary>
    public sealed class AttentionPlan
    {
        internal AttentionPlan(int heads, int headSize, SoftmaxPlan softmax, QuantizationParameters query, QuantizationParameters key,
            QuantizationParameters value, QuantizationParameters context, int contextMultiplier, int contextShift)
        {
            Heads = heads;
            HeadSize = headSize;
            Softmax = softmax;
            Query = query;
            Key = key;
            Value = value;
            Context = context;
            ContextMultiplier = contextMultiplier;
            ContextShift = contextShift;
        }

        /// <summary>Heads.</summary>
        public int Heads { get; }

        /// <summary>Features per head.</summary>
        public int HeadSize { get; }

        /// <summary>The Softmax of the scores, input scale <c>S_q S_k</c> with the factor <c>1/sqrt(HeadSize)</c>.</summary>
        public SoftmaxPlan Softmax { get; }

        /// <summary>Quantization of Q.</summary>
        public QuantizationParameters Query { get; }

        /// <summary>Quantization of K.</summary>
        public QuantizationParameters Key { get; }

        /// <summary>Quantization of V.</summary>
        public QuantizationParameters Value { get; }

        /// <summary>Quantization of the context (all heads side by side).</summary>
        public QuantizationParameters Context { get; }

        /// <summary>M0 of <c>S_v / (256 S_context)</c>.</summary>
        public int ContextMultiplier { get; }

        /// <summary>Shift of <c>S_v / (256 S_context)</c> (<see cref="FixedPoint.QuantizeMultiplier"/>: negative is right).</summary>
        public int ContextShift { get; }
    }

    /// <summary>Multi-head attention: shape inference, validation and quantization.</summary>
    public static class AttentionOp
    {
        /// <summary>Adds attention over the rows (tokens) of <paramref name="query"/>, <paramref name="key"/>, <paramref name="value"/>.</summary>
        public static int Attention(this GraphBuilder b, int query, int key, int value, string name, int heads, string part, int origin)
        {
            var q = b.Value(query);
            if (heads <= 0 || q.Columns % heads != 0) b.Invalid(origin, $"Encoder layer '{part}': {Text.Int(heads)} heads do not divide the width {Text.Int(q.Columns)}.");
            if (!b.Value(key).Shape.Equals(q.Shape) || !b.Value(value).Shape.Equals(q.Shape))
            {
                b.Invalid(origin, $"Attention of '{part}': Q {q.ShapeText}, K {b.Value(key).ShapeText} and V {b.Value(value).ShapeText} differ.");
            }

            return b.Node(OpKind.Attention, name, new[] { query, key, value }, name, q.Shape.ToArray(), origin, new AttentionAttributes(heads, part));
        }

        /// <summary>The Softmax constants and the context's requantization.</summary>
        public static AttentionPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            var a = (AttentionAttributes)node.Attributes;
            int headSize = c.InValue(node).Columns / a.Heads;
            QuantizationParameters q = c.In(node, 0), k = c.In(node, 1), v = c.In(node, 2), context = c.Out(node);
            try
            {
                var softmax = SoftmaxPlan.Create((double)q.Scale * k.Scale, 1.0 / Math.Sqrt(headSize));
                if (!Requantization.TryMultiplier(v.Scale * SoftmaxPlan.OutputScale / context.Scale, out int m0, out int shift, out string? why))
                {
                    c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"Attention of '{a.Part}': {why}");
                    return null;
                }

                var plan = new AttentionPlan(a.Heads, headSize, softmax, q, k, v, context, m0, shift);
                return c.Prove(node, $"Attention of '{a.Part}'", Bounds(plan, c.InValue(node).Rows)) ? plan : null;
            }
            catch (ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"Attention of '{a.Part}': {Text.Reason(e)}");
                return null;
            }
        }

        /// <summary>
        /// The largest |score| any Q and K give: d times the largest |(q - Z_q)(k - Z_k)|, which is at the ends of the two
        /// ranges (reached there).
        /// </summary>
        public static BigInteger ScoreBound(AttentionPlan plan)
        {
            long hq = 127 - plan.Query.ZeroPoint, lq = -128 - plan.Query.ZeroPoint, hk = 127 - plan.Key.ZeroPoint, lk = -128 - plan.Key.ZeroPoint;
            long product = Math.Max(Math.Max(Math.Abs(hq * hk), Math.Abs(lq * lk)), Math.Max(Math.Abs(hq * lk), Math.Abs(lq * hk)));
            return (BigInteger)plan.HeadSize * product;
        }

        /// <summary>
        /// The attention's integers over <paramref name="tokens"/> tokens, for any Q, K and V:
        /// <list type="bullet">
        /// <item>the INT32 score <c>sum_e (q - Z_q)(k - Z_k)</c>: d times the largest product of the two ranges' ends (reached
        /// by q and k at those ends; every partial sum of the scalar and SIMD kernels lies within it);</item>
        /// <item>the 64-bit sum of exps: the largest exp is <c>exp(0) = B^2 + C</c> (<c>r + B</c> lies in (B - ln2, B]), and a
        /// row of equal scores sums N of them (reached);</item>
        /// <item>the 64-bit product of a probability, <c>e_j F + 2^53</c> with <c>F = floor(2^62 / sum)</c>: e_j &lt;= sum, so at
        /// most 2^62 + 2^53 (reached by a single token);</item>
        /// <item>the INT32 context <c>sum_j (p_j + 128)(v_j - Z_v)</c>: each <c>p_j + 128 = min(floor(256 e_j / sum + 1/2), 255)</c>,
        /// so their sum is at most <c>min(255 N, 256 + floor(N / 2))</c>, times the largest |v - Z_v| (sound; a uniform row
        /// comes within N / 2 of it);</item>
        /// <item>the 64-bit requantization product of the context, <c>|acc| M0 + 2^30</c>.</item>
        /// </list>
        /// </summary>
        public static OpBounds Bounds(AttentionPlan plan, int tokens)
        {
            BigInteger scores = ScoreBound(plan);
            var exp = plan.Softmax.Exp;
            BigInteger largestExp = (BigInteger)exp.PolynomialB * exp.PolynomialB + exp.PolynomialC;
            BigInteger sum = tokens * largestExp;
            BigInteger probability = (BigInteger.One << SoftmaxPlan.ReciprocalBits) + (BigInteger.One << (SoftmaxPlan.ReciprocalBits - SoftmaxPlan.OutputBits - 1));
            BigInteger weights = BigInteger.Min(255 * (BigInteger)tokens, 256 + (BigInteger)(tokens / 2));
            BigInteger contextSum = weights * BoundMath.Span(plan.Value.ZeroPoint);
            BigInteger requantization = contextSum * plan.ContextMultiplier + (1L << 30);
            const string Report = "this cannot happen; please report it";
            return new OpBounds(
                new IntegerBound("|q.k|", "the INT32 score sum_e (q - Z_q)(k - Z_k)", scores, 31, "use heads of fewer features"),
                new IntegerBound("sum exp", "the 64-bit sum of the exps of a row of scores", sum, 63, "use fewer tokens"),
                new IntegerBound("|e F|", "the 64-bit product of an exp and the row's reciprocal", probability, 63, Report),
                new IntegerBound("|p.v|", "the INT32 context sum_j (p_j + 128)(v_j - Z_v)", contextSum, 31, "use fewer tokens"),
                new IntegerBound("|acc M0|", "the 64-bit requantization product of the context", requantization, 63, Report));
        }
    }
}
