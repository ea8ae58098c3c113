using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Emitting.Ops;
using Gen.Generators.Model;
using Gen.Generators.Planning;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// Writes a <see cref="GraphPlan"/> as C#: the constants, the kernel path selection, the <c>Run</c> overloads and the
    /// walk through the nodes with every value at its planned workspace offset, then each node's methods from its op's
    /// emitter (<c>Emitting/Ops</c>), the GEMM kernels of the dense layers, and the data.
    /// </summary>
    internal static class GraphEmitter
    {
        /// <summary>When the AVX-512 versions of the non-GEMM steps run (vpmullq needs AVX-512DQ).</summary>
        internal const string Simd = "path >= 3 && Avx512BW.IsSupported && Avx512DQ.IsSupported";

        /// <summary>Rows of a row-wise model (an MLP) that go through the layers together: the 4-row kernels' block.</summary>
        internal const int RowBlock = 4;

        private static string I(long v) => CodeWriter.Int(v);

        public static string Emit(ModelPlan plan)
        {
            var g = plan.Graph!;
            var names = MethodNames(plan, g);
            var dense = g.DenseLayers();
            var denseNames = g.Nodes.Select((n, i) => (n, i)).Where(x => x.n is DenseNodePlan).Select(x => names[x.i]).ToArray();
            bool nonlinear = g.Nodes.Any(n => n is LayerNormNodePlan || n is AttentionNodePlan || n is MeanPoolNodePlan);

            var w = new CodeWriter();
            ModelEmitter.OpenClass(w, plan, $"{g.Family} generated from <c>{ModelEmitter.Xml(plan.WeightsFile)}</c>: {ModelEmitter.Xml(g.Summary)}",
                nonlinear
                    ? new[]
                    {
                        "uses integer arithmetic only (INT8 matrix products, integer",
                        "Softmax, LayerNorm and GELU after I-BERT) and allocates nothing: its activations live on the calling thread's",
                        "stack (or in a workspace the caller passes; see <c>WorkspaceSize</c>), so every method is thread-safe and reentrant.",
                    }
                    : new[]
                    {
                        "uses integer arithmetic only and allocates nothing. Its scratch",
                        "activations live on the calling thread's stack (or in a workspace the caller passes; see <c>WorkspaceSize</c>),",
                        "so every method is thread-safe and reentrant.",
                    });
            EmitConstants(w, plan, g);
            ModelEmitter.EmitPathSelection(w, g.EmitVnni, g.VnniVersionCheck, g.EmitVnni512);
            long workspace = g.InputValue.IsTokenIds ? EmitSequenceRun(w, g, names) : g.RowWise ? EmitRowRun(w, g, names) : EmitSampleRun(w, g, names);
            for (int i = 0; i < g.Nodes.Length; i++)
            {
                if (g.Headings[i].Length > 0)
                {
                    w.Line($"// ===== {CodeWriter.Comment(g.Headings[i])} =====");
                    w.Line();
                }

                EmitMethods(w, g, g.Nodes[i], names[i]);
            }

            if (nonlinear) IntegerHelpers.Emit(w, g.Nodes.OfType<AttentionNodePlan>().Any(AttentionEmitter.UsesTranspose16x8));
            var denseNodes = g.Nodes.OfType<DenseNodePlan>().ToArray();
            for (int i = 0; i < dense.Length; i++) DenseKernelEmitter.Emit(w, dense[i], denseNames[i], i, denseNodes[i].Bounds.AsArray());
            DenseKernelEmitter.EmitConversions(w, dense);
            ModelEmitter.EmitRequantize(w);
            ModelEmitter.EmitThrowHelpers(w);
            RunApiEmitter.EmitStackBytes(w, workspace, g.InputValue.IsTokenIds);
            for (int i = 0; i < dense.Length; i++) ModelEmitter.EmitLayerData(w, dense[i], denseNames[i]);
            foreach (var (add, i) in g.Nodes.Select((n, i) => (n as AddNodePlan, i)).Where(x => x.Item1 != null && x.Item1.Constant.Length > 0))
            {
                var constant = g.Values[add!.Inputs[1]];
                AddEmitter.EmitConstant(w, add, ConstantName(names[i]), constant.Rows, constant.Columns);
            }

            w.Close();
            if (plan.Namespace != null) w.Close();
            return w.ToString();
        }

        private static void EmitConstants(CodeWriter w, ModelPlan plan, GraphPlan g)
        {
            if (g.InputValue.IsTokenIds)
            {
                // Token ids have no scale: MaxTokens (with the Run API) says what the input may hold.
                w.Line("/// <summary>Values per output (one sequence's embedding, or its rows).</summary>");
                w.Line($"public const int OutputSize = {I(g.OutputValue.Elements)};");
                w.Line("/// <summary>Real value of one step of the INT8 output: <c>real = OutputScale * (q - OutputZeroPoint)</c>.</summary>");
                w.Line($"public const float OutputScale = {CodeWriter.Float(g.OutputScale)};");
                w.Line("/// <summary>The INT8 output value that represents real 0.</summary>");
                w.Line($"public const int OutputZeroPoint = {I(g.OutputZeroPoint)};");
                foreach (var c in g.Constants)
                {
                    w.Line($"/// <summary>{ModelEmitter.Xml(c.Summary)}</summary>");
                    w.Line($"public const int {c.Name} = {I(c.Value)};");
                }

                w.Line();
                return;
            }

            bool image = g.SampleName == "image";
            w.Line(image ? "/// <summary>Values per input image (channel-major, then row-major).</summary>" : "/// <summary>Values per input row.</summary>");
            w.Line($"public const int InputSize = {I(g.InputValue.Elements)};");
            w.Line("/// <summary>Values per output row.</summary>");
            w.Line($"public const int OutputSize = {I(g.OutputValue.Elements)};");
            foreach (var c in g.Constants.Where(c => c.Name != "LayerCount"))
            {
                w.Line($"/// <summary>{ModelEmitter.Xml(c.Summary)}</summary>");
                w.Line($"public const int {c.Name} = {I(c.Value)};");
            }

            w.Line(image ? "/// <summary>Real value of one input step: <c>real = InputScale * (q - InputZeroPoint)</c>.</summary>" : "/// <summary>Real value of one step of the INT8 input.</summary>");
            w.Line($"public const float InputScale = {CodeWriter.Float(plan.InputScale)};");
            w.Line("/// <summary>The INT8 input value that represents real 0.</summary>");
            w.Line($"public const int InputZeroPoint = {I(plan.InputZeroPoint)};");
            w.Line(image ? "/// <summary>Real value of one output step.</summary>" : "/// <summary>Real value of one step of the INT8 output.</summary>");
            w.Line($"public const float OutputScale = {CodeWriter.Float(g.OutputScale)};");
            w.Line("/// <summary>The INT8 output value that represents real 0.</summary>");
            w.Line($"public const int OutputZeroPoint = {I(g.OutputZeroPoint)};");
            foreach (var c in g.Constants.Where(c => c.Name == "LayerCount"))
            {
                w.Line($"/// <summary>{ModelEmitter.Xml(c.Summary)}</summary>");
                w.Line($"public const int {c.Name} = {I(c.Value)};");
            }

            w.Line();
        }

        /// <summary>
        /// The methods of every node: dense layers get their GEMM kernel names (their kernels come later, from the one kernel
        /// family); the other ops get a name from their role, kept clear of the user's and the generated members.
        /// </summary>
        private static string[] MethodNames(ModelPlan plan, GraphPlan g)
        {
            var allocator = new NameAllocator(plan);
            var names = new string[g.Nodes.Length];
            var denseIndices = Enumerable.Range(0, g.Nodes.Length).Where(i => g.Nodes[i] is DenseNodePlan).ToArray();
            var denseNames = ModelEmitter.MethodNames(denseIndices.Select(i => ((DenseNodePlan)g.Nodes[i]).Layer).ToArray(), allocator);
            for (int i = 0; i < denseIndices.Length; i++) names[denseIndices[i]] = denseNames[i];
            bool One<T>() => g.Nodes.OfType<T>().Count() == 1;
            string[] single = { "" };
            for (int i = 0; i < g.Nodes.Length; i++)
            {
                var node = g.Nodes[i];
                names[i] = node switch
                {
                    DenseNodePlan => names[i],
                    // The transformer's fixed names (GeneratedNames.TransformerMembers) when the model has one such op.
                    Im2ColNodePlan p when p.Stride == p.Kernel && One<Im2ColNodePlan>() => "Patchify",
                    Im2ColNodePlan p => allocator.Take("Im2Col" + ModelEmitter.Pascal(p.Name), null, single),
                    AddNodePlan p when p.Constant.Length > 0 && g.Nodes.OfType<AddNodePlan>().Count(a => a.Constant.Length > 0) == 1 => "AddPosition",
                    AddNodePlan p => allocator.Take(ModelEmitter.Pascal(g.Values[p.Output].Name), "Add" + ModelEmitter.Pascal(g.Values[p.Output].Name), new[] { "", "Constant" }),
                    MeanPoolNodePlan p when p.Masked => allocator.Take("MeanPool", "MeanPool" + ModelEmitter.Pascal(p.Name), MeanPoolEmitter.Suffixes),
                    MeanPoolNodePlan when One<MeanPoolNodePlan>() => "MeanPool",
                    MeanPoolNodePlan p => allocator.Take("MeanPool" + ModelEmitter.Pascal(p.Name), null, single),
                    ClsTokenNodePlan p => allocator.Take("ClsToken", "ClsToken" + ModelEmitter.Pascal(p.Name), single),
                    NarrowNodePlan p => allocator.Take(ModelEmitter.Pascal(p.Name) + "Narrow", null, single),
                    LayerNormNodePlan p => allocator.Take(ModelEmitter.Pascal(p.Name), ModelEmitter.Pascal(p.Name) + "LayerNorm", LayerNormEmitter.Suffixes),
                    AttentionNodePlan p => allocator.Take(ModelEmitter.Pascal(p.Prefix) + "Attention", null, AttentionEmitter.Suffixes),
                    GeluNodePlan p => allocator.Take(ModelEmitter.Pascal(p.Part) + "Gelu", null, GeluEmitter.Suffixes),
                    EmbeddingNodePlan p => allocator.Take(ModelEmitter.Pascal(p.Name), "Embedding" + ModelEmitter.Pascal(p.Name), EmbeddingEmitter.Suffixes),
                    _ => allocator.Take(ModelEmitter.Pascal(node.Name), null, single),
                };
            }

            // The exp of each attention is named after it: allocated last, beside the attention's own name.
            for (int i = 0; i < g.Nodes.Length; i++)
            {
                if (g.Nodes[i] is AttentionNodePlan a) names[i] += "|" + allocator.Take(ModelEmitter.Pascal(a.Prefix) + "Exp", null, AttentionEmitter.Suffixes);
            }

            return names;
        }

        private static string ConstantName(string addMethod) => addMethod == "AddPosition" ? "Position" : addMethod + "Constant";

        /// <summary>One node's methods and data (the one-op tests and new families use it alone).</summary>
        internal static void EmitMethods(CodeWriter w, GraphPlan g, NodePlan node, string name)
        {
            // What the op proved about its integers (a dense layer's go in its kernels' header).
            if (node is not DenseNodePlan)
            {
                foreach (string line in node.Bounds) w.Line("// " + CodeWriter.Comment(line));
            }

            switch (node)
            {
                case DenseNodePlan:
                    break; // the GEMM kernels are written together, after every other op
                case Im2ColNodePlan p:
                    Im2ColEmitter.Emit(w, p, name);
                    break;
                case AddNodePlan p:
                    AddEmitter.Emit(w, p, name, g.Values[p.Output].Elements, g.Values[p.Output].Columns);
                    break;
                case LayerNormNodePlan p:
                    LayerNormEmitter.Emit(w, p, name);
                    break;
                case AttentionNodePlan p:
                    var parts = name.Split('|');
                    AttentionEmitter.Emit(w, parts[0], parts[1], p, p.Tokens, p.Width);
                    break;
                case GeluNodePlan p:
                    GeluEmitter.Emit(w, name, p);
                    break;
                case MeanPoolNodePlan p:
                    MeanPoolEmitter.Emit(w, name, p);
                    break;
                case EmbeddingNodePlan p:
                    EmbeddingEmitter.Emit(w, name, p);
                    break;
                case ClsTokenNodePlan p:
                    ClsTokenEmitter.Emit(w, name, p);
                    break;
                case NarrowNodePlan p:
                    NarrowEmitter.Emit(w, name, p);
                    break;
                default:
                    throw new System.NotSupportedException("No emitter for " + node.GetType().Name);
            }
        }

        /// <summary>The call of one node in the walk, its inputs and output given as span expressions.</summary>
        private static string Call(GraphPlan g, NodePlan node, string name, string[] reads, string write, string rows)
        {
            switch (node)
            {
                case DenseNodePlan p:
                    return DenseEmitter.Call(name, reads[0], write, rows) + $" // '{CodeWriter.Comment(p.Name)}'";
                case Im2ColNodePlan:
                    return Im2ColEmitter.Call(name, reads[0], write);
                case AddNodePlan p:
                    return AddEmitter.Call(name, reads[0], p.Constant.Length > 0 ? ConstantName(name) : reads[1], write, rows);
                case LayerNormNodePlan:
                    return LayerNormEmitter.Call(name, reads[0], write, rows);
                case AttentionNodePlan p:
                    return AttentionEmitter.Call(name.Split('|')[0], reads[0], reads[1], reads[2], write, p.Masked ? "tokens, " : "");
                case GeluNodePlan:
                    // In place: the layout gives the output its input's bytes when nothing reads the input later; otherwise copy first.
                    return (reads[0] == write ? "" : $"{reads[0]}.CopyTo({write}); ") + GeluEmitter.Call(name, write);
                case MeanPoolNodePlan p:
                    return MeanPoolEmitter.Call(name, reads[0], write, p.Masked ? "tokens, " : "");
                case EmbeddingNodePlan:
                    return EmbeddingEmitter.Call(name, reads[0], write);
                case ClsTokenNodePlan:
                    return ClsTokenEmitter.Call(name, reads[0], write);
                case NarrowNodePlan:
                    return NarrowEmitter.Call(name, reads[0], write, rows);
                default:
                    throw new System.NotSupportedException("No emitter for " + node.GetType().Name);
            }
        }

        /// <summary>
        /// An MLP: rows go through the layers a block at a time. Hidden layer i's block of outputs is written by layer i and
        /// read by layer i + 1: the memory planner gives layers two apart the same bytes (and narrow ones the rest).
        /// </summary>
        private static long EmitRowRun(CodeWriter w, GraphPlan g, string[] names)
        {
            var layout = WorkspaceLayout.For(g, RowBlock);
            var plan = layout.Plan;
            RunApiEmitter.Emit(w, g.SampleName, plan.TotalBytes);
            w.Line("/// <summary>Runs <paramref name=\"rows\"/> rows with the kernels of <paramref name=\"path\"/> (lengths and overlaps already checked), the activations in <paramref name=\"workspace\"/>.</summary>");
            w.Open($"internal static void {RunApiEmitter.RunInWorkspace}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, Span<byte> workspace, int path)");
            var locals = LocalNames(g, layout, new[] { "input", "output", "rows", "workspace", "path", "all", "row", "count" }, v => "h");
            if (layout.Planned.Count > 0)
            {
                w.Line($"// Each hidden layer's outputs for a block of {I(RowBlock)} rows, at offsets planned at build time ({I(plan.TotalBytes)} bytes; {I(plan.SumOfBuffers)} for a buffer each).");
                w.Line("Span<sbyte> all = MemoryMarshal.Cast<byte, sbyte>(workspace);");
                for (int i = 0; i < layout.Planned.Count; i++)
                {
                    int v = layout.Planned[i];
                    w.Line($"Span<sbyte> {locals[v]} = all.Slice({I(plan.Offsets[i])}, {I(plan.Buffers[i].Bytes)}); // '{CodeWriter.Comment(g.Values[v].Name)}'");
                }
            }

            if (g.Nodes.Length == 1)
            {
                w.Line(Call(g, g.Nodes[0], names[0], new[] { "input" }, "output", "rows"));
            }
            else
            {
                w.Open($"for (int row = 0; row < rows; row += {I(RowBlock)})");
                w.Line($"int count = Math.Min({I(RowBlock)}, rows - row);");
                string View(int v) => v == g.Input ? "input.Slice(row * InputSize, count * InputSize)"
                    : v == g.Output ? "output.Slice(row * OutputSize, count * OutputSize)"
                    : $"{locals[layout.Storage[v]]}.Slice(0, count * {I(g.Values[v].Columns)})";
                for (int i = 0; i < g.Nodes.Length; i++)
                {
                    var node = g.Nodes[i];
                    w.Line(Call(g, node, names[i], node.Inputs.Select(View).ToArray(), View(node.Output), "count"));
                }

                w.Close();
            }

            w.Close();
            w.Line();
            return plan.TotalBytes;
        }

        /// <summary>A transformer: one sample (image) at a time through the walk, its rows (tokens) the rows of every value.</summary>
        private static long EmitSampleRun(CodeWriter w, GraphPlan g, string[] names)
        {
            var layout = WorkspaceLayout.For(g, 1);
            var plan = layout.Plan;
            string sample = "Run" + ModelEmitter.Pascal(g.SampleName);
            RunApiEmitter.Emit(w, g.SampleName, plan.TotalBytes);
            w.Line($"/// <summary>Runs <paramref name=\"rows\"/> {g.SampleName}s with the kernels of <paramref name=\"path\"/> (lengths and overlaps already checked), the activations in <paramref name=\"workspace\"/>.</summary>");
            w.Open($"internal static void {RunApiEmitter.RunInWorkspace}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, Span<byte> workspace, int path)");
            w.Line($"for (int i = 0; i < rows; i++) {sample}(input.Slice(i * InputSize, InputSize), output.Slice(i * OutputSize, OutputSize), workspace, path);");
            w.Close();
            w.Line();

            w.Line($"/// <summary>One {g.SampleName} through the whole model. Tokens are rows of the activation buffers, [Tokens, features].</summary>");
            w.Open($"private static void {sample}(ReadOnlySpan<sbyte> image, Span<sbyte> output, Span<byte> workspace, int path)");
            EmitWalk(w, g, names, layout, "image", new[] { "image", "output", "workspace", "path", "all" });
            return plan.TotalBytes;
        }

        /// <summary>
        /// The body of a one-sample walk: each planned value's slice of the workspace, then each node's call, the input read
        /// as <paramref name="input"/> (a parameter or local of the method, as are <paramref name="reserved"/>).
        /// </summary>
        /// <remarks>
        /// <paramref name="liveRows"/>, when given, is the run-time count of rows the dense layers over token rows compute
        /// (a pooled sequence model's real tokens: no padded row can reach its output).
        /// </remarks>
        private static void EmitWalk(CodeWriter w, GraphPlan g, string[] names, WorkspaceLayout layout, string input, string[] reserved, string? liveRows = null)
        {
            var plan = layout.Plan;
            w.Line("// Every step writes a value of its own; values that are never live together share bytes. The plan, made at build");
            w.Line($"// time from each value's lifetime (largest first, lowest free offset): {I(plan.TotalBytes)} bytes, against {I(plan.SumOfBuffers)} for a");
            w.Line($"// buffer each and {I(plan.PeakLiveBytes)} live at the busiest step.");
            w.Line("Span<sbyte> all = MemoryMarshal.Cast<byte, sbyte>(workspace);");
            var locals = LocalNames(g, layout, reserved, v => "v");
            for (int i = 0; i < layout.Planned.Count; i++)
            {
                int v = layout.Planned[i];
                var value = g.Values[v];
                w.Line($"Span<sbyte> {locals[v]} = all.Slice({I(plan.Offsets[i])}, {I(plan.Buffers[i].Bytes)}); // '{CodeWriter.Comment(value.Name)}' [{I(value.Rows)}, {I(value.Columns)}]");
            }

            string View(int v) => v == g.Input ? input : v == g.Output ? "output" : locals[layout.Storage[v]];
            for (int i = 0; i < g.Nodes.Length; i++)
            {
                var node = g.Nodes[i];
                if (g.Headings[i].Length > 0)
                {
                    w.Line();
                    w.Line($"// {CodeWriter.Comment(g.Headings[i])}");
                }

                long rows = g.Values[node.Inputs[0]].Rows;
                // Row by row ops over the token rows compute the real ones only; attention and pooling take the count themselves.
                bool live = liveRows != null && node is DenseNodePlan or LayerNormNodePlan or NarrowNodePlan or AddNodePlan { Constant.Length: 0 }
                    && rows == g.InputValue.Elements;
                w.Line(Call(g, node, names[i], node.Inputs.Select(View).ToArray(), View(node.Output), live ? liveRows! : I(rows)));
            }

            w.Close();
            w.Line();
        }

        /// <summary>
        /// A model of token ids (a BERT encoder): one sequence at a time through the walk, its tokens the rows of every value.
        /// The ids are padded to MaxTokens with id 0 ([PAD] in BERT vocabularies); the padded rows are computed like the
        /// others but are never keys of an attention nor counted by the pooling, so they cannot change the output.
        /// </summary>
        private static long EmitSequenceRun(CodeWriter w, GraphPlan g, string[] names)
        {
            var layout = WorkspaceLayout.For(g, 1);
            var plan = layout.Plan;
            int maxTokens = (int)g.InputValue.Elements;
            RunApiEmitter.EmitTokens(w, maxTokens, plan.TotalBytes);
            w.Line("/// <summary>Runs sequences with the kernels of <paramref name=\"path\"/>, the activations in <paramref name=\"workspace\"/> (already checked).</summary>");
            w.Open($"internal static void {RunApiEmitter.RunSequencesInWorkspace}(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> lengths, Span<sbyte> outputs, Span<byte> workspace, int path)");
            w.Line("long total = 0;");
            w.Open("foreach (int length in lengths)");
            w.Line("if ((uint)(length - 1) >= MaxTokens) throw new ArgumentException($\"A sequence has {length} tokens; this model reads 1 to MaxTokens = {MaxTokens}.\", nameof(tokenIds));");
            w.Line("total += length;");
            w.Close();
            w.Line("if (total != tokenIds.Length) throw new ArgumentException($\"The lengths add up to {total} tokens but {tokenIds.Length} ids were given.\", nameof(lengths));");
            w.Line("if (outputs.Length != (long)lengths.Length * OutputSize) ThrowLength(nameof(outputs), outputs.Length, (long)lengths.Length * OutputSize);");
            w.Line("int start = 0;");
            w.Open("for (int s = 0; s < lengths.Length; s++)");
            w.Line("RunSequence(tokenIds.Slice(start, lengths[s]), outputs.Slice(s * OutputSize, OutputSize), workspace, path);");
            w.Line("start += lengths[s];");
            w.Close();
            w.Close();
            w.Line();

            w.Line("/// <summary>One sequence through the whole model. Tokens are rows of the activation buffers, [MaxTokens, features].</summary>");
            w.Open("private static void RunSequence(ReadOnlySpan<int> tokenIds, Span<sbyte> output, Span<byte> workspace, int path)");
            w.Line("int tokens = tokenIds.Length;");
            w.Line($"Span<int> ids = {w.StackAlloc("int", maxTokens)};");
            w.Line("tokenIds.CopyTo(ids);");
            w.Line("ids.Slice(tokens).Clear(); // padding: id 0, never a key and never pooled");
            // A pooled encoder's output depends on the real tokens' rows only: the dense layers and the attention's queries
            // stop there (the padded rows then hold what the workspace held, which nothing reads into the output).
            bool pooled = g.OutputValue.Rows == 1;
            if (pooled) w.Line("// The dense layers and the attention's queries compute the real tokens' rows only: the output is pooled from them.");
            EmitWalk(w, g, names, layout, "ids", new[] { "tokenIds", "output", "workspace", "path", "all", "tokens", "ids" }, pooled ? "tokens" : null);
            return plan.TotalBytes;
        }

        /// <summary>A local variable name for each workspace value: its name in camelCase, unique, clear of the method's own names.</summary>
        private static string[] LocalNames(GraphPlan g, WorkspaceLayout layout, string[] reserved, System.Func<int, string> prefix)
        {
            var used = new HashSet<string>(reserved, System.StringComparer.Ordinal);
            var names = new string[g.Values.Length];
            foreach (int v in layout.Planned)
            {
                string pascal = ModelEmitter.Pascal(g.Values[v].Name);
                string name = char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
                if (Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None) name = prefix(v) + pascal;
                string candidate = name;
                for (int n = 2; !used.Add(candidate); n++) candidate = name + "_" + I(n);
                names[v] = candidate;
            }

            return names;
        }
    }
}
