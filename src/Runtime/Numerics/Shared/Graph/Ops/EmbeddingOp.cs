namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Attributes of an embedding lookup: each token id of the input picks a row of the table <c>{name}.weight</c>
    /// [<see cref="Vocabulary"/>, <see cref="Width"/>] (a word, position or segment embedding).
    /// </summary>
    /// <param name="Vocabulary">Rows of the table: ids run from 0 to Vocabulary - 1.</param>
    /// <param name="Width">Values per row.</param>
    public sealed record EmbeddingAttributes(int Vocabulary, int Width) : OpAttributes;

    /// <summary>
    /// An embedding table in integer form: symmetric INT8 per tensor (scale max |value| / 127), which is also the output's
    /// quantization, so the gather itself is a copy of rows.
    /// </summary>
    public sealed class EmbeddingPlan
    {
        internal EmbeddingPlan(int vocabulary, int width, sbyte[] table, QuantizationParameters quantization)
        {
            Vocabulary = vocabulary;
            Width = width;
            Table = table;
            Quantization = quantization;
        }

        /// <summary>Rows of the table.</summary>
        public int Vocabulary { get; }

        /// <summary>Values per row.</summary>
        public int Width { get; }

        /// <summary>Row-major [Vocabulary, Width] INT8 values.</summary>
        public sbyte[] Table { get; }

        /// <summary>The table's quantization, and the output's.</summary>
        public QuantizationParameters Quantization { get; }
    }

    /// <summary>The embedding lookup: shape inference, validation and quantization.</summary>
    public static class EmbeddingOp
    {
        /// <summary>Adds a lookup of the token ids <paramref name="ids"/> (a value of ids, [tokens]) in the table <c>{name}.weight</c>.</summary>
        public static int Embedding(this GraphBuilder b, int ids, string name, int vocabulary, int width, int origin, string? outputName = null)
        {
            var input = b.Value(ids);
            if (!input.IsTokenIds) b.Invalid(origin, $"The embedding '{name}' reads token ids, but '{input.Name}' holds INT8 activations.");
            if (vocabulary <= 0 || width <= 0) b.Invalid(origin, $"The embedding '{name}' needs a positive vocabulary and width (got {Text.Int(vocabulary)} x {Text.Int(width)}).");
            return b.Node(OpKind.Embedding, name, new[] { ids }, outputName ?? name, new[] { input.Elements, System.Math.Max(width, 1) }, origin,
                new EmbeddingAttributes(vocabulary, width));
        }

        /// <summary>The table quantized; the output takes its quantization (<see cref="OpRules.QuantizationFromWeights"/>).</summary>
        public static EmbeddingPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            var a = (EmbeddingAttributes)node.Attributes;
            float[]? table = c.Weights.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { a.Vocabulary, a.Width });
            if (table is null) return null;
            var q = QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(table, 0, table.Length));
            var values = new sbyte[table.Length];
            for (int i = 0; i < table.Length; i++) values[i] = (sbyte)QuantizationMath.Quantize(table[i], q.Scale, 0);
            c.SetQuantization(node.Output, q);
            var plan = new EmbeddingPlan(a.Vocabulary, a.Width, values, q);
            return c.Prove(node, $"The embedding '{node.Name}'", Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The lookup's one integer: the INT32 index <c>id * Width + j</c> into the table, at most <c>Vocabulary * Width - 1</c>
        /// (reached by the last id; a larger id is refused at run time). No arithmetic touches the values.
        /// </summary>
        public static OpBounds Bounds(EmbeddingPlan plan) =>
            new OpBounds(new IntegerBound("table index", "the INT32 table index id * width", (System.Numerics.BigInteger)plan.Vocabulary * plan.Width - 1, 31,
                "use a smaller table"));
    }
}
