using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>An im2col of a CHW image (a ViT's patchify when <see cref="Stride"/> equals <see cref="Kernel"/>).</summary>
    internal sealed record Im2ColNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Channels, int Height, int Width, int Kernel,
        int Stride, int OutputWidth, int Windows) : NodePlan(Name, Inputs, Output)
    {
        public int WindowValues => Channels * Kernel * Kernel;
    }

    /// <summary>The im2col's emitter: one copy of <c>Kernel</c> pixels per (window, channel, row).</summary>
    internal static class Im2ColEmitter
    {
        public static Im2ColNodePlan Plan(GraphNode node, Im2ColAttributes a) =>
            new Im2ColNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, a.Channels, a.Height, a.Width, a.Kernel,
                a.Stride, a.OutputWidth, a.Windows);

        public static string Call(string method, string input, string output) => $"{method}({input}, {output});";

        public static void Emit(CodeWriter w, Im2ColNodePlan p, string method)
        {
            int k = p.Kernel, columns = p.OutputWidth;
            string what = p.Stride == k ? "patches" : "windows";
            w.Line($"/// <summary>Cuts the {I(p.Channels)}x{I(p.Height)}x{I(p.Width)} image into {I(p.Windows)} {what} of {I(k)}x{I(k)}" +
                (p.Stride == k ? "" : $" every {I(p.Stride)} pixels") + $": row t is the one at grid row");
            w.Line($"/// t / {I(columns)}, column t % {I(columns)}; its {I(p.WindowValues)} values are ordered (channel, row, column), as a Conv2d weight flattens.</summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> image, Span<sbyte> patches)");
            w.Open($"for (int t = 0; t < {I(p.Windows)}; t++)");
            w.Line($"int top = t / {I(columns)} * {I(p.Stride)}, left = t % {I(columns)} * {I(p.Stride)};");
            w.Open($"for (int row = 0; row < {I(p.Channels * k)}; row++)");
            w.Line($"int channel = row / {I(k)}, dy = row % {I(k)};");
            w.Line($"image.Slice((channel * {I(p.Height)} + top + dy) * {I(p.Width)} + left, {I(k)}).CopyTo(patches.Slice(t * {I(p.WindowValues)} + row * {I(k)}, {I(k)}));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
