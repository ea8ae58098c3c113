using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>An integer LayerNorm of every row.</summary>
    /// <remarks>WideInput: the rows are INT32 (the wide residual stream), four bytes per value. WideOutput: the output is
    /// INT32 (zero point 0, clamped to INT32 only).</remarks>
    internal sealed record LayerNormNodePlan(string Name, EquatableArray<int> Inputs, int Output, LayerNormEmitPlan Norm, int Rows,
        bool WideInput = false, bool WideOutput = false)
        : NodePlan(Name, Inputs, Output);

    /// <summary>The integer LayerNorm's emitter: exact mean and variance, an integer square root, one reciprocal per row.</summary>
    internal static class LayerNormEmitter
    {
            /// <summary>The suffixes of the names the emitter derives from its method's (its AVX-512 kernel, gamma, beta).</summary>
        public static readonly string[] Suffixes = { "", "Avx512", "Gamma", "Beta" };

        public static LayerNormNodePlan Plan(GraphNode node, LayerNormPlan plan, QuantizedGraph graph, int rowsPerSample) =>
            new LayerNormNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, LayerNormEmitPlan.From(node.Name, plan), rowsPerSample,
                graph.Graph.Values[node.Inputs[0]].IsWide, graph.Graph.Values[node.Output].IsWide);

        /// <summary>The call on the first <paramref name="rows"/> rows (a pooled sequence model computes its real tokens only).</summary>
        public static string Call(string method, string input, string output, string rows) => $"{method}({input}, {output}, {rows}, path);";

        public static void Emit(CodeWriter w, LayerNormNodePlan node, string method)
        {
            var plan = node.Norm;
            int tokens = node.Rows;
            int n = plan.Width;
            int guard = LayerNormPlan.ReciprocalGuardBits(n);
            int normalizedShift = 62 - guard - LayerNormPlan.NormalizedFractionBits;
            // For INT8 rows |D_i| = N |q_i - mean| <= 255 N; while 255 N + 1 <= 2^31 / N no rounding shift s is needed.
            // INT32 rows take the rounded route; the AVX-512 kernel is for INT8 in and out.
            bool exact = 255L * n + 1 <= (1L << 31) / n && !node.WideInput;
            bool simd = exact && !node.WideOutput;
            int inBytes = node.WideInput ? 4 : 1, outBytes = node.WideOutput ? 4 : 1;
            w.Line("/// <summary>");
            w.Line($"/// LayerNorm '{ModelEmitter.Xml(plan.Name)}' of each of the {I(tokens)} tokens, in integers:");
            foreach (var line in plan.Description.TrimEnd('\n').Split('\n')) w.Line("/// " + ModelEmitter.Xml(line.Trim()));
            w.Line($"/// Per token: D_i = {I(n)} q_i - sum (= N (q_i - mean), exact), W = {I(n)} sum D_i^2 scaled by 4^m into [2^60, 2^62),");
            w.Line($"/// R = IntSqrt(W 4^m) (R / 2^m = N sqrt(N) std), one reciprocal F = 2^{I(62 - guard)} / R, then n_i = (D_i N 2^m F) >> {I(normalizedShift)}");
            w.Line("/// = (q_i - mean) / std in Q16 and q_out = clamp(Z_out + ((n_i G_i + B_i + 2^(T-1)) >> T)).");
            if (node.WideInput || node.WideOutput)
            {
                w.Line($"/// Wide: the rows are {(node.WideInput ? "INT32" : "INT8")} and the output {(node.WideOutput ? "INT32 (zero point 0, clamped to INT32 only)" : "INT8")}; INT32 values are four bytes of their span.");
            }

            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, int path)");
            w.Line($"ReadOnlySpan<long> gamma = {method}Gamma, beta = {method}Beta;");
            w.Line($"if (input.Length < {I(tokens * n * inBytes)} || output.Length < {I(tokens * n * outBytes)}) throw new ArgumentException(\"LayerNorm buffers are too short.\");");
            w.Line($"if ((uint)rows > {I(tokens)}) throw new ArgumentOutOfRangeException(nameof(rows));");
            if (simd)
            {
                w.Open($"if ({GraphEmitter.Simd})");
                w.Line("ref sbyte x = ref MemoryMarshal.GetReference(input), y = ref MemoryMarshal.GetReference(output);");
                w.Line("// Two tokens per iteration: each one's chain (sums, square root, reciprocal) is long, and they are independent.");
                w.Open("for (int t = 0; t < rows; t += 2)");
                w.Line($"{method}Avx512(ref Unsafe.Add(ref x, t * {I(n)}), ref Unsafe.Add(ref y, t * {I(n)}));");
                w.Line($"if (t + 1 < rows) {method}Avx512(ref Unsafe.Add(ref x, (t + 1) * {I(n)}), ref Unsafe.Add(ref y, (t + 1) * {I(n)}));");
                w.Close();
                w.Line("return;");
                w.Close();
                w.Line();
            }

            w.Line($"Span<long> d = {w.StackAlloc("long", n)};");
            w.Open("for (int t = 0; t < rows; t++)");
            w.Line(node.WideInput ? $"ReadOnlySpan<int> row = MemoryMarshal.Cast<sbyte, int>(input).Slice(t * {I(n)}, {I(n)});"
                : $"ReadOnlySpan<sbyte> row = input.Slice(t * {I(n)}, {I(n)});");
            w.Line(node.WideOutput ? $"Span<int> result = MemoryMarshal.Cast<sbyte, int>(output).Slice(t * {I(n)}, {I(n)});"
                : $"Span<sbyte> result = output.Slice(t * {I(n)}, {I(n)});");
            string Store(string value) => node.WideOutput ? $"(int)Math.Clamp({value}, int.MinValue, int.MaxValue)" : $"Clamp8({I(plan.OutputZeroPoint)} + {value})";
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
            w.Line($"for (int i = 0; i < {I(n)}; i++) result[i] = {Store($"((beta[i] + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)})")};");
            w.Line("continue;");
            w.Close();
            w.Line("int m = (62 - (64 - BitOperations.LeadingZeroCount((ulong)wide))) / 2;");
            w.Line("long root = IntSqrt((ulong)wide << (2 * m));");
            w.Line($"long reciprocal = {I(1L << (62 - guard))}L / root;");
            w.Open($"for (int i = 0; i < {I(n)}; i++)");
            w.Line($"long normalized = (((d[i] * {I(n)}) << m) * reciprocal + {I(1L << (normalizedShift - 1))}L) >> {I(normalizedShift)};");
            w.Line($"result[i] = {Store($"((normalized * gamma[i] + beta[i] + {I(1L << (plan.OutputShift - 1))}L) >> {I(plan.OutputShift)})")};");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            if (simd)
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

        private static string I(long v) => CodeWriter.Int(v);
    }
}
