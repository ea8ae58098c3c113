using System.Linq;
using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>
    /// The mean of <see cref="Rows"/> rows of <see cref="Width"/>. A masked one (a padded sequence) averages the first n rows,
    /// n given at run time, with the multiplier, left shift and right shift of each n at index n - 1.
    /// </summary>
    internal sealed record MeanPoolNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Rows, int Width, int InputZeroPoint,
        int Multiplier, int RightShift, int OutputZeroPoint, float OutputScale, EquatableArray<int> Multipliers, EquatableArray<int> LeftShifts,
        EquatableArray<int> RightShifts) : NodePlan(Name, Inputs, Output)
    {
        public bool Masked => Multipliers.Length > 0;
    }

    /// <summary>The mean pooling's emitter: the sum of the rows requantized once, 16 channels at a time with AVX-512.</summary>
    internal static class MeanPoolEmitter
    {
        /// <summary>The suffixes of the names derived from a masked pooling's (its tables).</summary>
        public static readonly string[] Suffixes = { "", "Multipliers", "LeftShifts", "RightShifts" };

        public static MeanPoolNodePlan Plan(GraphNode node, MeanPoolPlan p, int width, bool masked) =>
            new MeanPoolNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, p.Rows, width, p.Input.ZeroPoint,
                p.Multiplier, -p.Shift, p.Output.ZeroPoint, p.Output.Scale,
                new EquatableArray<int>(masked ? p.Multipliers.ToArray() : System.Array.Empty<int>()),
                new EquatableArray<int>(masked ? p.Shifts.Select(s => s > 0 ? s : 0).ToArray() : System.Array.Empty<int>()),
                new EquatableArray<int>(masked ? p.Shifts.Select(s => s > 0 ? 0 : -s).ToArray() : System.Array.Empty<int>()));

        /// <summary>The call; <paramref name="rows"/> is the run-time count of real tokens of a masked pooling.</summary>
        public static string Call(string method, string input, string output, string rows) => $"{method}({input}, {output}, {rows}path);";

        public static void Emit(CodeWriter w, string method, MeanPoolNodePlan t)
        {
            if (t.Masked)
            {
                EmitMasked(w, method, t);
                return;
            }

            w.Line("/// <summary>");
            w.Line($"/// Mean over the {I(t.Rows)} tokens: sum_t (x_t - ({I(t.InputZeroPoint)})) requantized by S_norm / ({I(t.Rows)} S_pool) =");
            w.Line($"/// {I(t.Multiplier)} * 2^-(31 + {I(t.RightShift)}) to scale {CodeWriter.Real(t.OutputScale)}, zero point {I(t.OutputZeroPoint)}.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> tokens, Span<sbyte> pooled, int path)");
            w.Line($"if (tokens.Length < {I(t.Rows * t.Width)} || pooled.Length < {I(t.Width)}) throw new ArgumentException(\"Pooling buffers are too short.\");");
            w.Line("int first = 0;");
            if (t.Width >= 16)
            {
                w.Open($"if ({GraphEmitter.Simd})");
                w.Line("ref sbyte x = ref MemoryMarshal.GetReference(tokens);");
                w.Open($"for (; first <= {I(t.Width - 16)}; first += 16)");
                w.Line($"Vector512<int> sum = Vector512.Create({I(-(long)t.Rows * t.InputZeroPoint)});");
                w.Line($"for (int i = 0; i < {I(t.Rows)}; i++) sum += Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref x, (nuint)(i * {I(t.Width)} + first)));");
                w.Line($"Avx512F.ConvertToVector128SByteWithSaturation(MultiplyByQuantizedMultiplier(sum, {I(t.Multiplier)}, {I(t.RightShift)}) + Vector512.Create({I(t.OutputZeroPoint)})).StoreUnsafe(ref MemoryMarshal.GetReference(pooled), (nuint)first);");
                w.Close();
                w.Close();
                w.Line();
            }

            w.Open($"for (int c = first; c < {I(t.Width)}; c++)");
            w.Line($"int sum = {I(-(long)t.Rows * t.InputZeroPoint)};");
            w.Line($"for (int i = 0; i < {I(t.Rows)}; i++) sum += tokens[i * {I(t.Width)} + c];");
            w.Line($"pooled[c] = Requantize(sum, {I(t.Multiplier)}, {I(t.RightShift)}, {I(t.OutputZeroPoint)}, -128, 127);");
            w.Close();
            w.Close();
            w.Line();
        }

        // The mean of the first n rows: the sum shifted left (for the few counts whose multiplier is 1 or more, as TensorFlow
        // Lite's MultiplyByQuantizedMultiplier) and requantized by the multiplier of S_in / (n S_out).
        private static void EmitMasked(CodeWriter w, string method, MeanPoolNodePlan t)
        {
            w.Line("/// <summary>");
            w.Line($"/// Mean over the first n of the {I(t.Rows)} tokens (the real ones of a padded sequence): sum_t (x_t - ({I(t.InputZeroPoint)})), shifted left by");
            w.Line($"/// {method}LeftShifts[n - 1] and requantized by S_norm / (n S_pool) = {method}Multipliers[n - 1] * 2^-(31 + {method}RightShifts[n - 1]) to scale");
            w.Line($"/// {CodeWriter.Real(t.OutputScale)}, zero point {I(t.OutputZeroPoint)}. |sum| &lt;= 255 n, and 255 n 2^left stays in an int (checked at build time).");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> tokens, Span<sbyte> pooled, int rows, int path)");
            w.Line($"if (tokens.Length < {I(t.Rows * t.Width)} || pooled.Length < {I(t.Width)}) throw new ArgumentException(\"Pooling buffers are too short.\");");
            w.Line($"if ((uint)(rows - 1) >= {I(t.Rows)}u) throw new ArgumentOutOfRangeException(nameof(rows), rows, \"The real tokens run from 1 to {I(t.Rows)}.\");");
            w.Line($"int multiplier = {method}Multipliers[rows - 1], left = {method}LeftShifts[rows - 1], right = {method}RightShifts[rows - 1];");
            w.Line("int first = 0;");
            if (t.Width >= 16)
            {
                w.Open($"if ({GraphEmitter.Simd})");
                w.Line("ref sbyte x = ref MemoryMarshal.GetReference(tokens);");
                w.Open($"for (; first <= {I(t.Width - 16)}; first += 16)");
                w.Line($"Vector512<int> sum = Vector512.Create(-rows * {I(t.InputZeroPoint)});");
                w.Line($"for (int i = 0; i < rows; i++) sum += Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref x, (nuint)(i * {I(t.Width)} + first)));");
                w.Line($"Avx512F.ConvertToVector128SByteWithSaturation(MultiplyByQuantizedMultiplier(Vector512.ShiftLeft(sum, left), multiplier, right) + Vector512.Create({I(t.OutputZeroPoint)})).StoreUnsafe(ref MemoryMarshal.GetReference(pooled), (nuint)first);");
                w.Close();
                w.Close();
                w.Line();
            }

            w.Open($"for (int c = first; c < {I(t.Width)}; c++)");
            w.Line($"int sum = -rows * {I(t.InputZeroPoint)};");
            w.Line($"for (int i = 0; i < rows; i++) sum += tokens[i * {I(t.Width)} + c];");
            w.Line($"pooled[c] = Requantize(sum << left, multiplier, right, {I(t.OutputZeroPoint)}, -128, 127);");
            w.Close();
            w.Close();
            w.Line();
            foreach (var (suffix, values, what) in new[] { ("Multipliers", t.Multipliers, "M0"), ("LeftShifts", t.LeftShifts, "left shift"), ("RightShifts", t.RightShifts, "right shift") })
            {
                w.Line($"// The {what} of S_norm / (n S_pool) for n = 1 to {I(t.Rows)} real tokens.");
                w.Line($"private static ReadOnlySpan<int> {method}{suffix} => new int[]");
                w.Line("{");
                var block = new CodeWriter();
                block.Values(values.AsArray(), 0, values.Length, 16, v => CodeWriter.Int(v));
                foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
                w.Line("};");
                w.Line();
            }
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
