using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>Narrowing <see cref="Count"/> wide values to INT8 with one multiplier (<see cref="NarrowPlan"/>).</summary>
    internal sealed record NarrowNodePlan(string Name, EquatableArray<int> Inputs, int Output, long Count, int Columns, int Multiplier, int RightShift,
        int OutputZeroPoint, string Description) : NodePlan(Name, Inputs, Output);

    /// <summary>The narrowing's emitter: the dense layers' requantization on INT32 values, 16 at a time with AVX-512.</summary>
    internal static class NarrowEmitter
    {
        public static NarrowNodePlan Plan(GraphNode node, NarrowPlan plan, long count, int columns) =>
            new NarrowNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, count, columns, plan.Multiplier, -plan.Shift,
                plan.Output.ZeroPoint, plan.Description);

        /// <summary>The call on the first <paramref name="rows"/> rows (a pooled sequence model computes its real tokens only).</summary>
        public static string Call(string method, string input, string output, string rows) => $"{method}({input}, {output}, {rows}, path);";

        public static void Emit(CodeWriter w, string method, NarrowNodePlan p)
        {
            string m0 = I(p.Multiplier), shift = I(p.RightShift), z = I(p.OutputZeroPoint);
            w.Line("/// <summary>");
            w.Line($"/// The INT8 form of the wide '{ModelEmitter.Xml(p.Name)}' for the matrix products that read it:");
            w.Line($"/// <c>q = clamp({z} + MultiplyByQuantizedMultiplier(x, {m0}, -{shift}), -128, 127)</c>; {ModelEmitter.Xml(p.Description)}.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> wide, Span<sbyte> narrow, int rows, int path)");
            w.Line($"if (wide.Length < {I(p.Count * 4)} || narrow.Length < {I(p.Count)}) throw new ArgumentException(\"Narrowing buffers are too short.\");");
            w.Line($"if ((uint)rows > {I(p.Count / p.Columns)}) throw new ArgumentOutOfRangeException(nameof(rows));");
            w.Line($"int count = rows * {I(p.Columns)};");
            w.Line("ref int x = ref Unsafe.As<sbyte, int>(ref MemoryMarshal.GetReference(wide));");
            w.Line("ref sbyte y = ref MemoryMarshal.GetReference(narrow);");
            w.Line("int i = 0;");
            w.Open($"if ({GraphEmitter.Simd})");
            w.Open("for (; i <= count - 16; i += 16)");
            w.Line($"Vector512<int> q = MultiplyByQuantizedMultiplier(Vector512.LoadUnsafe(ref x, (nuint)i), {m0}, {shift}) + Vector512.Create({z});");
            w.Line("Avx512F.ConvertToVector128SByteWithSaturation(q).StoreUnsafe(ref y, (nuint)i); // saturation is the clamp");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"for (; i < count; i++) Unsafe.Add(ref y, i) = Requantize(Unsafe.Add(ref x, i), {m0}, {shift}, {z}, -128, 127);");
            w.Close();
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
