using System.Linq;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>
    /// Multi-head attention of Q, K, V over <see cref="Tokens"/> rows. <see cref="Masked"/>: the method takes the number of
    /// real tokens at run time (a padded sequence), and only those are keys; with <see cref="TrimQueries"/> (a model whose
    /// output is pooled, so that no padded row reaches it) only those are queries too.
    /// </summary>
    internal sealed record AttentionNodePlan(string Name, EquatableArray<int> Inputs, int Output, string Prefix, int Heads, int HeadSize,
        int Tokens, int Width, SoftmaxEmitPlan Softmax, int QueryZeroPoint, int KeyZeroPoint, int ValueZeroPoint, int ContextMultiplier,
        int ContextRightShift, int ContextZeroPoint, long ScoreBound, long PaddingInput, bool Masked = false, bool TrimQueries = false)
        : NodePlan(Name, Inputs, Output)
    {
        /// <summary>
        /// Whether the AVX-512 kernel's padding tokens (when the tokens are not whole vectors) and, in a masked attention, the
        /// keys past the real tokens are proven to get exp 0.
        /// </summary>
        public bool PaddingVanishes => PaddingInput < 0;
    }

    /// <summary>
    /// The attention's emitter: per head, INT32 scores, the integer Softmax (I-BERT's i-exp) and the context requantized,
    /// scalar and with AVX-512.
    /// </summary>
    internal static class AttentionEmitter
    {
            /// <summary>The suffixes of the names derived from the method's (its AVX-512 version) and from the exp's.</summary>
        public static readonly string[] Suffixes = { "", "Avx512" };

        public static AttentionNodePlan Plan(GraphNode node, AttentionPlan a, int tokens, int width, bool masked, bool trimQueries)
        {
            long scores = (long)AttentionOp.ScoreBound(a); // below 2^31: the op proved it
            // A padding token's score is -2^30; a masked key's is its real score (at most `scores`) plus -2^30.
            return new AttentionNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, ((AttentionAttributes)node.Attributes).Part,
                a.Heads, a.HeadSize, tokens, width, SoftmaxEmitPlan.From(a.Softmax), a.Query.ZeroPoint, a.Key.ZeroPoint, a.Value.ZeroPoint,
                a.ContextMultiplier, -a.ContextShift, a.Context.ZeroPoint, scores, PaddingInput(a.Softmax.Exp, masked ? 2 * scores : scores), masked, masked && trimQueries);
        }

        /// <summary>
        /// The AVX-512 kernel pads the tokens to whole vectors of 16 and gives each padding token the score 0 + int.MinValue / 2
        /// = -2^30. Its exp is exactly 0 when every real score lies above that (|score| &lt;= <paramref name="scores"/> &lt; 2^30,
        /// so the row's maximum is a real score) and the largest padding input, <c>-2^30 - max &lt;= -2^30 + scores</c>, aligns
        /// at or below -32 ln2, where the exp is <c>(B^2 + C) &gt;&gt; 32 = 0</c> (the alignment is monotone, so every smaller
        /// input does too). Returns that largest input when this holds, else 0. At fine score scales (S_q S_k / sqrt(d)
        /// below about 2e-8) it does not: -2^30 is then only a few units of real score. A masked key adds -2^30 to a real
        /// score, so the caller passes twice the score bound.
        /// </summary>
        internal static long PaddingInput(ExpPlan exp, long scores)
        {
            if (scores >= 1L << 30) return 0;
            long x = -(1L << 30) + scores, clamped = System.Math.Max(x, exp.InputClamp);
            int k = exp.InputShift;
            long v = k >= 0 ? clamped << k : (clamped + (1L << (-k - 1))) >> -k;
            bool vanishes = v <= -ExpPlan.MaxExponent * exp.Ln2Int && (exp.PolynomialB * exp.PolynomialB + exp.PolynomialC) >> 32 == 0;
            return vanishes ? x : 0;
        }

        /// <summary>The call; <paramref name="keys"/> is the run-time count of real tokens of a masked attention.</summary>
        public static string Call(string method, string q, string k, string v, string context, string keys) =>
            $"{method}({q}, {k}, {v}, {context}, {keys}path);";

        /// <summary>Whether the AVX-512 attention's Transpose16x8 helper is needed.</summary>
        public static bool UsesTranspose16x8(AttentionNodePlan l) => l.HeadSize == 16 && l.Tokens % 16 == 0;

        public static void Emit(CodeWriter w, string method, string exp, AttentionNodePlan l, int tokens, int width)
        {
            int d = l.HeadSize;
            int zq = l.QueryZeroPoint, zk = l.KeyZeroPoint, zv = l.ValueZeroPoint;
            var sm = l.Softmax;
            w.Line("/// <summary>");
            w.Line($"/// Multi-head self-attention of '{ModelEmitter.Xml(l.Prefix)}': {I(l.Heads)} heads of {I(d)} features over {I(tokens)} tokens. Per head and query token i:");
            w.Line($"/// scores s_j = sum_e (q_ie - ({I(zq)})) (k_je - ({I(zk)})) in INT32; integer Softmax with 1/sqrt({I(d)}) folded into its constants");
            w.Line("/// gives p_j in INT8 (scale 1/256, zero point -128); the context sum_j (p_j + 128) (v_je - (" + I(zv) + ")) is requantized by");
            w.Line($"/// S_v / (256 S_context) = {I(l.ContextMultiplier)} * 2^-(31 + {I(l.ContextRightShift)}) to zero point {I(l.ContextZeroPoint)}.");
            w.Line("/// </summary>");
            int tp = (tokens + 15) / 16 * 16, dp = (d + 15) / 16 * 16;
            bool padded = tp > tokens || l.Masked;
            bool vectorExp = DivisionByMultiplication(sm.Ln2, ExpPlan.MaxExponent * sm.Ln2, out long magic, out int magicShift) && (!padded || l.PaddingVanishes);
            // A masked attention's real tokens (the keys) come at run time; otherwise every token is one.
            string keys = l.Masked ? "realTokens" : I(tokens), queries = l.TrimQueries ? "realTokens" : I(tokens);
            if (l.Masked) w.Line($"/// <param name=\"realTokens\">The real tokens of the sequence, 1 to {I(tokens)}: only they are keys; padded rows are still queries.</param>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> q, ReadOnlySpan<sbyte> k, ReadOnlySpan<sbyte> v, Span<sbyte> context, {(l.Masked ? "int realTokens, " : "")}int path)");
            w.Line($"if (q.Length < {I(tokens * width)} || k.Length < {I(tokens * width)} || v.Length < {I(tokens * width)} || context.Length < {I(tokens * width)}) throw new ArgumentException(\"Attention buffers are too short.\");");
            if (l.Masked) w.Line($"if ((uint)(realTokens - 1) >= {I(tokens)}u) throw new ArgumentOutOfRangeException(nameof(realTokens), realTokens, \"The real tokens run from 1 to {I(tokens)}.\");");
            if (vectorExp)
            {
                w.Open($"if ({GraphEmitter.Simd})");
                w.Line($"{method}Avx512(q, k, v, context{(l.Masked ? ", realTokens" : "")});");
                w.Line("return;");
                w.Close();
                w.Line();
            }
            else if (padded && !l.PaddingVanishes)
            {
                w.Line("// No AVX-512 version: it pads the tokens to whole vectors with scores of -2^30, and at this score scale their exp would");
                w.Line("// not be 0, so this loop runs on every path.");
            }

            w.Line($"Span<int> scores = {w.StackAlloc("int", tokens)};");
            w.Line($"Span<long> exps = {w.StackAlloc("long", tokens)};");
            w.Line($"Span<int> weights = {w.StackAlloc("int", tokens)};");
            w.Open($"for (int head = 0; head < {I(l.Heads)}; head++)");
            w.Line($"int offset = head * {I(d)};");
            w.Open($"for (int i = 0; i < {queries}; i++)");
            w.Line($"ReadOnlySpan<sbyte> qi = q.Slice(i * {I(width)} + offset, {I(d)});");
            w.Line("int max = int.MinValue;");
            w.Open($"for (int j = 0; j < {keys}; j++)");
            w.Line($"ReadOnlySpan<sbyte> kj = k.Slice(j * {I(width)} + offset, {I(d)});");
            w.Line("int s = 0;");
            w.Line($"for (int e = 0; e < {I(d)}; e++) s += (qi[e] - ({I(zq)})) * (kj[e] - ({I(zk)}));");
            w.Line("scores[j] = s;");
            w.Line("if (s > max) max = s;");
            w.Close();
            w.Line();
            w.Line("// Softmax: exp of (s_j - max) <= 0, their sum, one reciprocal per row, then round(256 e_j / sum) - 128.");
            w.Line("long total = 0;");
            w.Line($"for (int j = 0; j < {keys}; j++) total += exps[j] = {exp}((long)scores[j] - max);");
            w.Line("long reciprocal = (1L << 62) / total;");
            w.Open($"for (int j = 0; j < {keys}; j++)");
            w.Line("long p = (exps[j] * reciprocal + (1L << 53)) >> 54; // in [0, 256]; probability 1 saturates at 255/256");
            w.Line("weights[j] = p > 255 ? 255 : (int)p; // p_j + 128, the INT8 probability without its zero point");
            w.Close();
            w.Line();
            w.Open($"for (int e = 0; e < {I(d)}; e++)");
            w.Line("int acc = 0;");
            w.Line($"for (int j = 0; j < {keys}; j++) acc += weights[j] * (v[j * {I(width)} + offset + e] - ({I(zv)}));");
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
        private static void EmitAttentionAvx512(CodeWriter w, string method, string exp, AttentionNodePlan l, int tokens, int width,
            int tp, int dp, long magic, int magicShift)
        {
            int d = l.HeadSize, chunks = tp / 16, vchunks = dp / 16, pairs = (d + 1) / 2;
            int zq = l.QueryZeroPoint, zk = l.KeyZeroPoint, zv = l.ValueZeroPoint;
            w.Line("/// <summary>");
            w.Line($"/// The attention of '{ModelEmitter.Xml(l.Prefix)}' with AVX-512, the same integers as the scalar loop above. Per head, K - Z_k is laid");
            w.Line("/// out as [feature pair][token][2] and V - Z_v as [token pair][feature][2] in int16 (zero-padded to whole vectors), so");
            w.Line("/// that vpmaddwd adds two products per lane: a query's 16 scores are sums over feature pairs, a context row sums over");
            w.Line("/// token pairs. The exp runs in 64-bit lanes.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}Avx512(ReadOnlySpan<sbyte> q, ReadOnlySpan<sbyte> k, ReadOnlySpan<sbyte> v, Span<sbyte> context{(l.Masked ? ", int realTokens" : "")})");
            w.Line($"Span<short> keys = {w.StackAlloc("short", pairs * tp * 2)};");
            w.Line($"Span<short> values = {w.StackAlloc("short", tp / 2 * dp * 2)};");
            w.Line($"Span<short> weights = {w.StackAlloc("short", 2 * tp)}; // one row per query of an iteration");
            w.Line("ref short kt = ref MemoryMarshal.GetReference(keys), vt = ref MemoryMarshal.GetReference(values), wt = ref MemoryMarshal.GetReference(weights);");
            w.Line("ref sbyte rq = ref MemoryMarshal.GetReference(q), rk = ref MemoryMarshal.GetReference(k), rv = ref MemoryMarshal.GetReference(v);");
            w.Line("ref sbyte rc = ref MemoryMarshal.GetReference(context);");
            if (l.Masked)
            {
                w.Line("// Scores of the keys past the real tokens (padding, and the vector's slack) get -2^30 added, below any real score");
                w.Line($"// (|score| <= {I(l.ScoreBound)}), so that their exp is exactly 0: the largest such input, {I(l.PaddingInput)}, aligns to -32 ln2");
                w.Line("// or below (checked at build time). One mask per vector of 16 keys, from the run-time count.");
                w.Line("Vector512<int> lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);");
                for (int c = 0; c < chunks; c++)
                {
                    w.Line($"Vector512<int> mask{I(c)} = Vector512.ConditionalSelect(Vector512.LessThan(lane + Vector512.Create({I(16 * c)}), Vector512.Create(realTokens)), Vector512<int>.Zero, Vector512.Create(int.MinValue / 2));");
                }
            }
            else if (tp > tokens)
            {
                w.Line($"// Scores of the {I(tp - tokens)} padding tokens are -2^30, below any real one (|score| <= {I(l.ScoreBound)}), and their exp is exactly 0:");
                w.Line($"// the largest padding input, {I(l.PaddingInput)}, aligns to -32 ln2 or below (checked at build time).");
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
            string queries = l.TrimQueries ? "realTokens" : I(tokens);
            w.Open($"for (int i = 0; i < {queries}; i += 2)");
            EmitQuery(w, "i", "A", "wt", exp, l, tokens, width, tp, dp, chunks, vchunks, whole);
            w.Open($"if (i + 1 < {queries})");
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
        private static void EmitQuery(CodeWriter w, string i, string x, string weights, string exp, AttentionNodePlan l, int tokens,
            int width, int tp, int dp, int chunks, int vchunks, bool whole)
        {
            int d = l.HeadSize;
            int zq = l.QueryZeroPoint;
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
            if (l.Masked) for (int c = 0; c < chunks; c++) w.Line($"s{x}{I(c)} += mask{I(c)};");
            else if (tp > tokens) w.Line($"s{x}{I(chunks - 1)} += padding;");
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

        private static string I(long v) => CodeWriter.Int(v);
    }
}
