using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>CLS pooling: the first of the rows of <see cref="Width"/>.</summary>
    internal sealed record ClsTokenNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Width) : NodePlan(Name, Inputs, Output);

    /// <summary>The CLS pooling's emitter: a copy of the first row, which keeps its quantization.</summary>
    internal static class ClsTokenEmitter
    {
        public static ClsTokenNodePlan Plan(GraphNode node, int width) =>
            new ClsTokenNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, width);

        public static string Call(string method, string input, string output) => $"{method}({input}, {output});";

        public static void Emit(CodeWriter w, string method, ClsTokenNodePlan p)
        {
            w.Line($"/// <summary>CLS pooling: the first token's {CodeWriter.Int(p.Width)} values (the [CLS] token's), at the same scale and zero point.</summary>");
            w.Line($"private static void {method}(ReadOnlySpan<sbyte> tokens, Span<sbyte> pooled) => tokens.Slice(0, {CodeWriter.Int(p.Width)}).CopyTo(pooled);");
            w.Line();
        }
    }
}
