using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>An add across scales; <see cref="Constant"/> holds the second input's INT8 data when it is a constant.</summary>
    internal sealed record AddNodePlan(string Name, EquatableArray<int> Inputs, int Output, AddPlan Add, string What,
        EquatableArray<sbyte> Constant, float ConstantScale) : NodePlan(Name, Inputs, Output);

    /// <summary>The add's emitter: one multiply per input and a shift, 16 lanes at a time with AVX-512.</summary>
    internal static class AddEmitter
    {
        public static AddNodePlan Plan(GraphNode node, ResidualAddPlan add, QuantizedGraph graph)
        {
            var constant = graph.Constants[node.Inputs[1]];
            return new AddNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, AddPlan.From(add), ((AddAttributes)node.Attributes).What,
                constant is null ? EquatableArray<sbyte>.Empty : new EquatableArray<sbyte>(constant), graph.Quantization[node.Inputs[1]].Scale);
        }

        public static string Call(string method, string a, string b, string sum) => $"{method}({a}, {b}, {sum}, path);";

        /// <summary>An INT8 add across scales, rounded once (ResidualAddPlan): one multiply per input, a shift.</summary>
        public static void Emit(CodeWriter w, AddNodePlan p, string method, long count)
        {
            var add = p.Add;
            string what = p.What;
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
            w.Open($"if ({GraphEmitter.Simd})");
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


        /// <summary>A constant second operand (a position embedding): its INT8 values, one row per line.</summary>
        public static void EmitConstant(CodeWriter w, AddNodePlan p, string name, int rows, int columns)
        {
            w.Line($"// '{CodeWriter.Comment(p.Name)}' adds this constant, [{I(rows)}, {I(columns)}], symmetric INT8 at scale {CodeWriter.Real(p.ConstantScale)} (max |value| / 127).");
            w.Line($"private static ReadOnlySpan<sbyte> {name} => new sbyte[]");
            w.Line("{");
            for (int row = 0; row < rows; row++)
            {
                w.Line($"    // row {I(row)}");
                var block = new CodeWriter();
                block.Values(p.Constant.AsArray(), row * columns, columns, 32, v => CodeWriter.Int(v));
                foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            }

            w.Line("};");
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
