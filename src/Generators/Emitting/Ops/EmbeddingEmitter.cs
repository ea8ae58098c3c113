using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>An embedding lookup: the INT8 table and the tokens it serves.</summary>
    internal sealed record EmbeddingNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Vocabulary, int Width, int Tokens,
        EquatableArray<sbyte> Table, float Scale) : NodePlan(Name, Inputs, Output);

    /// <summary>The embedding's emitter: a bounds check and a copy of one table row per token.</summary>
    internal static class EmbeddingEmitter
    {
        public static readonly string[] Suffixes = { "", "Table" };

        public static EmbeddingNodePlan Plan(GraphNode node, EmbeddingPlan p, int tokens) =>
            new EmbeddingNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, p.Vocabulary, p.Width, tokens,
                new EquatableArray<sbyte>(p.Table), p.Quantization.Scale);

        public static string Call(string method, string ids, string output) => $"{method}({ids}, {output});";

        public static void Emit(CodeWriter w, string method, EmbeddingNodePlan p)
        {
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
            w.Line($"// The table, one row per line of {I(p.Width)} values.");
            w.Line($"private static ReadOnlySpan<sbyte> {method}Table => new sbyte[]");
            w.Line("{");
            var block = new CodeWriter();
            block.Values(p.Table.AsArray(), 0, p.Table.Length, 32, v => CodeWriter.Int(v));
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
