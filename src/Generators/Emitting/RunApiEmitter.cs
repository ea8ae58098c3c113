namespace Gen.Generators.Emitting
{
    /// <summary>
    /// The public <c>Run</c> overloads every model has, and the memory contract behind them. A model's activation
    /// buffers make one workspace of <c>WorkspaceSize</c> bytes: <c>Run(input, output)</c> places it on the calling
    /// thread's stack when it fits <see cref="StackBudgetBytes"/>, and <c>Run(input, output, workspace)</c> takes it from
    /// the caller (a buffer reused across calls, one per thread), which keeps a large model, or a thread with a small
    /// stack, safe. Every overload checks lengths and refuses spans that overlap: the kernels read the input while
    /// they write the output and the workspace, so shared memory would silently give wrong results.
    /// </summary>
    internal static class RunApiEmitter
    {
        /// <summary>
        /// Largest workspace that <c>Run(input, output)</c> puts on the stack. Secondary .NET threads get 1.5 MiB on Linux
        /// and 1 MiB on Windows; a quarter of that leaves room for the caller's own frames.
        /// </summary>
        internal const int StackBudgetBytes = 256 * 1024;

        /// <summary>The name of the method each model emits to run rows in a given workspace.</summary>
        internal const string RunInWorkspace = "RunRowsInWorkspace";

        /// <summary>The param tags of a Run overload's input, output and batch size (the workspace's follows where it has one).</summary>
        private static void EmitParameters(CodeWriter w, string unit, bool batch)
        {
            if (batch)
            {
                w.Line($"/// <param name=\"inputs\"><paramref name=\"batchSize\"/> {unit}s of <see cref=\"InputSize\"/> INT8 values, one after the other.</param>");
                w.Line("/// <param name=\"outputs\">Receives <paramref name=\"batchSize\"/> rows of <see cref=\"OutputSize\"/> INT8 values; must not overlap <paramref name=\"inputs\"/>.</param>");
                w.Line($"/// <param name=\"batchSize\">How many {unit}s to run.</param>");
            }
            else
            {
                w.Line($"/// <param name=\"input\">One {unit}: <see cref=\"InputSize\"/> INT8 values.</param>");
                w.Line("/// <param name=\"output\">Receives the <see cref=\"OutputSize\"/> INT8 outputs; must not overlap <paramref name=\"input\"/>.</param>");
            }
        }

        /// <param name="w">The writer, inside the model class.</param>
        /// <param name="unit">What one input is: "row" or "image".</param>
        /// <param name="workspaceSize">Bytes of the model's activation buffers.</param>
        public static void Emit(CodeWriter w, string unit, long workspaceSize)
        {
            bool onStack = workspaceSize <= StackBudgetBytes;
            string units = unit + "s";
            w.Line("/// <summary>");
            w.Line($"/// Bytes of activation buffers one call needs: the least a workspace passed to Run may hold. <c>Run(input, output)</c>");
            w.Line(onStack
                ? "/// keeps them on the calling thread's stack (see <see cref=\"StackBytes\"/>); the workspace overloads take them from the caller."
                : $"/// cannot keep them on the stack (more than {CodeWriter.Int(StackBudgetBytes)} bytes): use the overloads that take a workspace.");
            w.Line("/// </summary>");
            w.Line($"public const int WorkspaceSize = {CodeWriter.Int(workspaceSize)};");
            w.Line();

            string obsolete = ObsoleteOnStack(workspaceSize);
            foreach (bool workspace in new[] { false, true })
            {
                foreach (bool batch in new[] { false, true })
                {
                    string input = batch ? "inputs" : "input", output = batch ? "outputs" : "output", rows = batch ? "batchSize" : "1";
                    string what = batch ? $"<paramref name=\"batchSize\"/> consecutive {units}" : $"one {unit}" + (workspace ? "" : " of <see cref=\"InputSize\"/> INT8 values");
                    string where = workspace ? ", with its activations in <paramref name=\"workspace\"/> instead of the stack"
                        : onStack ? ", with its workspace on this thread's stack" : "";
                    w.Line($"/// <summary>Runs the model on {what}{where}.</summary>");
                    EmitParameters(w, unit, batch);
                    if (workspace)
                    {
                        w.Line("/// <param name=\"workspace\">At least <see cref=\"WorkspaceSize\"/> bytes, not shared with another call running at the same time; its contents need no clearing.</param>");
                        w.Line("/// <exception cref=\"ArgumentException\">A span has the wrong length, the workspace is too small, or two of the spans overlap.</exception>");
                    }
                    else
                    {
                        w.Line(batch
                            ? $"/// <exception cref=\"ArgumentException\">A span does not hold exactly <paramref name=\"batchSize\"/> {units} or outputs, or the outputs overlap the inputs.</exception>"
                            : "/// <exception cref=\"ArgumentException\">A span has the wrong length, or the output overlaps the input.</exception>");
                        if (!onStack) w.Line(obsolete);
                    }

                    w.Open($"public static void Run(ReadOnlySpan<sbyte> {input}, Span<sbyte> {output}{(batch ? ", int batchSize" : "")}{(workspace ? ", Span<byte> workspace" : "")})");
                    EmitChecks(w, input, output, rows, workspace);
                    string arguments = $"{input}, {output}, {rows}, ";
                    w.Line(workspace ? $"{RunInWorkspace}({arguments}workspace, (int)ActivePath);"
                        : onStack ? $"RunRows({arguments}(int)ActivePath);"
                        : $"throw new NotSupportedException(\"Use Run({input}, {output}, {(batch ? "batchSize, " : "")}workspace).\");");
                    w.Close();
                    w.Line();
                }
            }

            if (onStack)
            {
                w.Line($"/// <summary>Runs <paramref name=\"rows\"/> {units} with the kernels of <paramref name=\"path\"/> (a <see cref=\"KernelPath\"/>; lengths already checked), the workspace on the stack.</summary>");
                w.Open("internal static void RunRows(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, int path)");
                w.Line($"Span<byte> workspace = {w.StackAlloc("byte", workspaceSize)};");
                w.Line($"{RunInWorkspace}(input, output, rows, workspace, path);");
                w.Close();
                w.Line();
            }
        }

        private static void EmitChecks(CodeWriter w, string input, string output, string rows, bool workspace)
        {
            if (rows != "1")
            {
                w.Line($"if ({rows} < 0) throw new ArgumentOutOfRangeException(nameof({rows}), {rows}, \"The batch size must not be negative.\");");
                w.Line($"if ({input}.Length != (long){rows} * InputSize) ThrowLength(nameof({input}), {input}.Length, (long){rows} * InputSize);");
                w.Line($"if ({output}.Length != (long){rows} * OutputSize) ThrowLength(nameof({output}), {output}.Length, (long){rows} * OutputSize);");
            }
            else
            {
                w.Line($"if ({input}.Length != InputSize) ThrowLength(nameof({input}), {input}.Length, InputSize);");
                w.Line($"if ({output}.Length != OutputSize) ThrowLength(nameof({output}), {output}.Length, OutputSize);");
            }

            w.Line($"if ({input}.Overlaps({output})) ThrowOverlap(nameof({output}), nameof({input}));");
            if (workspace)
            {
                w.Line("if (workspace.Length < WorkspaceSize) ThrowWorkspace(workspace.Length);");
                w.Line($"if (MemoryMarshal.AsBytes({input}).Overlaps(workspace)) ThrowOverlap(nameof(workspace), nameof({input}));");
                w.Line($"if (MemoryMarshal.AsBytes({output}).Overlaps(workspace)) ThrowOverlap(nameof(workspace), nameof({output}));");
            }
        }

        /// <summary>
        /// The stack constant, written last because it sums the buffers of every method emitted before it, and the
        /// throw helpers of the checks above.
        /// </summary>
        public static void EmitStackBytes(CodeWriter w, long workspaceSize, bool tokenIds = false)
        {
            bool onStack = workspaceSize <= StackBudgetBytes;
            long bound = w.StackBound(tokenIds ? (onStack ? "RunSequences" : RunSequencesInWorkspace) : onStack ? "RunRows" : RunInWorkspace);
            w.Line("/// <summary>");
            w.Line(onStack
                ? "/// Most bytes of stack buffers <c>Run(input, output)</c> has live at once (its workspace plus the largest step's own scratch);"
                : "/// Most bytes of stack buffers Run has live at once (the steps' own scratch; the activations are in the workspace);");
            w.Line("/// the call frames add a few hundred bytes. A thread that runs the model needs at least this much free stack;");
            w.Line("/// with a caller-supplied workspace the need drops by <see cref=\"WorkspaceSize\"/>.");
            w.Line("/// </summary>");
            w.Line($"public const int StackBytes = {CodeWriter.Int(bound)};");
            w.Line();
            w.Open("private static void ThrowOverlap(string parameter, string other)");
            w.Line("throw new ArgumentException($\"'{parameter}' overlaps '{other}': Run reads its input while it writes its output and workspace, so they must not share memory.\", parameter);");
            w.Close();
            w.Line();
            w.Open("private static void ThrowWorkspace(int actual)");
            w.Line("throw new ArgumentException($\"The workspace holds {actual} bytes; this model needs at least WorkspaceSize = {WorkspaceSize}.\", \"workspace\");");
            w.Close();
            w.Line();
        }

        /// <summary>The attribute that turns a stack-only overload into a compile error for a model too large for the stack.</summary>
        private static string ObsoleteOnStack(long workspaceSize) =>
            $"[Obsolete(\"This model needs WorkspaceSize = {CodeWriter.Int(workspaceSize)} bytes of activations, more than Gen puts on a thread's stack " +
            $"({CodeWriter.Int(StackBudgetBytes)}). Call the overload that takes a Span<byte> workspace of at least WorkspaceSize bytes (allocate it once and reuse it).\", error: true)]";

        /// <summary>The name of the method a model of token ids emits to run sequences in a given workspace.</summary>
        internal const string RunSequencesInWorkspace = "RunSequencesInWorkspace";

        /// <summary>
        /// The Run overloads of a model that reads token ids (a BERT encoder): one sequence of 1 to <c>MaxTokens</c> ids, or a
        /// batch of sequences of different lengths one after another, each with the stack or a caller's workspace.
        /// </summary>
        public static void EmitTokens(CodeWriter w, int maxTokens, long workspaceSize)
        {
            bool onStack = workspaceSize <= StackBudgetBytes;
            w.Line("/// <summary>The most tokens a sequence may have ([CLS] and [SEP] included).</summary>");
            w.Line($"public const int MaxTokens = {CodeWriter.Int(maxTokens)};");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Bytes of activation buffers one call needs: the least a workspace passed to Run may hold. " + (onStack
                ? "The overloads without one keep them on the calling thread's stack."
                : $"They cannot live on the stack (more than {CodeWriter.Int(StackBudgetBytes)} bytes): use the overloads that take a workspace."));
            w.Line("/// </summary>");
            w.Line($"public const int WorkspaceSize = {CodeWriter.Int(workspaceSize)};");
            w.Line();
            string obsolete = ObsoleteOnStack(workspaceSize);
            foreach (bool workspace in new[] { false, true })
            {
                foreach (bool batch in new[] { false, true })
                {
                    w.Line(batch
                        ? "/// <summary>Runs the model on a batch of sequences of different lengths" + (workspace ? ", with its activations in <paramref name=\"workspace\"/>" : "") + ".</summary>"
                        : "/// <summary>Runs the model on one sequence of token ids" + (workspace ? ", with its activations in <paramref name=\"workspace\"/>" : "") + ".</summary>");
                    w.Line(batch
                        ? "/// <param name=\"tokenIds\">The sequences' ids one after another: <paramref name=\"lengths\"/>[0] ids of the first, then the second's, ...</param>"
                        : "/// <param name=\"tokenIds\">1 to <see cref=\"MaxTokens\"/> ids of the model's vocabulary, as its tokenizer gives them ([CLS] first, [SEP] last).</param>");
                    if (batch) w.Line("/// <param name=\"lengths\">Each sequence's length, 1 to <see cref=\"MaxTokens\"/>.</param>");
                    w.Line(batch
                        ? "/// <param name=\"outputs\">Receives <see cref=\"OutputSize\"/> INT8 values per sequence.</param>"
                        : "/// <param name=\"output\">Receives the <see cref=\"OutputSize\"/> INT8 outputs.</param>");
                    if (workspace) w.Line("/// <param name=\"workspace\">At least <see cref=\"WorkspaceSize\"/> bytes, not shared with another call running at the same time; its contents need no clearing.</param>");
                    w.Line("/// <exception cref=\"ArgumentException\">A sequence is empty or longer than <see cref=\"MaxTokens\"/>, an id is outside the vocabulary, a span has the wrong length" + (workspace ? ", the workspace is too small or overlaps the output" : "") + ".</exception>");
                    if (!workspace && !onStack) w.Line(obsolete);
                    string output = batch ? "outputs" : "output";
                    w.Open($"public static void Run(ReadOnlySpan<int> tokenIds, {(batch ? "ReadOnlySpan<int> lengths, " : "")}Span<sbyte> {output}{(workspace ? ", Span<byte> workspace" : "")})");
                    if (!batch)
                    {
                        w.Line("ReadOnlySpan<int> lengths = stackalloc int[] { tokenIds.Length };");
                    }

                    if (workspace)
                    {
                        w.Line("if (workspace.Length < WorkspaceSize) ThrowWorkspace(workspace.Length);");
                        w.Line($"if (MemoryMarshal.AsBytes({output}).Overlaps(workspace)) ThrowOverlap(nameof(workspace), nameof({output}));");
                        w.Line($"{RunSequencesInWorkspace}(tokenIds, lengths, {output}, workspace, (int)ActivePath);");
                    }
                    else
                    {
                        w.Line(onStack ? $"RunSequences(tokenIds, lengths, {output}, (int)ActivePath);" : $"throw new NotSupportedException(\"Use Run(tokenIds, {(batch ? "lengths, " : "")}{output}, workspace).\");");
                    }

                    w.Close();
                    w.Line();
                }
            }

            if (onStack)
            {
                w.Line("/// <summary>Runs sequences with the kernels of <paramref name=\"path\"/> (a <see cref=\"KernelPath\"/>), the workspace on the stack.</summary>");
                w.Open("internal static void RunSequences(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> lengths, Span<sbyte> outputs, int path)");
                w.Line($"Span<byte> workspace = {w.StackAlloc("byte", workspaceSize)};");
                w.Line($"{RunSequencesInWorkspace}(tokenIds, lengths, outputs, workspace, path);");
                w.Close();
                w.Line();
            }
        }
    }
}