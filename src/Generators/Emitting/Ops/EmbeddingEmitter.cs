using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>
    /// An embedding lookup: the INT8 table and the tokens it serves; for BERT's sum also the position table
    /// (<see cref="Positions"/>, empty otherwise) and the add's constants into the output's quantization.
    /// </summary>
    internal sealed record EmbeddingNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Vocabulary, int Width, int Tokens,
        EquatableArray<sbyte> Table, float Scale, EquatableArray<sbyte> Positions, float PositionScale, int MultiplierA, int MultiplierB,
        int Shift, int OutputZeroPoint, float OutputScale) : NodePlan(Name, Inputs, Output);

    /// <summary>The embedding's emitter: a bounds check and a copy of one table row per token.</summary>
    internal static class EmbeddingEmitter
    {
        public static readonly string[] Suffixes = { "", "Table", "TableBytes", "Positions", "PositionsBytes" };

        public static EmbeddingNodePlan Plan(GraphNode node, EmbeddingPlan p, int tokens) =>
            new EmbeddingNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, p.Vocabulary, p.Width, tokens,
                new EquatableArray<sbyte>(p.Table), p.Quantization.Scale, new EquatableArray<sbyte>(p.Positions ?? System.Array.Empty<sbyte>()),
                p.PositionQuantization.Scale, p.Sum?.MultiplierA ?? 0, p.Sum?.MultiplierB ?? 0, p.Sum?.Shift ?? 0, p.Sum?.Output.ZeroPoint ?? 0,
                p.Sum?.Output.Scale ?? p.Quantization.Scale);

        public static string Call(string method, string ids, string output) => $"{method}({ids}, {output});";

        public static void Emit(CodeWriter w, string method, EmbeddingNodePlan p)
        {
            if (p.Positions.Length > 0)
            {
                EmitSum(w, method, p);
                return;
            }

            w.Line("/// <summary>");
            w.Line($"/// The embedding '{ModelEmitter.Xml(p.Name)}': row ids[t] of the [{I(p.Vocabulary)}, {I(p.Width)}] table for each of the {I(p.Tokens)} tokens, INT8 at");
            w.Line($"/// scale {CodeWriter.Real(p.Scale)} (max |value| / 127), zero point 0.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"ArgumentOutOfRangeException\">An id is outside the vocabulary.</exception>");
            w.Open($"private static void {method}(ReadOnlySpan<int> ids, Span<sbyte> output)");
            w.Line($"if (ids.Length < {I(p.Tokens)} || output.Length < {I((long)p.Tokens * p.Width)}) throw new ArgumentException(\"Embedding buffers are too short.\");");
            w.Line($"ReadOnlySpan<sbyte> table = {method}Table;");
            w.Open($"for (int t = 0; t < {I(p.Tokens)}; t++)");
            w.Line("int id = ids[t];");
            w.Line($"if ((uint)id >= {I(p.Vocabulary)}u) throw new ArgumentOutOfRangeException(nameof(ids), id, $\"Token {{t}} has id {{id}}, outside the vocabulary of {I(p.Vocabulary)} (ids 0 to {I(p.Vocabulary - 1)}).\");");
            w.Line($"table.Slice(id * {I(p.Width)}, {I(p.Width)}).CopyTo(output.Slice(t * {I(p.Width)}, {I(p.Width)}));");
            w.Close();
            w.Close();
            w.Line();
            EmitTable(w, method + "Table", $"The table, one row per line of {I(p.Width)} values.", p.Table);
        }

        // BERT's embeddings: word row + position row, two INT8 tables at their own scales, rounded once into the output's.
        private static void EmitSum(CodeWriter w, string method, EmbeddingNodePlan p)
        {
            long width = p.Width, offset = 1L << (p.Shift - 1);
            w.Line("/// <summary>");
            w.Line($"/// The embeddings '{ModelEmitter.Xml(p.Name)}': for each of the {I(p.Tokens)} tokens, row ids[t] of the [{I(p.Vocabulary)}, {I(p.Width)}] word table (scale");
            w.Line($"/// {CodeWriter.Real(p.Scale)}) plus row t of the position table (position t + segment 0, scale {CodeWriter.Real(p.PositionScale)}), both");
            w.Line($"/// symmetric, summed across scales into scale {CodeWriter.Real(p.OutputScale)}, zero point {I(p.OutputZeroPoint)}:");
            w.Line($"/// q = Z + ((M_w w + M_p p + 2^(S-1)) &gt;&gt; S) with M_w = {I(p.MultiplierA)} (S_w / S_out = {CodeWriter.Real((double)p.MultiplierA / (1L << p.Shift))}),");
            w.Line($"/// M_p = {I(p.MultiplierB)} (S_p / S_out = {CodeWriter.Real((double)p.MultiplierB / (1L << p.Shift))}), S = {I(p.Shift)}. |M_w w + M_p p| &lt;= 128 (M_w + M_p) stays in an int.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"ArgumentOutOfRangeException\">An id is outside the vocabulary.</exception>");
            w.Open($"private static void {method}(ReadOnlySpan<int> ids, Span<sbyte> output)");
            w.Line($"if (ids.Length < {I(p.Tokens)} || output.Length < {I(p.Tokens * width)}) throw new ArgumentException(\"Embedding buffers are too short.\");");
            w.Line($"ReadOnlySpan<sbyte> table = {method}Table, positions = {method}Positions;");
            w.Open($"for (int t = 0; t < {I(p.Tokens)}; t++)");
            w.Line("int id = ids[t];");
            w.Line($"if ((uint)id >= {I(p.Vocabulary)}u) throw new ArgumentOutOfRangeException(nameof(ids), id, $\"Token {{t}} has id {{id}}, outside the vocabulary of {I(p.Vocabulary)} (ids 0 to {I(p.Vocabulary - 1)}).\");");
            w.Line($"ReadOnlySpan<sbyte> word = table.Slice(id * {I(width)}, {I(width)}), position = positions.Slice(t * {I(width)}, {I(width)});");
            w.Line($"Span<sbyte> row = output.Slice(t * {I(width)}, {I(width)});");
            w.Open($"for (int c = 0; c < {I(width)}; c++)");
            w.Line($"int q = (({I(p.MultiplierA)} * word[c] + {I(p.MultiplierB)} * position[c] + {I(offset)}) >> {I(p.Shift)}) + {I(p.OutputZeroPoint)};");
            w.Line("row[c] = (sbyte)(q < -128 ? -128 : q > 127 ? 127 : q);");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            EmitTable(w, method + "Table", $"The word table, one row per line of {I(p.Width)} values.", p.Table);
            EmitTable(w, method + "Positions", $"Position t's row plus segment 0's, one row per line of {I(p.Width)} values.", p.Positions);
        }

        private static void EmitTable(CodeWriter w, string name, string comment, EquatableArray<sbyte> values)
        {
            var block = new CodeWriter();
            w.Line("// " + comment);
            if (values.Length > ModelEmitter.CompactWeightsThreshold)
            {
                // A large table (a vocabulary's) is written eight bytes to a literal, as the dense weights: the same bytes in
                // the image, an eighth of the tokens for the compiler.
                var bytes = values.AsArray();
                var words = new ulong[(bytes.Length + 7) / 8];
                for (int i = 0; i < bytes.Length; i++) words[i / 8] |= (ulong)(byte)bytes[i] << (8 * (i % 8));
                w.Line($"private static ReadOnlySpan<sbyte> {name} => MemoryMarshal.Cast<ulong, sbyte>({name}Bytes).Slice(0, {I(bytes.Length)});");
                w.Line();
                w.Line($"// The bytes of {name}, eight to a literal, least significant byte first.");
                w.Line($"private static ReadOnlySpan<ulong> {name}Bytes => new ulong[]");
                block.Values(words, 0, words.Length, 8, v => "0x" + v.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                w.Line($"private static ReadOnlySpan<sbyte> {name} => new sbyte[]");
                block.Values(values.AsArray(), 0, values.Length, 32, v => CodeWriter.Int(v));
            }

            w.Line("{");
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
