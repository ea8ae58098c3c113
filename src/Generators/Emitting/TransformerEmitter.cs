using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Generators.Planning;
using Gen.Runtime;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// Writes a <see cref="TransformerPlan"/> as C#: <c>Run</c> for one image, then one method per step (patches, dense
    /// layers through <see cref="DenseKernelEmitter"/>, LayerNorm, attention with its Softmax, GELU, residual adds,
    /// pooling), each with its shapes and constants as literals and a comment saying what they mean.
    /// </summary>
    internal static class TransformerEmitter
    {
        private static string I(long v) => CodeWriter.Int(v);

        /// <summary>When the AVX-512 versions of the non-GEMM steps run (vpmullq needs AVX-512DQ).</summary>
        private const string Simd = "path >= 3 && Avx512BW.IsSupported && Avx512DQ.IsSupported";

        public static string Emit(ModelPlan plan)
        {
            var t = plan.Transformer!;
            var dense = t.DenseLayers();
            var allocator = new NameAllocator(plan);
            var names = ModelEmitter.MethodNames(dense, allocator);
            var nameOf = new Dictionary<DenseLayerPlan, string>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < dense.Length; i++) nameOf[dense[i]] = names[i];
            // Each step's method with the names derived from it: a LayerNorm's AVX-512 token kernel and gamma and beta
            // tables, the attention's AVX-512 version, the exp's, the GELU's table.
            string[] norm = { "", "Avx512", "Gamma", "Beta" }, vectorized = { "", "Avx512" }, gelu = { "", "Table" }, single = { "" };
            string Unique(string wanted, string[] suffixes) => allocator.Take(wanted, null, suffixes);

            var layerNames = t.Layers.Select(l => ModelEmitter.Pascal(l.Prefix)).ToArray();
            var steps = t.Layers.Select((l, i) => new LayerMethods(
                Unique(layerNames[i] + "Norm1", norm), Unique(layerNames[i] + "Attention", vectorized),
                Unique(layerNames[i] + "AttentionResidual", single), Unique(layerNames[i] + "Norm2", norm),
                Unique(layerNames[i] + "Gelu", gelu), Unique(layerNames[i] + "FeedForwardResidual", single),
                Unique(layerNames[i] + "Exp", vectorized))).ToArray();
            string finalNorm = Unique(ModelEmitter.Pascal(t.FinalNorm.Name) + "LayerNorm", norm);

            var w = new CodeWriter();
            ModelEmitter.OpenClass(w, plan, $"vision transformer generated from <c>{ModelEmitter.Xml(plan.WeightsFile)}</c>: {ModelEmitter.Xml(Summary(t))}",
                "uses integer arithmetic only (INT8 matrix products, integer",
                "Softmax, LayerNorm and GELU after I-BERT) and allocates nothing: its activations live on the calling thread's",
                "stack (or in a workspace the caller passes; see <c>WorkspaceSize</c>), so every method is thread-safe and reentrant.");
            EmitConstants(w, plan, t);
            ModelEmitter.EmitPathSelection(w, t.Patch.EmitVnni, t.Patch.VnniVersionCheck);
            long workspace = EmitRun(w, t, nameOf, steps, finalNorm);
            EmitPatchify(w, t);
            EmitAdd(w, "AddPosition", t.PositionAdd, t.Tokens * t.Width,
                "the projected patches and the position embedding (a constant, below)");
            for (int i = 0; i < t.Layers.Length; i++)
            {
                var layer = t.Layers[i];
                var m = steps[i];
                w.Line($"// ===== Encoder layer {I(i + 1)}, '{CodeWriter.Comment(layer.Prefix)}': {I(layer.Heads)} heads of {I(layer.HeadSize)}, feed-forward {I(layer.FeedForward)} =====");
                w.Line();
                EmitLayerNorm(w, m.Norm1, layer.Norm1, t.Tokens);
                EmitAttention(w, m.Attention, m.Exp, layer, t.Tokens, t.Width);
                EmitAdd(w, m.AttentionResidual, layer.AttentionResidual, t.Tokens * t.Width,
                    $"the layer input and the attention output of '{layer.Prefix}'");
                EmitLayerNorm(w, m.Norm2, layer.Norm2, t.Tokens);
                EmitGelu(w, m.Gelu, layer, t.Tokens);
                EmitAdd(w, m.FeedForwardResidual, layer.FeedForwardResidual, t.Tokens * t.Width,
                    $"the attention residual and the feed-forward output of '{layer.Prefix}'");
            }

            EmitLayerNorm(w, finalNorm, t.FinalNorm, t.Tokens);
            EmitPool(w, t);
            EmitHelpers(w, t.Layers.Any(l => l.HeadSize == 16 && t.Tokens % 16 == 0));
            for (int i = 0; i < dense.Length; i++) DenseKernelEmitter.Emit(w, dense[i], names[i], i);
            DenseKernelEmitter.EmitConversions(w, dense);
            ModelEmitter.EmitRequantize(w);
            ModelEmitter.EmitThrowHelpers(w);
            RunApiEmitter.EmitStackBytes(w, workspace);
            for (int i = 0; i < dense.Length; i++) ModelEmitter.EmitLayerData(w, dense[i], names[i]);
            EmitPosition(w, t);
            w.Close();
            if (plan.Namespace != null) w.Close();
            return w.ToString();
        }

        private sealed record LayerMethods(string Norm1, string Attention, string AttentionResidual, string Norm2, string Gelu,
            string FeedForwardResidual, string Exp);

        private static string Summary(TransformerPlan t) =>
            $"{I(t.Channels)}x{I(t.ImageHeight)}x{I(t.ImageWidth)} image, {I(t.PatchSize)}x{I(t.PatchSize)} patches ({I(t.Tokens)} tokens), " +
            $"width {I(t.Width)}, {I(t.Layers.Length)} encoder layer{(t.Layers.Length == 1 ? "" : "s")}" +
            (t.Layers.Length == 0 ? "" : $" ({I(t.Layers[0].Heads)} heads, feed-forward {I(t.Layers[0].FeedForward)})") +
            ", mean pooling" + string.Concat(t.Head.Select(h => $" -> {h.Name} {I(h.OutputSize)}"));

        private static void EmitConstants(CodeWriter w, ModelPlan plan, TransformerPlan t)
        {
            w.Line("/// <summary>Values per input image (channel-major, then row-major).</summary>");
            w.Line($"public const int InputSize = {I(t.InputSize)};");
            w.Line("/// <summary>Values per output row.</summary>");
            w.Line($"public const int OutputSize = {I(t.OutputSize)};");
            w.Line("/// <summary>Tokens (patches) per image.</summary>");
            w.Line($"public const int Tokens = {I(t.Tokens)};");
            w.Line("/// <summary>Features per token.</summary>");
            w.Line($"public const int Width = {I(t.Width)};");
            w.Line("/// <summary>Real value of one input step: <c>real = InputScale * (q - InputZeroPoint)</c>.</summary>");
            w.Line($"public const float InputScale = {CodeWriter.Float(plan.InputScale)};");
            w.Line("/// <summary>The INT8 input value that represents real 0.</summary>");
            w.Line($"public const int InputZeroPoint = {I(plan.InputZeroPoint)};");
            w.Line("/// <summary>Real value of one output step.</summary>");
            w.Line($"public const float OutputScale = {CodeWriter.Float(t.OutputScale)};");
            w.Line("/// <summary>The INT8 output value that represents real 0.</summary>");
            w.Line($"public const int OutputZeroPoint = {I(t.OutputZeroPoint)};");
            w.Line("/// <summary>Encoder layers.</summary>");
            w.Line($"public const int LayerCount = {I(t.Layers.Length)};");
            w.Line();
        }

        /// <summary>The Run overloads and the walk through the model for one image; returns the workspace size.</summary>
        private static long EmitRun(CodeWriter w, TransformerPlan t, Dictionary<DenseLayerPlan, string> nameOf, LayerMethods[] steps, string finalNorm)
        {
            var layout = Layout(t);
            var plan = layout.Plan;
            RunApiEmitter.Emit(w, "image", plan.TotalBytes);
            w.Line("/// <summary>Runs <paramref name=\"rows\"/> images with the kernels of <paramref name=\"path\"/> (lengths and overlaps already checked), the activations in <paramref name=\"workspace\"/>.</summary>");
            w.Open($"internal static void {RunApiEmitter.RunInWorkspace}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, Span<byte> workspace, int path)");
            w.Line("for (int i = 0; i < rows; i++) RunImage(input.Slice(i * InputSize, InputSize), output.Slice(i * OutputSize, OutputSize), workspace, path);");
            w.Close();
            w.Line();

            w.Line("/// <summary>One image through the whole model. Tokens are rows of the activation buffers, [Tokens, features].</summary>");
            w.Open("private static void RunImage(ReadOnlySpan<sbyte> image, Span<sbyte> output, Span<byte> workspace, int path)");
            w.Line($"// Every step writes a value of its own; values that are never live together share bytes. The plan, made at build");
            w.Line($"// time from each value's lifetime (largest first, lowest free offset): {I(plan.TotalBytes)} bytes, against {I(plan.SumOfBuffers)} for a");
            w.Line($"// buffer each and {I(plan.PeakLiveBytes)} live at the busiest step.");
            w.Line("Span<sbyte> all = MemoryMarshal.Cast<byte, sbyte>(workspace);");
            foreach (var (name, offset, bytes, what) in layout.Values)
            {
                w.Line($"Span<sbyte> {name} = all.Slice({I(offset)}, {I(bytes)}); // {what}");
            }

            int tokens = t.Tokens;
            foreach (var step in layout.Steps)
            {
                var r = step.Reads;
                string o = step.Writes ?? "";
                var l = step.Layer >= 0 && step.Layer < t.Layers.Length ? t.Layers[step.Layer] : null;
                var m = step.Layer >= 0 && step.Layer < steps.Length ? steps[step.Layer] : null;
                switch (step.Kind)
                {
                    case WorkspaceLayout.Patchify:
                        w.Line();
                        w.Line($"Patchify({r[0]}, {o});");
                        break;
                    case WorkspaceLayout.PatchProjection:
                        w.Line($"{nameOf[t.Patch]}({r[0]}, {o}, {I(tokens)}, path); // '{CodeWriter.Comment(t.Patch.Name)}': each patch -> {I(t.Width)} features");
                        break;
                    case WorkspaceLayout.AddPosition:
                        w.Line($"AddPosition({r[0]}, Position, {o}, path);");
                        break;
                    case WorkspaceLayout.Norm1:
                        w.Line();
                        w.Line($"// Encoder layer {I(step.Layer + 1)}, '{CodeWriter.Comment(l!.Prefix)}': y = x + Out(Attention(Norm1(x))); x' = y + Fc2(GELU(Fc1(Norm2(y)))).");
                        w.Line($"{m!.Norm1}({r[0]}, {o}, path);");
                        break;
                    case WorkspaceLayout.Query: w.Line($"{nameOf[l!.Query]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.Key: w.Line($"{nameOf[l!.Key]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.Value: w.Line($"{nameOf[l!.Value]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.Attention: w.Line($"{m!.Attention}({r[0]}, {r[1]}, {r[2]}, {o}, path);"); break;
                    case WorkspaceLayout.AttentionOutput: w.Line($"{nameOf[l!.Output]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.AttentionResidual: w.Line($"{m!.AttentionResidual}({r[0]}, {r[1]}, {o}, path);"); break;
                    case WorkspaceLayout.Norm2: w.Line($"{m!.Norm2}({r[0]}, {o}, path);"); break;
                    case WorkspaceLayout.Fc1: w.Line($"{nameOf[l!.Fc1]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.Gelu: w.Line($"{m!.Gelu}({r[0]}, path); // in place"); break;
                    case WorkspaceLayout.Fc2: w.Line($"{nameOf[l!.Fc2]}({r[0]}, {o}, {I(tokens)}, path);"); break;
                    case WorkspaceLayout.FeedForwardResidual: w.Line($"{m!.FeedForwardResidual}({r[0]}, {r[1]}, {o}, path);"); break;
                    case WorkspaceLayout.FinalNorm:
                        w.Line();
                        w.Line($"{finalNorm}({r[0]}, {o}, path);");
                        break;
                    case WorkspaceLayout.Pool: w.Line($"MeanPool({r[0]}, {o}, path);"); break;
                    case WorkspaceLayout.Head: w.Line($"{nameOf[t.Head[step.Layer]]}({r[0]}, {o}, 1, path);"); break;
                    case WorkspaceLayout.Copy: w.Line($"{r[0]}.CopyTo({o});"); break;
                    default: throw new System.InvalidOperationException("Unknown step " + step.Kind);
                }
            }

            w.Close();
            w.Line();
            return plan.TotalBytes;
        }

        /// <summary>The walk of this model, with the workspace plan.</summary>
        internal static WorkspaceLayout Layout(TransformerPlan t) => WorkspaceLayout.Transformer(t.Tokens, t.Width, t.PatchValues,
            t.Layers.Select(l => (long)l.FeedForward).ToArray(), t.Head.Select(h => (long)h.OutputSize).ToArray());

        private static void EmitPatchify(CodeWriter w, TransformerPlan t)
        {
            int p = t.PatchSize, columns = t.ImageWidth / p;
            w.Line($"/// <summary>Cuts the {I(t.Channels)}x{I(t.ImageHeight)}x{I(t.ImageWidth)} image into {I(t.Tokens)} patches of {I(p)}x{I(p)}: token t is the patch at grid row");
            w.Line($"/// t / {I(columns)}, column t % {I(columns)}; its {I(t.PatchValues)} values are ordered (channel, row, column), as a Conv2d weight flattens.</summary>");
            w.Open("private static void Patchify(ReadOnlySpan<sbyte> image, Span<sbyte> patches)");
            w.Open($"for (int t = 0; t < {I(t.Tokens)}; t++)");
            w.Line($"int top = t / {I(columns)} * {I(p)}, left = t % {I(columns)} * {I(p)};");
            w.Open($"for (int row = 0; row < {I(t.Channels * p)}; row++)");
            w.Line($"int channel = row / {I(p)}, dy = row % {I(p)};");
            w.Line($"image.Slice((channel * {I(t.ImageHeight)} + top + dy) * {I(t.ImageWidth)} + left, {I(p)}).CopyTo(patches.Slice(t * {I(t.PatchValues)} + row * {I(p)}, {I(p)}));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>An INT8 add across scales, rounded once (ResidualAddPlan): one multiply per input, a shift.</summary>
        private static void EmitAdd(CodeWriter w, string method, AddPlan add, int count, string what)
        {
            string ma = I(add.MultiplierA), mb = I(add.MultiplierB), offset = I(add.Offset), shift = I(add.Shift), z = I(add.OutputZeroPoint);
            w.Line("/// <summary>");
            w.Line($"/// Adds {ModelEmitter.Xml(what)} across their scales, rounding once:");
            w.Line($"/// <c>q = clamp({z} + ((a * {ma} + b * {mb} + {offset}) &gt;&gt; {shift}))</c>, where the multipliers are the input scales over the");
            w.Line("/// output scale times 2^" + shift + " and the offset is the rounding term with both input zero points folded in.");
            w.Line($"/// {ModelEmitter.Xml(add.Description)}.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> sum, int path)");
            w.Line($"if (a.Length < {I(count)} || b.Length < {I(count)} || sum.Length < {I(count)}) throw new ArgumentException(\"Add buffers are too short.\");");
            w.Line("ref sbyte ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), rs = ref MemoryMarshal.GetReference(sum);");
            w.Line("int i = 0;");
            w.Open($"if ({Simd})");
            w.Line("// 16 at a time; every partial sum stays below 2^31 (the shift was chosen for that).");
            w.Open($"for (; i <= {I(count - 16)}; i += 16)");
            w.Line("Vector512<int> x1 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref ra, (nuint)i));");
            w.Line("Vector512<int> x2 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref rb, (nuint)i));");
            w.Line($"Vector512<int> y = Vector512.ShiftRightArithmetic(x1 * Vector512.Create({ma}) + x2 * Vector512.Create({mb}) + Vector512.Create({offset}), {shift});");
            w.Line($"Avx512F.ConvertToVector128SByteWithSaturation(y + Vector512.Create({z})).StoreUnsafe(ref rs, (nuint)i); // saturation is the clamp");
            w.Close();
            w.Close();
            w.Line();
            w.Open($"for (; i < {I(count)}; i++)");
            w.Line($"int y = (Unsafe.Add(ref ra, i) * {ma} + Unsafe.Add(ref rb, i) * {mb} + {offset}) >> {shift};");
            w.Line($"Unsafe.Add(ref rs, i) = (sbyte)Math.Clamp(y + {z}, -128, 127);");
            w.Close();
            w.Close();
            w.Line();
        }

        private static void EmitLayerNorm(CodeWriter w, string method, LayerNormEmitPlan plan, int tokens)
        {
            int n = plan.Width;
            int guard = LayerNormPlan.ReciprocalGuardBits(n);
            int normalizedShift = 62 - guard - LayerNormPlan.NormalizedFractionBits;
            // For INT8 rows |D_i| = N |q_i - mean| <= 255 N; while 255 N + 1 <= 2^31 / N no rounding shift s is needed.
            bool exact = 255L * n + 1 <= (1L << 31) / n;
            w.Line("/// <summary>");
            w.Line($"/// LayerNorm '{ModelEmitter.Xml(plan.Name)}' of each of the {I(tokens)} tokens, in integers:");
            foreach (var line in plan.Description.TrimEnd('\n').Split('\n')) w.Line("/// " + ModelEmitter.Xml(line.Trim()));
            w.Line($"/// Per token: D_i = {I(n)} q_i - sum (= N (q_i - mean), exact), W = {I(n)} sum D_i^2 scaled by 4^m into [2^60, 2^62),");
            w.Line($"/// R = IntSqrt(W 4^m) (R / 2^m = N sqrt(N) std), one reciprocal F = 2^{I(62 - guard)} / R, then n_i = (D_i N 2^m F) >> {I(normalizedShift)}");
            w.Line("/// = (q_i - mean) / std in Q16 and q_out = clamp(Z_out + ((n_i G_i + B_i + 2^(T-1)) >> T)).");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int path)");
            w.Line($"ReadOnlySpan<long> gamma = {method}Gamma, beta = {method}Beta;");
            w.Line($"if (input.Length < {I(tokens * n)} || output.Length < {I(tokens * n)}) throw new ArgumentException(\"LayerNorm buffers are too short.\");");
            if (exact)
            {
                w.Open($"if ({Simd})");
                w.Line("ref sbyte x = ref MemoryMarshal.GetReference(input), y = ref MemoryMarshal.GetReference(output);");
                w.Line("// Two tokens per iteration: each one's chain (sums, square root, reciprocal) is long, and they are independent.");
                w.Open($"for (int t = 0; t < {I(tokens)}; t += 2)");
                w.Line($"{method}Avx512(ref Unsafe.Add(ref x, t * {I(n)}), ref Unsafe.Add(ref y, t * {I(n)}));");
                w.Line($"if (t + 1 < {I(tokens)}) {method}Avx512(ref Unsafe.Add(ref x, (t + 1) * {I(n)}), ref Unsafe.Add(ref y, (t + 1) * {I(n)}));");
                w.Close();
                w.Line("return;");
                w.Close();
                w.Line();
            }

            w.Line($"Span<long> d = {w.StackAlloc("long", n)};");
            w.Open($"for (int t = 0; t < {I(tokens)}; t++)");
            w.Line($"ReadOnlySpan<sbyte> row = input.Slice(t * {I(n)}, {I(n)});");
            w.Line($"Span<sbyte> result = output.Slice(t * {I(n)}, {I(n)});");
            w.Line("long sum = 0;");
            w.Line($"for (int i = 0; i < {I(n)}; i++) sum += row[i];");
            if (exact)
            {
                w.Line($"// |D_i| <= 255 * {I(n)}, so E_i = D_i exactly (no rounding shift) and W <= 2^62.");
                w.Line("long squares = 0;");
                w.Open($"for (int i = 0; i < {I(n)}; i++)");
                w.Line($"long di = {I(n)} * (long)row[i] - sum;");
                w.Line("d[i] = di;");
                w.Line("squares += di * di;");
                w.Close();
            }
            else
            {
                w.Line("// Wide rows: E_i = D_i / 2^s rounded, with the smallest s that keeps |E_i| <= 2^31 / N.");
                w.Line("long maxAbs = 0;");
                w.Line($"for (int i = 0; i < {I(n)}; i++) maxAbs = Math.Max(maxAbs, Math.Abs({I(n)} * (long)row[i] - sum));");
                w.Line("int s = 0;");
                w.Line($"while ((maxAbs >> s) + 1 > {I((1L << 31) / n)}) s++;");
                w.Line("long squares = 0;");
                w.Open($"for (int i = 0; i < {I(n)}; i++)");
                w.Line($"long di = {I(n)} * (long)row[i] - sum;");
                w.Line("if (s > 0) di = (di + (1L << (s - 1))) >> s;");
                w.Line("d[i] = di;");
                w.Line("squares += di * di;");
                w.Close();
            }

            w.Line($"long wide = {I(n)} * squares;");
            w.Open("if (wide == 0)");
            w.Line("// Every value equal: the normalized row is 0 and only beta remains.");
            w.Line($"for (int i = 0; i < {I(n)}; i++) result[i] = Clamp8({I(plan.OutputZeroPoint)} + ((beta[i] + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)}));");
            w.Line("continue;");
            w.Close();
            w.Line("int m = (62 - (64 - BitOperations.LeadingZeroCount((ulong)wide))) / 2;");
            w.Line("long root = IntSqrt((ulong)wide << (2 * m));");
            w.Line($"long reciprocal = {I(1L << (62 - guard))}L / root;");
            w.Open($"for (int i = 0; i < {I(n)}; i++)");
            w.Line($"long normalized = (((d[i] * {I(n)}) << m) * reciprocal + {I(1L << (normalizedShift - 1))}L) >> {I(normalizedShift)};");
            w.Line($"result[i] = Clamp8({I(plan.OutputZeroPoint)} + ((normalized * gamma[i] + beta[i] + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)}));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            if (exact)
            {
                int vectors = n / 16, longs = n / 8;
                w.Line($"/// <summary>One token of '{ModelEmitter.Xml(plan.Name)}' with AVX-512 (the same integers as the scalar loop above).</summary>");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                w.Open($"private static void {method}Avx512(ref sbyte row, ref sbyte result)");
                w.Line($"ref long g = ref MemoryMarshal.GetReference({method}Gamma), bt = ref MemoryMarshal.GetReference({method}Beta);");
                w.Line($"// sum q and sum q^2 (|sum q^2| <= {I(n)} * 16384 fits an int); then sum D_i^2 = N^2 sum q^2 - N (sum q)^2 exactly.");
                w.Line("Vector512<int> sums = Vector512<int>.Zero, squares16 = Vector512<int>.Zero;");
                w.Open($"for (int i = 0; i < {I(vectors * 16)}; i += 16)");
                w.Line("Vector512<int> q = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref row, (nuint)i));");
                w.Line("sums += q;");
                w.Line("squares16 += q * q;");
                w.Close();
                w.Line("long sum = Vector512.Sum(sums), sumOfSquares = Vector512.Sum(squares16);");
                if (vectors * 16 < n)
                {
                    w.Open($"for (int i = {I(vectors * 16)}; i < {I(n)}; i++)");
                    w.Line("long q = Unsafe.Add(ref row, i);");
                    w.Line("sum += q;");
                    w.Line("sumOfSquares += q * q;");
                    w.Close();
                }

                w.Line($"long wide = {I(n)} * ({I((long)n * n)} * sumOfSquares - {I(n)} * sum * sum);");
                w.Open("if (wide == 0)");
                w.Line($"for (int i = 0; i < {I(n)}; i++) Unsafe.Add(ref result, i) = Clamp8({I(plan.OutputZeroPoint)} + ((Unsafe.Add(ref bt, i) + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)}));");
                w.Line("return;");
                w.Close();
                w.Line("int m = (62 - (64 - BitOperations.LeadingZeroCount((ulong)wide))) / 2;");
                w.Line("long reciprocal = " + I(1L << (62 - guard)) + "L / IntSqrt((ulong)wide << (2 * m));");
                w.Line("// Eight channels at a time in 64-bit lanes: A_i = (N q_i - sum) N 2^m, n_i = (A_i F + half) >> s, then gamma and beta.");
                w.Line($"Vector512<long> scale = Vector512.Create({I((long)n * n)}L << m), offset = Vector512.Create(sum * {I(n)} << m), f = Vector512.Create(reciprocal);");
                w.Open($"for (int i = 0; i < {I(longs * 8)}; i += 8)");
                w.Line("Vector512<long> q = Avx512F.ConvertToVector512Int64(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref row, i)))).AsSByte());");
                w.Line("Vector512<long> a = Avx512DQ.MultiplyLow(q, scale) - offset;");
                w.Line($"Vector512<long> normalized = Vector512.ShiftRightArithmetic(Avx512DQ.MultiplyLow(a, f) + Vector512.Create({I(1L << (normalizedShift - 1))}L), {I(normalizedShift)});");
                w.Line($"Vector512<long> value = Vector512.ShiftRightArithmetic(Avx512DQ.MultiplyLow(normalized, Vector512.LoadUnsafe(ref g, (nuint)i)) + Vector512.LoadUnsafe(ref bt, (nuint)i) + Vector512.Create({I(1L << (plan.OutputShift - 1))}L), {I(plan.OutputShift)});");
                w.Line($"Vector128<sbyte> bytes = Avx512F.ConvertToVector128SByteWithSaturation(value + Vector512.Create({I(plan.OutputZeroPoint)}L));");
                w.Line("Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref result, i)), bytes.AsInt64().ToScalar());");
                w.Close();
                if (longs * 8 < n)
                {
                    w.Open($"for (int i = {I(longs * 8)}; i < {I(n)}; i++)");
                    w.Line($"long normalized = ((((long)Unsafe.Add(ref row, i) * {I(n)} - sum) * {I(n)} << m) * reciprocal + {I(1L << (normalizedShift - 1))}L) >> {I(normalizedShift)};");
                    w.Line($"Unsafe.Add(ref result, i) = Clamp8({I(plan.OutputZeroPoint)} + ((normalized * Unsafe.Add(ref g, i) + Unsafe.Add(ref bt, i) + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)}));");
                    w.Close();
                }

                w.Close();
                w.Line();
            }

            EmitLongTable(w, method + "Gamma", plan.Gamma.AsArray(), $"G_i = round(gamma_i / S_out * 2^(T - 16)), T = {I(plan.OutputShift)}");
            EmitLongTable(w, method + "Beta", plan.Beta.AsArray(), $"B_i = round(beta_i / S_out * 2^T), T = {I(plan.OutputShift)}");
        }

        private static void EmitLongTable(CodeWriter w, string name, long[] values, string meaning)
        {
            w.Line($"// {meaning}");
            w.Line($"private static ReadOnlySpan<long> {name} => new long[]");
            w.Line("{");
            var block = new CodeWriter();
            block.Values(values, 0, values.Length, 8, v => CodeWriter.Int(v) + "L");
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
        }

        private static void EmitAttention(CodeWriter w, string method, string exp, EncoderLayerPlan l, int tokens, int width)
        {
            int d = l.HeadSize;
            int zq = l.Query.OutputZeroPoint, zk = l.Key.OutputZeroPoint, zv = l.Value.OutputZeroPoint;
            var sm = l.Softmax;
            w.Line("/// <summary>");
            w.Line($"/// Multi-head self-attention of '{ModelEmitter.Xml(l.Prefix)}': {I(l.Heads)} heads of {I(d)} features over {I(tokens)} tokens. Per head and query token i:");
            w.Line($"/// scores s_j = sum_e (q_ie - ({I(zq)})) (k_je - ({I(zk)})) in INT32; integer Softmax with 1/sqrt({I(d)}) folded into its constants");
            w.Line("/// gives p_j in INT8 (scale 1/256, zero point -128); the context sum_j (p_j + 128) (v_je - (" + I(zv) + ")) is requantized by");
            w.Line($"/// S_v / (256 S_context) = {I(l.ContextMultiplier)} * 2^-(31 + {I(l.ContextRightShift)}) to zero point {I(l.ContextZeroPoint)}.");
            w.Line("/// </summary>");
            int tp = (tokens + 15) / 16 * 16, dp = (d + 15) / 16 * 16;
            bool vectorExp = DivisionByMultiplication(sm.Ln2, ExpPlan.MaxExponent * sm.Ln2, out long magic, out int magicShift);
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> q, ReadOnlySpan<sbyte> k, ReadOnlySpan<sbyte> v, Span<sbyte> context, int path)");
            w.Line($"if (q.Length < {I(tokens * width)} || k.Length < {I(tokens * width)} || v.Length < {I(tokens * width)} || context.Length < {I(tokens * width)}) throw new ArgumentException(\"Attention buffers are too short.\");");
            if (vectorExp)
            {
                w.Open($"if ({Simd})");
                w.Line($"{method}Avx512(q, k, v, context);");
                w.Line("return;");
                w.Close();
                w.Line();
            }

            w.Line($"Span<int> scores = {w.StackAlloc("int", tokens)};");
            w.Line($"Span<long> exps = {w.StackAlloc("long", tokens)};");
            w.Line($"Span<int> weights = {w.StackAlloc("int", tokens)};");
            w.Open($"for (int head = 0; head < {I(l.Heads)}; head++)");
            w.Line($"int offset = head * {I(d)};");
            w.Open($"for (int i = 0; i < {I(tokens)}; i++)");
            w.Line($"ReadOnlySpan<sbyte> qi = q.Slice(i * {I(width)} + offset, {I(d)});");
            w.Line("int max = int.MinValue;");
            w.Open($"for (int j = 0; j < {I(tokens)}; j++)");
            w.Line($"ReadOnlySpan<sbyte> kj = k.Slice(j * {I(width)} + offset, {I(d)});");
            w.Line("int s = 0;");
            w.Line($"for (int e = 0; e < {I(d)}; e++) s += (qi[e] - ({I(zq)})) * (kj[e] - ({I(zk)}));");
            w.Line("scores[j] = s;");
            w.Line("if (s > max) max = s;");
            w.Close();
            w.Line();
            w.Line("// Softmax: exp of (s_j - max) <= 0, their sum, one reciprocal per row, then round(256 e_j / sum) - 128.");
            w.Line("long total = 0;");
            w.Line($"for (int j = 0; j < {I(tokens)}; j++) total += exps[j] = {exp}((long)scores[j] - max);");
            w.Line("long reciprocal = (1L << 62) / total;");
            w.Open($"for (int j = 0; j < {I(tokens)}; j++)");
            w.Line("long p = (exps[j] * reciprocal + (1L << 53)) >> 54; // in [0, 256]; probability 1 saturates at 255/256");
            w.Line("weights[j] = p > 255 ? 255 : (int)p; // p_j + 128, the INT8 probability without its zero point");
            w.Close();
            w.Line();
            w.Open($"for (int e = 0; e < {I(d)}; e++)");
            w.Line("int acc = 0;");
            w.Line($"for (int j = 0; j < {I(tokens)}; j++) acc += weights[j] * (v[j * {I(width)} + offset + e] - ({I(zv)}));");
            w.Line($"context[i * {I(width)} + offset + e] = Requantize(acc, {I(l.ContextMultiplier)}, {I(l.ContextRightShift)}, {I(l.ContextZeroPoint)}, -128, 127);");
            w.Close();
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            if (vectorExp) EmitAttentionAvx512(w, method, exp, l, tokens, width, tp, dp, magic, magicShift);
            long lowest = ExpPlan.MaxExponent * sm.Ln2;
            w.Line("/// <summary>");
            w.Line($"/// Integer exp of x &lt;= 0 for the scores of '{ModelEmitter.Xml(l.Prefix)}' (I-BERT's i-exp), in units of 0.3585 S_eff^2:");
            foreach (var line in sm.Description.TrimEnd('\n').Split('\n')) w.Line("/// " + ModelEmitter.Xml(line.Trim()));
            w.Line("/// </summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static long {exp}(long x)");
            w.Line($"if (x < {I(sm.InputClamp)}L) x = {I(sm.InputClamp)}L; // exp is 0 below -32 ln 2 anyway");
            w.Line(sm.InputShift >= 0
                ? $"long value = x << {I(sm.InputShift)}; // to the effective scale S_eff"
                : $"long value = (x + {I(1L << (-sm.InputShift - 1))}L) >> {I(-sm.InputShift)}; // to the effective scale S_eff, rounded");
            w.Line($"if (value < {I(-lowest)}L) value = {I(-lowest)}L;");
            w.Line($"long z = -value / {I(sm.Ln2)}L; // x = -ln2 z + r, r in (-ln2, 0]");
            w.Line($"long r = value + z * {I(sm.Ln2)}L;");
            w.Line($"long t = r + {I(sm.PolynomialB)}L;");
            w.Line($"return (t * t + {I(sm.PolynomialC)}L) >> (int)z; // (r + B)^2 + C, times 2^-z");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// The AVX-512 attention: per head, K - Z_k transposed to [features][tokens] and V - Z_v as [tokens][features] in
        /// int32 (padded with zeros to whole vectors of 16), so that a query's scores and a row of the context are sums of
        /// broadcast products over whole vectors; the exp runs in 64-bit lanes.
        /// </summary>
        private static void EmitAttentionAvx512(CodeWriter w, string method, string exp, EncoderLayerPlan l, int tokens, int width,
            int tp, int dp, long magic, int magicShift)
        {
            int d = l.HeadSize, chunks = tp / 16, vchunks = dp / 16, pairs = (d + 1) / 2;
            int zq = l.Query.OutputZeroPoint, zk = l.Key.OutputZeroPoint, zv = l.Value.OutputZeroPoint;
            w.Line("/// <summary>");
            w.Line($"/// The attention of '{ModelEmitter.Xml(l.Prefix)}' with AVX-512, the same integers as the scalar loop above. Per head, K - Z_k is laid");
            w.Line("/// out as [feature pair][token][2] and V - Z_v as [token pair][feature][2] in int16 (zero-padded to whole vectors), so");
            w.Line("/// that vpmaddwd adds two products per lane: a query's 16 scores are sums over feature pairs, a context row sums over");
            w.Line("/// token pairs. The exp runs in 64-bit lanes.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}Avx512(ReadOnlySpan<sbyte> q, ReadOnlySpan<sbyte> k, ReadOnlySpan<sbyte> v, Span<sbyte> context)");
            w.Line($"Span<short> keys = {w.StackAlloc("short", pairs * tp * 2)};");
            w.Line($"Span<short> values = {w.StackAlloc("short", tp / 2 * dp * 2)};");
            w.Line($"Span<short> weights = {w.StackAlloc("short", 2 * tp)}; // one row per query of an iteration");
            w.Line("ref short kt = ref MemoryMarshal.GetReference(keys), vt = ref MemoryMarshal.GetReference(values), wt = ref MemoryMarshal.GetReference(weights);");
            w.Line("ref sbyte rq = ref MemoryMarshal.GetReference(q), rk = ref MemoryMarshal.GetReference(k), rv = ref MemoryMarshal.GetReference(v);");
            w.Line("ref sbyte rc = ref MemoryMarshal.GetReference(context);");
            if (tp > tokens)
            {
                w.Line($"// Scores of the {I(tp - tokens)} padding tokens are pushed far below any real one, so that their exp is exactly 0.");
                w.Line($"Vector512<int> padding = Vector512.Create({string.Join(", ", Enumerable.Range(tp - 16, 16).Select(j => j < tokens ? "0" : "int.MinValue / 2"))});");
            }

            bool whole = d % 16 == 0; // rows of a head are whole 16-byte vectors: widen and interleave them with SIMD
            if (whole)
            {
                w.Line($"Span<short> widened = {w.StackAlloc("short", 2 * tokens * d)}; // Q - Z_q, then K - Z_k, [token][feature]");
                w.Line("ref short qs = ref MemoryMarshal.GetReference(widened), ks = ref Unsafe.Add(ref qs, " + I(tokens * d) + ");");
                w.Line("// vpermt2w index: lanes 0..15 of the first row and of the second, interleaved.");
                w.Line("Vector512<short> interleave = Vector512.Create(" + string.Join(", ", Enumerable.Range(0, 32).Select(x => "(short)" + I(x % 2 == 0 ? x / 2 : 32 + x / 2))) + ");");
            }

            w.Open($"for (int head = 0; head < {I(l.Heads)}; head++)");
            w.Line($"int offset = head * {I(d)};");
            if (whole)
            {
                w.Open($"for (int j = 0; j < {I(tokens)}; j++)");
                for (int c = 0; c < d / 16; c++)
                {
                    w.Line($"(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rq, (nuint)(j * {I(width)} + offset + {I(16 * c)}))) - Vector256.Create((short){I(zq)})).StoreUnsafe(ref qs, (nuint)(j * {I(d)} + {I(16 * c)}));");
                    w.Line($"(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rk, (nuint)(j * {I(width)} + offset + {I(16 * c)}))) - Vector256.Create((short){I(zk)})).StoreUnsafe(ref ks, (nuint)(j * {I(d)} + {I(16 * c)}));");
                }

                w.Close();
                w.Line("// K transposed to [feature pair][token]: each pair of int16 moves as one int.");
                w.Line("ref int ks32 = ref Unsafe.As<short, int>(ref ks), kt32 = ref Unsafe.As<short, int>(ref kt);");
                if (d == 16 && tokens % 16 == 0)
                {
                    w.Line($"for (int j = 0; j < {I(tokens)}; j += 16) Transpose16x8(ref Unsafe.Add(ref ks32, j * 8), ref Unsafe.Add(ref kt32, j), {I(tp)});");
                }
                else
                {
                    w.Open($"for (int e = 0; e < {I(d / 2)}; e++)");
                    w.Line($"for (int j = 0; j < {I(tokens)}; j++) Unsafe.Add(ref kt32, e * {I(tp)} + j) = Unsafe.Add(ref ks32, j * {I(d / 2)} + e);");
                    w.Close();
                }

                w.Line("// V as [token pair][feature][2]: two rows widened and interleaved.");
                w.Open($"for (int j = 0; j < {I(tokens)}; j += 2)");
                for (int c = 0; c < d / 16; c++)
                {
                    w.Line($"Vector256<short> first{I(c)} = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rv, (nuint)(j * {I(width)} + offset + {I(16 * c)}))) - Vector256.Create((short){I(zv)});");
                    string second = $"Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rv, (nuint)((j + 1) * {I(width)} + offset + {I(16 * c)}))) - Vector256.Create((short){I(zv)})";
                    w.Line(tokens % 2 == 0
                        ? $"Vector256<short> second{I(c)} = {second};"
                        : $"Vector256<short> second{I(c)} = j + 1 < {I(tokens)} ? {second} : Vector256<short>.Zero;");
                    w.Line($"Avx512BW.PermuteVar32x16x2(first{I(c)}.ToVector512Unsafe(), interleave, second{I(c)}.ToVector512Unsafe()).StoreUnsafe(ref vt, (nuint)((j >> 1) * {I(2 * dp)} + {I(32 * c)}));");
                }

                w.Close();
            }
            else
            {
                w.Open($"for (int j = 0; j < {I(tokens)}; j++)");
                w.Open($"for (int e = 0; e < {I(d)}; e++)");
                w.Line($"Unsafe.Add(ref kt, (e >> 1) * {I(2 * tp)} + 2 * j + (e & 1)) = (short)(Unsafe.Add(ref rk, j * {I(width)} + offset + e) - ({I(zk)}));");
                w.Line($"Unsafe.Add(ref vt, (j >> 1) * {I(2 * dp)} + 2 * e + (j & 1)) = (short)(Unsafe.Add(ref rv, j * {I(width)} + offset + e) - ({I(zv)}));");
                w.Close();
                w.Close();
            }

            w.Line();
            w.Line("// Two queries per iteration: their chains are independent, so the CPU overlaps them.");
            w.Open($"for (int i = 0; i < {I(tokens)}; i += 2)");
            EmitQuery(w, "i", "A", "wt", exp, l, tokens, width, tp, dp, chunks, vchunks, whole);
            w.Open($"if (i + 1 < {I(tokens)})");
            EmitQuery(w, "i + 1", "B", $"Unsafe.Add(ref wt, {I(tp)})", exp, l, tokens, width, tp, dp, chunks, vchunks, whole);
            w.Close();
            w.Close();
            w.Close();
            w.Close();
            w.Line();

            var sm = l.Softmax;
            long lowest = ExpPlan.MaxExponent * sm.Ln2;
            w.Line($"/// <summary>{exp} on eight 64-bit lanes. z = floor(-x' / {I(sm.Ln2)}) is <c>(-x' * {I(magic)}) &gt;&gt; {I(magicShift)}</c>, which the generator checked");
            w.Line($"/// equal to the division for every -x' in [0, {I(lowest)}]; 2^-z is a per-lane logical shift.</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static Vector512<long> {exp}Avx512(Vector512<long> x)");
            w.Line($"x = Vector512.Max(x, Vector512.Create({I(sm.InputClamp)}L));");
            w.Line(sm.InputShift >= 0
                ? $"Vector512<long> value = Vector512.ShiftLeft(x, {I(sm.InputShift)});"
                : $"Vector512<long> value = Vector512.ShiftRightArithmetic(x + Vector512.Create({I(1L << (-sm.InputShift - 1))}L), {I(-sm.InputShift)});");
            w.Line($"value = Vector512.Max(value, Vector512.Create({I(-lowest)}L));");
            w.Line($"Vector512<long> z = Vector512.ShiftRightLogical(Avx512DQ.MultiplyLow(-value, Vector512.Create({I(magic)}L)), {I(magicShift)});");
            w.Line($"Vector512<long> t = value + Avx512DQ.MultiplyLow(z, Vector512.Create({I(sm.Ln2)}L)) + Vector512.Create({I(sm.PolynomialB)}L);");
            w.Line($"Vector512<long> polynomial = Avx512DQ.MultiplyLow(t, t) + Vector512.Create({I(sm.PolynomialC)}L);");
            w.Line("return Avx512F.ShiftRightLogicalVariable(polynomial.AsUInt64(), z.AsUInt64()).AsInt64();");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// One query's scores, Softmax and context row, with variables suffixed by <paramref name="x"/> so that two queries
        /// can share a loop iteration. Sums run over two accumulators each, halving the dependency chains.
        /// </summary>
        private static void EmitQuery(CodeWriter w, string i, string x, string weights, string exp, EncoderLayerPlan l, int tokens,
            int width, int tp, int dp, int chunks, int vchunks, bool whole)
        {
            int d = l.HeadSize;
            int zq = l.Query.OutputZeroPoint;
            w.Open("");
            w.Line($"int row{x} = {i};");
            w.Line($"ref short w{x} = ref {weights};");
            for (int c = 0; c < chunks; c++) w.Line($"Vector512<int> s{x}{I(c)} = Vector512<int>.Zero, u{x}{I(c)} = Vector512<int>.Zero;");
            if (whole)
            {
                w.Line($"ref int q{x} = ref Unsafe.As<short, int>(ref Unsafe.Add(ref qs, row{x} * {I(d)}));");
                for (int e = 0; e < d / 2; e++)
                {
                    w.Line($"Vector512<short> p{x}{I(e)} = Vector512.Create(Unsafe.Add(ref q{x}, {I(e)})).AsInt16();");
                    for (int c = 0; c < chunks; c++)
                    {
                        string acc = (e % 2 == 0 ? "s" : "u") + x + I(c);
                        w.Line($"{acc} += Avx512BW.MultiplyAddAdjacent(p{x}{I(e)}, Vector512.LoadUnsafe(ref kt, {I(e * 2 * tp + 32 * c)}));");
                    }
                }
            }
            else
            {
                w.Line($"ref sbyte q{x} = ref Unsafe.Add(ref rq, row{x} * {I(width)} + offset);");
                w.Open($"for (int e = 0; e < {I(d)}; e += 2)");
                w.Line($"int q0 = Unsafe.Add(ref q{x}, e) - ({I(zq)});");
                w.Line(d % 2 == 0
                    ? $"int q1 = Unsafe.Add(ref q{x}, e + 1) - ({I(zq)});"
                    : $"int q1 = e + 1 < {I(d)} ? Unsafe.Add(ref q{x}, e + 1) - ({I(zq)}) : 0;");
                w.Line("Vector512<short> pair = Vector512.Create((q0 & 0xFFFF) | (q1 << 16)).AsInt16();");
                for (int c = 0; c < chunks; c++) w.Line($"s{x}{I(c)} += Avx512BW.MultiplyAddAdjacent(pair, Vector512.LoadUnsafe(ref kt, (nuint)((e >> 1) * {I(2 * tp)} + {I(32 * c)})));");
                w.Close();
            }

            for (int c = 0; c < chunks; c++) w.Line($"s{x}{I(c)} += u{x}{I(c)};");
            if (tp > tokens) w.Line($"s{x}{I(chunks - 1)} += padding;");
            string maxExpr = chunks == 1 ? $"s{x}0" : string.Join("", Enumerable.Range(0, chunks - 1).Select(c => "Vector512.Max(")) + $"s{x}0" +
                string.Concat(Enumerable.Range(1, chunks - 1).Select(c => $", s{x}{I(c)})"));
            w.Line($"Vector512<int> top{x} = {maxExpr};");
            w.Line($"Vector256<int> top8{x} = Vector256.Max(top{x}.GetLower(), top{x}.GetUpper());");
            w.Line($"Vector128<int> top4{x} = Vector128.Max(top8{x}.GetLower(), top8{x}.GetUpper());");
            w.Line($"Vector512<long> max{x} = Vector512.Create((long)Math.Max(Math.Max(top4{x}.GetElement(0), top4{x}.GetElement(1)), Math.Max(top4{x}.GetElement(2), top4{x}.GetElement(3))));");
            for (int c = 0; c < chunks; c++)
            {
                w.Line($"Vector512<long> e{x}{I(2 * c)} = {exp}Avx512(Avx512F.ConvertToVector512Int64(s{x}{I(c)}.GetLower()) - max{x});");
                w.Line($"Vector512<long> e{x}{I(2 * c + 1)} = {exp}Avx512(Avx512F.ConvertToVector512Int64(s{x}{I(c)}.GetUpper()) - max{x});");
            }

            w.Line($"Vector512<long> f{x} = Vector512.Create((1L << 62) / Vector512.Sum(" + string.Join(" + ", Enumerable.Range(0, 2 * chunks).Select(c => "e" + x + I(c))) + "));");
            w.Line("// p_j + 128 = min(round(256 e_j / sum), 255), the INT8 probability without its zero point, as int16.");
            for (int c = 0; c < 2 * chunks; c++)
            {
                w.Line($"Avx512F.ConvertToVector128Int16(Vector512.Min(Vector512.ShiftRightArithmetic(Avx512DQ.MultiplyLow(e{x}{I(c)}, f{x}) + Vector512.Create(1L << 53), 54), Vector512.Create(255L))).StoreUnsafe(ref w{x}, {I(8 * c)});");
            }

            for (int c = 0; c < vchunks; c++) w.Line($"Vector512<int> c{x}{I(c)} = Vector512<int>.Zero, v{x}{I(c)} = Vector512<int>.Zero;");
            if (tokens <= 32)
            {
                for (int j = 0; j < tokens; j += 2)
                {
                    w.Line($"Vector512<short> r{x}{I(j / 2)} = Vector512.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<short, byte>(ref Unsafe.Add(ref w{x}, {I(j)})))).AsInt16();");
                    for (int c = 0; c < vchunks; c++)
                    {
                        string acc = (j / 2 % 2 == 0 ? "c" : "v") + x + I(c);
                        w.Line($"{acc} += Avx512BW.MultiplyAddAdjacent(r{x}{I(j / 2)}, Vector512.LoadUnsafe(ref vt, {I(j / 2 * 2 * dp + 32 * c)}));");
                    }
                }
            }
            else
            {
                w.Open($"for (int j = 0; j < {I(tokens)}; j += 2)");
                w.Line($"Vector512<short> pair = Vector512.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<short, byte>(ref Unsafe.Add(ref w{x}, j)))).AsInt16();");
                for (int c = 0; c < vchunks; c++) w.Line($"c{x}{I(c)} += Avx512BW.MultiplyAddAdjacent(pair, Vector512.LoadUnsafe(ref vt, (nuint)((j >> 1) * {I(2 * dp)} + {I(32 * c)})));");
                w.Close();
            }

            for (int c = 0; c < vchunks; c++)
            {
                int count = System.Math.Min(16, d - 16 * c);
                w.Line($"Vector128<sbyte> out{x}{I(c)} = Avx512F.ConvertToVector128SByteWithSaturation(MultiplyByQuantizedMultiplier(c{x}{I(c)} + v{x}{I(c)}, {I(l.ContextMultiplier)}, {I(l.ContextRightShift)}) + Vector512.Create({I(l.ContextZeroPoint)}));");
                if (count == 16)
                {
                    w.Line($"out{x}{I(c)}.StoreUnsafe(ref rc, (nuint)(row{x} * {I(width)} + offset + {I(16 * c)}));");
                }
                else
                {
                    w.Line($"for (int e = 0; e < {I(count)}; e++) Unsafe.Add(ref rc, row{x} * {I(width)} + offset + {I(16 * c)} + e) = out{x}{I(c)}.GetElement(e);");
                }
            }

            w.Close();
        }

        /// <summary>
        /// Finds (magic, shift) with <c>(u * magic) &gt;&gt; shift == u / divisor</c> for every u in [0, limit], checked
        /// exhaustively (limit is at most 32 * 22713), with u * magic below 2^62.
        /// </summary>
        internal static bool DivisionByMultiplication(long divisor, long limit, out long magic, out int shift)
        {
            for (shift = 32; shift <= 50; shift++)
            {
                magic = (1L << shift) / divisor + 1;
                if (limit > 0 && magic > (1L << 62) / limit) break;
                bool exact = true;
                for (long u = 0; u <= limit && exact; u++) exact = (u * magic) >> shift == u / divisor;
                if (exact) return true;
            }

            magic = 0;
            shift = 0;
            return false;
        }

        private static void EmitGelu(CodeWriter w, string method, EncoderLayerPlan l, int tokens)
        {
            int count = tokens * l.FeedForward;
            w.Line("/// <summary>");
            w.Line($"/// GELU of the {I(count)} feed-forward values of '{ModelEmitter.Xml(l.Prefix)}', INT8 in place. An INT8 input takes 256 values, so the");
            w.Line("/// integer i-GELU (I-BERT's erf polynomial, constants below) was evaluated for each at build time, with the same integer");
            w.Line("/// arithmetic as Gen.Runtime.Kernels.IntGelu, and is looked up here:");
            foreach (var line in l.GeluDescription.TrimEnd('\n').Split('\n')) w.Line("/// " + ModelEmitter.Xml(line.Trim()));
            w.Line("/// </summary>");
            w.Open($"private static void {method}(Span<sbyte> values, int path)");
            w.Line($"ReadOnlySpan<sbyte> table = {method}Table;");
            w.Line("ref sbyte first = ref MemoryMarshal.GetReference(table);");
            w.Line($"if (values.Length < {I(count)}) throw new ArgumentException(\"GELU buffer too short.\");");
            w.Line("ref sbyte x = ref MemoryMarshal.GetReference(values);");
            w.Line("int i = 0;");
            w.Open("if (path >= 3 && Avx512Vbmi.IsSupported)");
            w.Line("// 64 lookups at a time: the table is four registers; vpermi2b picks from two of them by the index's low 7 bits,");
            w.Line("// and the top bit (q + 128 >= 128) chooses which pair.");
            w.Line("ref byte bytes = ref Unsafe.As<sbyte, byte>(ref first);");
            w.Line("Vector512<byte> t0 = Vector512.LoadUnsafe(ref bytes, 0), t1 = Vector512.LoadUnsafe(ref bytes, 64);");
            w.Line("Vector512<byte> t2 = Vector512.LoadUnsafe(ref bytes, 128), t3 = Vector512.LoadUnsafe(ref bytes, 192);");
            w.Line("ref byte xb = ref Unsafe.As<sbyte, byte>(ref x);");
            w.Open($"for (; i <= {I(count - 64)}; i += 64)");
            w.Line("Vector512<byte> index = Vector512.LoadUnsafe(ref xb, (nuint)i) ^ Vector512.Create((byte)0x80); // q + 128");
            w.Line("Vector512<byte> low = Avx512Vbmi.PermuteVar64x8x2(t0, index, t1), high = Avx512Vbmi.PermuteVar64x8x2(t2, index, t3);");
            w.Line("Avx512BW.BlendVariable(low, high, index).StoreUnsafe(ref xb, (nuint)i);");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"for (; i < {I(count)}; i++) Unsafe.Add(ref x, i) = Unsafe.Add(ref first, Unsafe.Add(ref x, i) + 128);");
            w.Close();
            w.Line();
            w.Line($"// i-GELU of q = -128..127 (input scale {CodeWriter.Real(l.Fc1.OutputScale)}, zero point {I(l.Fc1.OutputZeroPoint)}) as INT8.");
            w.Line($"private static ReadOnlySpan<sbyte> {method}Table => new sbyte[]");
            w.Line("{");
            var block = new CodeWriter();
            block.Values(l.GeluTable.AsArray(), 0, 256, 16, v => CodeWriter.Int(v));
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
        }

        private static void EmitPool(CodeWriter w, TransformerPlan t)
        {
            w.Line("/// <summary>");
            w.Line($"/// Mean over the {I(t.Tokens)} tokens: sum_t (x_t - ({I(t.PoolInputZeroPoint)})) requantized by S_norm / ({I(t.Tokens)} S_pool) =");
            w.Line($"/// {I(t.PoolMultiplier)} * 2^-(31 + {I(t.PoolRightShift)}) to scale {CodeWriter.Real(t.PoolScale)}, zero point {I(t.PoolZeroPoint)}.");
            w.Line("/// </summary>");
            w.Open("private static void MeanPool(ReadOnlySpan<sbyte> tokens, Span<sbyte> pooled, int path)");
            w.Line($"if (tokens.Length < {I(t.Tokens * t.Width)} || pooled.Length < {I(t.Width)}) throw new ArgumentException(\"Pooling buffers are too short.\");");
            w.Line("int first = 0;");
            if (t.Width >= 16)
            {
                w.Open($"if ({Simd})");
                w.Line("ref sbyte x = ref MemoryMarshal.GetReference(tokens);");
                w.Open($"for (; first <= {I(t.Width - 16)}; first += 16)");
                w.Line($"Vector512<int> sum = Vector512.Create({I(-(long)t.Tokens * t.PoolInputZeroPoint)});");
                w.Line($"for (int i = 0; i < {I(t.Tokens)}; i++) sum += Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref x, (nuint)(i * {I(t.Width)} + first)));");
                w.Line($"Avx512F.ConvertToVector128SByteWithSaturation(MultiplyByQuantizedMultiplier(sum, {I(t.PoolMultiplier)}, {I(t.PoolRightShift)}) + Vector512.Create({I(t.PoolZeroPoint)})).StoreUnsafe(ref MemoryMarshal.GetReference(pooled), (nuint)first);");
                w.Close();
                w.Close();
                w.Line();
            }

            w.Open($"for (int c = first; c < {I(t.Width)}; c++)");
            w.Line($"int sum = {I(-(long)t.Tokens * t.PoolInputZeroPoint)};");
            w.Line($"for (int i = 0; i < {I(t.Tokens)}; i++) sum += tokens[i * {I(t.Width)} + c];");
            w.Line($"pooled[c] = Requantize(sum, {I(t.PoolMultiplier)}, {I(t.PoolRightShift)}, {I(t.PoolZeroPoint)}, -128, 127);");
            w.Close();
            w.Close();
            w.Line();
        }

        private static void EmitHelpers(CodeWriter w, bool transpose16x8)
        {
            if (transpose16x8) EmitTranspose16x8(w);
            w.Line("/// <summary>");
            w.Line("/// floor(sqrt(n)) for n in [2^60, 2^62), the range LayerNorm scales its variance into. The seed, from the top 8 bits,");
            w.Line("/// is ceil(sqrt((i + 1) 2^54)) >= sqrt(n) and within 0.8% of it. A Newton step from above, x' = (x + n / x) / 2 floored,");
            w.Line("/// stays at or above floor(sqrt(n)) and its error is at most e^2 / (2 sqrt(n)): two steps leave it within 9 of");
            w.Line("/// floor(sqrt(n)), which the last loop steps down to (cheaper than a third division).");
            w.Line("/// </summary>");
            w.Open("private static long IntSqrt(ulong n)");
            w.Line("ulong x = Unsafe.Add(ref MemoryMarshal.GetReference(SqrtSeeds), (int)(n >> 54) - 64);");
            w.Line("x = (x + n / x) >> 1; // error < 1.4e5");
            w.Line("x = (x + n / x) >> 1; // error < 9");
            w.Line("while (x * x > n) x--;");
            w.Line("return (long)x;");
            w.Close();
            w.Line();
            w.Line("// ceil(sqrt((i + 1) * 2^54)) for i = 64..255: the IntSqrt seeds.");
            w.Line("private static ReadOnlySpan<ulong> SqrtSeeds => new ulong[]");
            w.Line("{");
            var seeds = new ulong[192];
            for (int i = 64; i < 256; i++)
            {
                ulong n = (ulong)(i + 1) << 54;
                ulong r = FloorSqrt(n);
                seeds[i - 64] = r * r == n ? r : r + 1;
            }

            var block = new CodeWriter();
            block.Values(seeds, 0, seeds.Length, 8, v => CodeWriter.Int((long)v) + "UL");
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Line("private static sbyte Clamp8(long value) => (sbyte)(value < -128 ? -128 : value > 127 ? 127 : value);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// MultiplyByQuantizedMultiplier on 16 lanes, as the scalar Requantize: the rounding doubling high multiply");
            w.Line("/// (x * m0 + 2^30) >> 31 on 64-bit products (vpmuldq multiplies the even lanes; shifting by 32 brings the odd ones");
            w.Line("/// down), then a rounding right shift with ties away from zero.");
            w.Line("/// </summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open("private static Vector512<int> MultiplyByQuantizedMultiplier(Vector512<int> x, int m0, int rightShift)");
            w.Line("Vector512<int> m = Vector512.Create(m0);");
            w.Line("Vector512<long> round = Vector512.Create(1L << 30);");
            w.Line("Vector512<long> even = Avx512F.ShiftRightLogical(Avx512F.Multiply(x, m) + round, 31);");
            w.Line("Vector512<long> odd = Avx512F.ShiftRightLogical(Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + round, 31);");
            w.Line("Vector512<int> high = ((even & Vector512.Create(0xFFFFFFFFL)) | Avx512F.ShiftLeftLogical(odd, 32)).AsInt32();");
            w.Line("Vector512<int> mask = Vector512.Create((1 << rightShift) - 1);");
            w.Line("Vector512<int> threshold = Avx512F.ShiftRightArithmetic(mask, 1) - Avx512F.ShiftRightArithmetic(high, 31);");
            w.Line("return Vector512.ShiftRightArithmetic(high, rightShift) - Vector512.GreaterThan(high & mask, threshold);");
            w.Close();
            w.Line();
        }

        private static void EmitPosition(CodeWriter w, TransformerPlan t)
        {
            w.Line($"// The position embedding, [{I(t.Tokens)} tokens, {I(t.Width)}], symmetric INT8 at scale {CodeWriter.Real(t.PositionScale)} (max |position| / 127).");
            w.Line("private static ReadOnlySpan<sbyte> Position => new sbyte[]");
            w.Line("{");
            for (int token = 0; token < t.Tokens; token++)
            {
                w.Line($"    // token {I(token)}");
                var block = new CodeWriter();
                block.Values(t.Position.AsArray(), token * t.Width, t.Width, 32, v => CodeWriter.Int(v));
                foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            }

            w.Line("};");
            w.Line();
        }

        /// <summary>
        /// A transpose of 16 rows of 8 ints ([token][feature pair], contiguous) into 8 rows of 16 ([feature pair][token],
        /// rows <c>stride</c> apart) in three rounds of vpermt2d, 24 permutes instead of 128 scalar moves.
        /// </summary>
        private static void EmitTranspose16x8(CodeWriter w)
        {
            string Index(System.Func<int, int> f) => "Vector512.Create(" + string.Join(", ", Enumerable.Range(0, 16).Select(p => I(f(p)))) + ")";
            w.Line("/// <summary>");
            w.Line("/// Transposes 16 rows of 8 ints (contiguous) into 8 rows of 16, <paramref name=\"stride\"/> ints apart, with three rounds of");
            w.Line("/// two-source permutes (vpermt2d): rows in fours for 4 columns at a time, then in eights for 2, then all 16 for 1.");
            w.Line("/// </summary>");
            w.Open("private static void Transpose16x8(ref int source, ref int destination, int stride)");
            w.Line("// Round 1: (rows 4m..4m+3) x (columns 0..3) and x (columns 4..7), as [column][row].");
            w.Line($"Vector512<int> low = {Index(p => p / 4 + 8 * (p % 2) + 16 * (p % 4 / 2))}, high = low + Vector512.Create(4);");
            for (int m = 0; m < 4; m++)
            {
                w.Line($"Vector512<int> a{I(m)} = Vector512.LoadUnsafe(ref source, {I(32 * m)}), b{I(m)} = Vector512.LoadUnsafe(ref source, {I(32 * m + 16)});");
                w.Line($"Vector512<int> lo{I(m)} = Avx512F.PermuteVar16x32x2(a{I(m)}, low, b{I(m)}), hi{I(m)} = Avx512F.PermuteVar16x32x2(a{I(m)}, high, b{I(m)});");
            }

            w.Line("// Round 2: rows 0..7 and 8..15 for two columns at a time, as [column][row].");
            w.Line($"Vector512<int> first = {Index(p => p / 8 * 4 + p % 4 + 16 * (p % 8 / 4))}, second = first + Vector512.Create(8);");
            foreach (var (name, src) in new[] { ("l", "lo"), ("h", "hi") })
            {
                w.Line($"Vector512<int> {name}0 = Avx512F.PermuteVar16x32x2({src}0, first, {src}1), {name}1 = Avx512F.PermuteVar16x32x2({src}0, second, {src}1);");
                w.Line($"Vector512<int> {name}2 = Avx512F.PermuteVar16x32x2({src}2, first, {src}3), {name}3 = Avx512F.PermuteVar16x32x2({src}2, second, {src}3);");
            }

            w.Line("// Round 3: each column's 16 rows, stored.");
            w.Line($"Vector512<int> even = {Index(p => p % 8 + 16 * (p / 8))}, odd = even + Vector512.Create(8);");
            for (int c = 0; c < 8; c++)
            {
                string src = c < 4 ? "l" : "h";
                int pair = c % 4 / 2; // columns (0,1) and (4,5) in the first vectors, (2,3) and (6,7) in the second
                w.Line($"Avx512F.PermuteVar16x32x2({src}{I(pair)}, {(c % 2 == 0 ? "even" : "odd")}, {src}{I(pair + 2)}).StoreUnsafe(ref destination, (nuint)({I(c)} * stride));");
            }

            w.Close();
            w.Line();
        }

        /// <summary>floor(sqrt(n)) by Newton's iteration from above (exact: it stops where the iterate stops decreasing).</summary>
        private static ulong FloorSqrt(ulong n)
        {
            ulong x = 1UL << 32;
            while (true)
            {
                ulong next = (x + n / x) >> 1;
                if (next >= x) return x;
                x = next;
            }
        }

        /// <summary>Reference equality for plans (two layers may hold equal constants yet need their own methods).</summary>
        private sealed class ReferenceEqualityComparer : IEqualityComparer<DenseLayerPlan>
        {
            public static readonly ReferenceEqualityComparer Instance = new ReferenceEqualityComparer();

            public bool Equals(DenseLayerPlan? x, DenseLayerPlan? y) => ReferenceEquals(x, y);

            public int GetHashCode(DenseLayerPlan obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }
}
