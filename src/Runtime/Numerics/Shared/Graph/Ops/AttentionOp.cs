using System;

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

                return new AttentionPlan(a.Heads, headSize, softmax, q, k, v, context, m0, shift);
            }
            catch (ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"Attention of '{a.Part}': {Text.Reason(e)}");
                return null;
            }
        }
    }
}
