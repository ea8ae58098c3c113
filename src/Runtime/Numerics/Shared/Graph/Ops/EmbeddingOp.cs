namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Attributes of an embedding lookup: each token id of the input picks a row of the table <c>{name}.weight</c>
    /// [<see cref="Vocabulary"/>, <see cref="Width"/>]. BERT's embeddings add two more tables: row t of a position table
    /// for the token at position t, and row 0 of a segment (token type) table, since a single sentence is all segment 0.
    /// </summary>
    /// <param name="Vocabulary">Rows of the table: ids run from 0 to Vocabulary - 1.</param>
    /// <param name="Width">Values per row.</param>
    /// <param name="Positions">The position table's tensor (<c>embeddings.position_embeddings.weight</c>), or null.</param>
    /// <param name="PositionRows">Its rows (the model's maximum positions; at least the tokens).</param>
    /// <param name="Segments">The segment table's tensor (<c>embeddings.token_type_embeddings.weight</c>), or null.</param>
    /// <param name="SegmentRows">Its rows (2 for BERT).</param>
    public sealed record EmbeddingAttributes(int Vocabulary, int Width, string? Positions = null, int PositionRows = 0, string? Segments = null,
        int SegmentRows = 0) : OpAttributes
    {
        /// <summary>Whether the lookup adds position or segment rows (BERT's embeddings) to the word rows.</summary>
        public bool IsSum => Positions != null || Segments != null;
    }

    /// <summary>
    /// An embedding table in integer form: symmetric INT8 per tensor (scale max |value| / 127). A lookup in one table
    /// outputs at the table's quantization, so the gather is a copy of rows. BERT's sum adds a second INT8 table, the
    /// position rows with the segment row added at build time ([tokens, width], symmetric), and rounds the sum once into
    /// the output's calibrated quantization (<see cref="Sum"/>, the integer add across scales).
    /// </summary>
    public sealed class EmbeddingPlan
    {
        internal EmbeddingPlan(int vocabulary, int width, sbyte[] table, QuantizationParameters quantization, sbyte[]? positions = null,
            QuantizationParameters positionQuantization = default, ResidualAddPlan? sum = null)
        {
            Vocabulary = vocabulary;
            Width = width;
            Table = table;
            Quantization = quantization;
            Positions = positions;
            PositionQuantization = positionQuantization;
            Sum = sum;
        }

        /// <summary>For BERT's sum: row t is position t's embedding plus segment 0's, INT8 [tokens, width]; null for a plain lookup.</summary>
        public sbyte[]? Positions { get; }

        /// <summary>The quantization of <see cref="Positions"/>.</summary>
        public QuantizationParameters PositionQuantization { get; }

        /// <summary>For BERT's sum: word row + position row into the output's quantization; null for a plain lookup.</summary>
        public ResidualAddPlan? Sum { get; }

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
        public static int Embedding(this GraphBuilder b, int ids, string name, int vocabulary, int width, int origin, string? outputName = null) =>
            b.Embedding(ids, name, new EmbeddingAttributes(vocabulary, width), origin, outputName ?? name);

        /// <summary>
        /// Adds BERT's embeddings of the token ids <paramref name="ids"/>: word row <c>ids[t]</c> of <c>{name}.weight</c>, plus
        /// row t of <paramref name="positions"/> [<paramref name="positionRows"/>, width], plus row 0 of
        /// <paramref name="segments"/> [<paramref name="segmentRows"/>, width].
        /// </summary>
        public static int Embedding(this GraphBuilder b, int ids, string name, int vocabulary, int width, string positions, int positionRows,
            string segments, int segmentRows, int origin, string outputName)
        {
            int tokens = b.Value(ids).Elements;
            if (positionRows < tokens) b.Invalid(origin, $"The embedding '{name}' has {Text.Int(positionRows)} positions but the model reads {Text.Int(tokens)} tokens.");
            if (segmentRows <= 0) b.Invalid(origin, $"The embedding '{name}' needs at least one segment row (got {Text.Int(segmentRows)}).");
            return b.Embedding(ids, name, new EmbeddingAttributes(vocabulary, width, positions, positionRows, segments, segmentRows), origin, outputName);
        }

        private static int Embedding(this GraphBuilder b, int ids, string name, EmbeddingAttributes a, int origin, string outputName)
        {
            var input = b.Value(ids);
            if (!input.IsTokenIds) b.Invalid(origin, $"The embedding '{name}' reads token ids, but '{input.Name}' holds INT8 activations.");
            if (a.Vocabulary <= 0 || a.Width <= 0) b.Invalid(origin, $"The embedding '{name}' needs a positive vocabulary and width (got {Text.Int(a.Vocabulary)} x {Text.Int(a.Width)}).");
            return b.Node(OpKind.Embedding, name, new[] { ids }, outputName, new[] { input.Elements, System.Math.Max(a.Width, 1) }, origin, a);
        }

        /// <summary>
        /// The tables quantized. A plain lookup's output takes the table's quantization
        /// (<see cref="OpRules.QuantizationFromWeights"/>); BERT's sum is rounded into its calibrated one.
        /// </summary>
        public static EmbeddingPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            var a = (EmbeddingAttributes)node.Attributes;
            float[]? table = c.Weights.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { a.Vocabulary, a.Width });
            if (table is null) return null;
            var (values, q) = Symmetric(table);
            if (!a.IsSum)
            {
                c.SetQuantization(node.Output, q);
                var lookup = new EmbeddingPlan(a.Vocabulary, a.Width, values, q);
                return c.Prove(node, $"The embedding '{node.Name}'", Bounds(lookup)) ? lookup : null;
            }

            float[]? rows = PositionRows(c.Weights, node, c.InValue(node).Elements);
            if (rows is null) return null;
            var (positions, p) = Symmetric(rows);
            try
            {
                var sum = new EmbeddingPlan(a.Vocabulary, a.Width, values, q, positions, p, ResidualAddPlan.Create(q, p, c.Out(node)));
                return c.Prove(node, $"The embedding sum '{node.Name}'", Bounds(sum)) ? sum : null;
            }
            catch (System.ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"The embedding sum '{node.Name}': {Text.Reason(e)}");
                return null;
            }
        }

        /// <summary>
        /// Row t: position t's embedding plus segment 0's (a single sentence is all segment 0), in float, for the first
        /// <paramref name="tokens"/> positions. The float kernel and the quantizer both start from these rows.
        /// </summary>
        public static float[]? PositionRows(WeightReader weights, GraphNode node, int tokens)
        {
            var a = (EmbeddingAttributes)node.Attributes;
            float[]? positions = a.Positions is null ? null : weights.Float(node.Origin, node.Name, a.Positions, null, new[] { a.PositionRows, a.Width });
            float[]? segments = a.Segments is null ? null : weights.Float(node.Origin, node.Name, a.Segments, null, new[] { a.SegmentRows, a.Width });
            if ((a.Positions != null && positions is null) || (a.Segments != null && segments is null)) return null;
            var rows = new float[tokens * a.Width];
            for (int t = 0; t < tokens; t++)
            {
                for (int i = 0; i < a.Width; i++)
                {
                    // Hugging Face adds (word + segment) + position; adding position + segment first keeps one table and
                    // differs from that only by float32 rounding.
                    rows[t * a.Width + i] = (positions is null || t >= a.PositionRows ? 0 : positions[t * a.Width + i]) + (segments is null ? 0 : segments[i]);
                }
            }

            return rows;
        }

        private static (sbyte[] Values, QuantizationParameters Quantization) Symmetric(float[] data)
        {
            var q = QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(data, 0, data.Length));
            var values = new sbyte[data.Length];
            for (int i = 0; i < data.Length; i++) values[i] = (sbyte)QuantizationMath.Quantize(data[i], q.Scale, 0);
            return (values, q);
        }

        /// <summary>
        /// The lookup's one integer: the INT32 index <c>id * Width + j</c> into the table, at most <c>Vocabulary * Width - 1</c>
        /// (reached by the last id; a larger id is refused at run time). No arithmetic touches the values.
        /// </summary>
        /// <remarks>
        /// BERT's sum adds the INT32 <c>M_w w + M_p p + 2^(S-1)</c> of two symmetric INT8 values, at most
        /// <c>128 (M_w + M_p) + 2^(S-1)</c> (both at -128).
        /// </remarks>
        public static OpBounds Bounds(EmbeddingPlan plan)
        {
            var index = new IntegerBound("table index", "the INT32 table index id * width", (System.Numerics.BigInteger)plan.Vocabulary * plan.Width - 1, 31,
                "use a smaller table");
            if (plan.Sum is not { } add) return new OpBounds(index);
            var sum = 128 * ((System.Numerics.BigInteger)add.MultiplierA + add.MultiplierB) + (System.Numerics.BigInteger.One << (add.Shift - 1));
            return new OpBounds(index, new IntegerBound("|M_w w + M_p p|", "the INT32 sum of the word and position rows across scales", sum, 31,
                "raise the embeddings' output scale"));
        }
    }
}
