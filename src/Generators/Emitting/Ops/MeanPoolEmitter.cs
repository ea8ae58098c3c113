using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>The mean of <see cref="Rows"/> rows of <see cref="Width"/>.</summary>
    internal sealed record MeanPoolNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Rows, int Width, int InputZeroPoint,
        int Multiplier, int RightShift, int OutputZeroPoint, float OutputScale) : NodePlan(Name, Inputs, Output);

    /// <summary>The mean pooling's emitter: the sum of the rows requantized once, 16 channels at a time with AVX-512.</summary>
    internal static class MeanPoolEmitter
    {
        public static MeanPoolNodePlan Plan(GraphNode node, MeanPoolPlan p, int width) =>
            new MeanPoolNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, p.Rows, width, p.Input.ZeroPoint,
                p.Multiplier, -p.Shift, p.Output.ZeroPoint, p.Output.Scale);

        public static string Call(string method, string input, string output) => $"{method}({input}, {output}, path);";

        public static void Emit(CodeWriter w, string method, MeanPoolNodePlan t)
        {
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

        private static string I(long v) => CodeWriter.Int(v);
    }
}
