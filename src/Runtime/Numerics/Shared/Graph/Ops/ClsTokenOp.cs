namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of taking the first row of a sequence (BERT's <c>[CLS]</c> pooling).</summary>
    public sealed record ClsTokenAttributes : OpAttributes;

    /// <summary>
    /// CLS pooling: the first row of the encoder's output, the token the tokenizer puts first (<c>[CLS]</c>). It copies
    /// values, so its output keeps its input's quantization (<see cref="OpRules.KeepsInputQuantization"/>).
    /// </summary>
    public static class ClsTokenOp
    {
        /// <summary>Adds the first row of <paramref name="input"/>: one row of its width.</summary>
        public static int ClsToken(this GraphBuilder b, int input, string name, int origin) =>
            b.Node(OpKind.ClsToken, name, new[] { input }, name, new[] { b.Value(input).Columns }, origin, new ClsTokenAttributes());

        /// <summary>Nothing to quantize: the attributes are the op.</summary>
        public static ClsTokenAttributes Quantize(QuantizeContext c, GraphNode node) => (ClsTokenAttributes)node.Attributes;
    }
}
