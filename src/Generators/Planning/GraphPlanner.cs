using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Emitting;
using Gen.Generators.Emitting.Ops;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Makes a quantized graph ready to emit: each node's emit plan from its op's emitter (the dense layers packed for the
    /// kernels, the GELU tables evaluated, ...), plus what the generated class says about itself.
    /// </summary>
    internal static class GraphPlanner
    {
        public static GraphPlan Plan(QuantizedGraph model, ModelSpec spec, CompilationFacts facts)
        {
            var (values, nodes, rowWise) = Nodes(model, facts);
            var graph = model.Graph;
            var plan = spec.Bert is { } bert ? Bert(values, nodes, graph, model.Output, bert, facts)
                : spec.Transformer is { } t ? Transformer(values, nodes, graph, model.Output, spec, t, facts)
                : Dense(values, nodes, graph, model.Output, spec, rowWise, facts);
            return plan with { EmitVnni512 = EmitsVnni512(facts) };
        }

        private static GraphPlan Bert(ValuePlan[] values, NodePlan[] nodes, ModelGraph graph, QuantizationParameters output, BertSpec b, CompilationFacts facts)
        {
            int layers = graph.Nodes.Count(n => n.Kind == OpKind.Attention);
            var constants = new[] { new ConstantPlan("LayerCount", layers, "Encoder layers.") };
            // A heading before the embeddings and before the first node of each encoder layer (origins 1 .. 1 + layers, BertFrontend's numbering).
            var headings = Enumerable.Repeat("", nodes.Length).ToArray();
            int previous = -1;
            for (int i = 0; i < nodes.Length; i++)
            {
                int origin = graph.Nodes[i].Origin;
                if (origin != previous)
                {
                    headings[i] = origin == 1 ? "Embeddings: word row + position row + segment-0 row, then LayerNorm."
                        : origin >= 2 && origin < 2 + layers ? $"Encoder layer {CodeWriter.Int(origin - 1)}, '{BertShape.LayerPrefix(origin - 2)}': y = Norm1(x + Out(Attention(x))); x' = Norm2(y + Fc2(GELU(Fc1(y))))."
                        : origin == 2 + layers ? "Pooling." : "";
                }

                previous = origin;
            }

            return new GraphPlan(new EquatableArray<ValuePlan>(values), new EquatableArray<NodePlan>(nodes), graph.Input, graph.Output, output.Scale, output.ZeroPoint, false,
                facts.HasAvxVnni, facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck, "BERT encoder", Frontends.BertDeclaration.Summary(graph, b), "sequence",
                new EquatableArray<ConstantPlan>(constants), new EquatableArray<string>(headings));
        }

        /// <summary>
        /// Any graph, described by <paramref name="family"/> and <paramref name="summary"/>, its samples called
        /// <paramref name="sampleName"/> (the form a new frontend starts from, and what the one-op tests emit).
        /// </summary>
        public static GraphPlan Plan(QuantizedGraph model, CompilationFacts facts, string family, string summary, string sampleName)
        {
            var (values, nodes, rowWise) = Nodes(model, facts);
            var graph = model.Graph;
            return new GraphPlan(new EquatableArray<ValuePlan>(values), new EquatableArray<NodePlan>(nodes), graph.Input, graph.Output,
                model.Output.Scale, model.Output.ZeroPoint, rowWise, facts.HasAvxVnni, facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck, family, summary, sampleName,
                new EquatableArray<ConstantPlan>(new[] { new ConstantPlan("LayerCount", nodes.Length, "Nodes of the graph.") }),
                new EquatableArray<string>(Enumerable.Repeat("", nodes.Length).ToArray())) { EmitVnni512 = EmitsVnni512(facts) };
        }

        /// <summary>The zmm VNNI kernels exist where AvxVnni.V512 does (and AvxVnni itself is a supported API).</summary>
        internal static bool EmitsVnni512(CompilationFacts facts) => facts.HasAvxVnni && facts.HasAvxVnni512;

        private static (ValuePlan[] Values, NodePlan[] Nodes, bool RowWise) Nodes(QuantizedGraph model, CompilationFacts facts)
        {
            var graph = model.Graph;
            var values = graph.Values.Select(v => new ValuePlan(v.Name, v.Rows, v.Columns, v.IsConstant, v.IsTokenIds, v.IsWide)).ToArray();
            var nodes = new NodePlan[graph.Nodes.Count];
            for (int i = 0; i < nodes.Length; i++)
            {
                var node = graph.Nodes[i];
                var input = graph.Values[node.Inputs[0]];
                object op = model.Ops[i];
                nodes[i] = node.Kind switch
                {
                    OpKind.Dense => DenseEmitter.Plan(node, (QuantizedDense)op, facts),
                    OpKind.Im2Col => Im2ColEmitter.Plan(node, (Im2ColAttributes)op),
                    OpKind.Add => AddEmitter.Plan(node, op, model),
                    OpKind.LayerNorm => LayerNormEmitter.Plan(node, (LayerNormPlan)op, model, input.Rows),
                    OpKind.Attention => AttentionEmitter.Plan(node, (AttentionPlan)op, input.Rows, input.Columns, graph.InputValue.IsTokenIds, graph.OutputValue.Rows == 1),
                    OpKind.Gelu => GeluEmitter.Plan(node, (GeluPlan)op, model),
                    OpKind.MeanPool => MeanPoolEmitter.Plan(node, (MeanPoolPlan)op, input.Columns, graph.InputValue.IsTokenIds),
                    OpKind.Embedding => EmbeddingEmitter.Plan(node, (EmbeddingPlan)op, input.Elements),
                    OpKind.ClsToken => ClsTokenEmitter.Plan(node, input.Columns),
                    OpKind.Narrow => NarrowEmitter.Plan(node, (NarrowPlan)op, input.Elements, input.Columns),
                    _ => throw new System.NotSupportedException($"No emitter for {node.Kind}."),
                };
                var bounds = model.Bounds[i];
                if (nodes[i] is DenseNodePlan d && KernelPacker.LaneBound(((QuantizedDense)op).Weights, d.Layer.InputSize, d.Layer.OutputSize, d.Layer.Route) is { } lanes)
                {
                    bounds = bounds.With(lanes);
                }

                nodes[i] = nodes[i] with { Bounds = new EquatableArray<string>(bounds.CommentLines().ToArray()) };
            }

            // Samples run as the rows of one batch when every node is a dense layer over rows; otherwise one at a time.
            bool rowWise = graph.IsRowWise && graph.Nodes.All(n => n.Kind == OpKind.Dense);
            return (values, nodes, rowWise);
        }

        private static GraphPlan Dense(ValuePlan[] values, NodePlan[] nodes, ModelGraph graph, QuantizationParameters output, ModelSpec spec, bool rowWise, CompilationFacts facts)
        {
            string topology = CodeWriter.Int(graph.InputSize) + string.Concat(spec.Layers.Select(l =>
                $" -> {l.Name} {CodeWriter.Int(l.Outputs)}" + (l.Activation == 0 ? "" : " " + (l.Activation == 1 ? "ReLU" : "ReLU6"))));
            var constants = new[] { new ConstantPlan("LayerCount", spec.Layers.Length, "Number of layers.") };
            return new GraphPlan(new EquatableArray<ValuePlan>(values), new EquatableArray<NodePlan>(nodes), graph.Input, graph.Output, output.Scale, output.ZeroPoint, rowWise, facts.HasAvxVnni, facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck,
                "model", topology, "row", new EquatableArray<ConstantPlan>(constants), new EquatableArray<string>(Enumerable.Repeat("", nodes.Length).ToArray()));
        }

        private static GraphPlan Transformer(ValuePlan[] values, NodePlan[] nodes, ModelGraph graph, QuantizationParameters output, ModelSpec spec, TransformerSpec t, CompilationFacts facts)
        {
            var e = t.Embedding!;
            int tokens = e.ImageHeight / e.PatchSize * (e.ImageWidth / e.PatchSize);
            string I(long v) => CodeWriter.Int(v);
            string summary = $"{I(e.Channels)}x{I(e.ImageHeight)}x{I(e.ImageWidth)} image, {I(e.PatchSize)}x{I(e.PatchSize)} patches ({I(tokens)} tokens), " +
                $"width {I(e.Width)}, {I(t.Layers.Length)} encoder layer{(t.Layers.Length == 1 ? "" : "s")}" +
                (t.Layers.Length == 0 ? "" : $" ({I(t.Layers[0].Heads)} heads, feed-forward {I(t.Layers[0].FeedForward)})") +
                ", mean pooling" + string.Concat(spec.Layers.Select(h => $" -> {h.Name} {I(h.Outputs)}"));
            var constants = new[]
            {
                new ConstantPlan("Tokens", tokens, "Tokens (patches) per image."),
                new ConstantPlan("Width", e.Width, "Features per token."),
                new ConstantPlan("LayerCount", t.Layers.Length, "Encoder layers."),
            };

            // A heading before the first node of each encoder layer (origins 2 .. 1 + layers, VisionTransformerFrontend's numbering).
            var headings = Enumerable.Repeat("", nodes.Length).ToArray();
            int previous = -1;
            for (int i = 0; i < nodes.Length; i++)
            {
                int origin = graph.Nodes[i].Origin, layer = origin - 2;
                if (origin != previous && layer >= 0 && layer < t.Layers.Length)
                {
                    var l = t.Layers[layer];
                    headings[i] = $"Encoder layer {I(layer + 1)}, '{l.Prefix}': {I(l.Heads)} heads of {I(e.Width / System.Math.Max(1, l.Heads))}, feed-forward {I(l.FeedForward)}: " +
                        "y = x + Out(Attention(Norm1(x))); x' = y + Fc2(GELU(Fc1(Norm2(y)))).";
                }

                previous = origin;
            }

            return new GraphPlan(new EquatableArray<ValuePlan>(values), new EquatableArray<NodePlan>(nodes), graph.Input, graph.Output, output.Scale, output.ZeroPoint, false, facts.HasAvxVnni, facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck,
                "vision transformer", summary, "image", new EquatableArray<ConstantPlan>(constants), new EquatableArray<string>(headings));
        }
    }
}
