using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>An add across scales; <see cref="Constant"/> holds the second input's INT8 data when it is a constant.</summary>
    /// <remarks>A wide add (an INT32 input or output) has <see cref="Wide"/>, and <see cref="Add"/> is unused.</remarks>
    internal sealed record AddNodePlan(string Name, EquatableArray<int> Inputs, int Output, AddPlan Add, string What,
        EquatableArray<sbyte> Constant, float ConstantScale) : NodePlan(Name, Inputs, Output)
    {
        public WideAddEmitPlan? Wide { get; init; }
    }

    /// <summary>The add's emitter: one multiply per input and a shift, 16 lanes at a time with AVX-512.</summary>
    internal static class AddEmitter
    {
        public static AddNodePlan Plan(GraphNode node, object op, QuantizedGraph graph)
        {
            if (op is WideAddPlan wide)
            {
                return new AddNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, new AddPlan(0, 0, 1, 0, 0, ""),
                    ((AddAttributes)node.Attributes).What, EquatableArray<sbyte>.Empty, 0) { Wide = WideAddEmitPlan.From(wide) };
            }

            var add = (ResidualAddPlan)op;
            var constant = graph.Constants[node.Inputs[1]];
            return new AddNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, AddPlan.From(add), ((AddAttributes)node.Attributes).What,
                constant is null ? EquatableArray<sbyte>.Empty : new EquatableArray<sbyte>(constant), graph.Quantization[node.Inputs[1]].Scale);
        }

        /// <summary>The call on the first <paramref name="rows"/> rows (a pooled sequence model computes its real tokens only).</summary>
        public static string Call(string method, string a, string b, string sum, string rows) => $"{method}({a}, {b}, {sum}, {rows}, path);";

        /// <summary>An INT8 add across scales, rounded once (ResidualAddPlan): one multiply per input, a shift.</summary>
        public static void Emit(CodeWriter w, AddNodePlan p, string method, long count, int columns)
        {
            if (p.Wide != null)
            {
                EmitWide(w, p, p.Wide, method, count, columns);
                return;
            }

            var add = p.Add;
            string what = p.What;
            string ma = I(add.MultiplierA), mb = I(add.MultiplierB), offset = I(add.Offset), shift = I(add.Shift), z = I(add.OutputZeroPoint);
            w.Line("/// <summary>");
            w.Line($"/// Adds {ModelEmitter.Xml(what)} across their scales, rounding once:");
            w.Line($"/// <c>q = clamp({z} + ((a * {ma} + b * {mb} + {offset}) &gt;&gt; {shift}))</c>, where the multipliers are the input scales over the");
            w.Line("/// output scale times 2^" + shift + " and the offset is the rounding term with both input zero points folded in.");
            w.Line($"/// {ModelEmitter.Xml(add.Description)}.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> sum, int rows, int path)");
            w.Line($"if (a.Length < {I(count)} || b.Length < {I(count)} || sum.Length < {I(count)}) throw new ArgumentException(\"Add buffers are too short.\");");
            w.Line($"if ((uint)rows > {I(count / columns)}) throw new ArgumentOutOfRangeException(nameof(rows));");
            w.Line($"int count = rows * {I(columns)};");
            w.Line("ref sbyte ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), rs = ref MemoryMarshal.GetReference(sum);");
            w.Line("int i = 0;");
            w.Open($"if ({GraphEmitter.Simd})");
            w.Line("// 16 at a time; every partial sum stays below 2^31 (the shift was chosen for that).");
            w.Open("for (; i <= count - 16; i += 16)");
            w.Line("Vector512<int> x1 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref ra, (nuint)i));");
            w.Line("Vector512<int> x2 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref rb, (nuint)i));");
            w.Line($"Vector512<int> y = Vector512.ShiftRightArithmetic(x1 * Vector512.Create({ma}) + x2 * Vector512.Create({mb}) + Vector512.Create({offset}), {shift});");
            w.Line($"Avx512F.ConvertToVector128SByteWithSaturation(y + Vector512.Create({z})).StoreUnsafe(ref rs, (nuint)i); // saturation is the clamp");
            w.Close();
            w.Close();
            w.Line();
            w.Open("for (; i < count; i++)");
            w.Line($"int y = (Unsafe.Add(ref ra, i) * {ma} + Unsafe.Add(ref rb, i) * {mb} + {offset}) >> {shift};");
            w.Line($"Unsafe.Add(ref rs, i) = (sbyte)Math.Clamp(y + {z}, -128, 127);");
            w.Close();
            w.Close();
            w.Line();
        }


        /// <summary>
        /// The add of the residual stream with an INT32 input or output, on 64 bits: each INT32 operand is four bytes of its
        /// span; eight lanes at a time with AVX-512 (vpmullq, vpsraq, and the saturating narrowing as the clamp).
        /// </summary>
        private static void EmitWide(CodeWriter w, AddNodePlan p, WideAddEmitPlan add, string method, long count, int columns)
        {
            string ma = I(add.MultiplierA) + "L", mb = I(add.MultiplierB) + "L", shift = I(add.Shift), half = I(1L << (add.Shift - 1)) + "L";
            string za = I(add.ZeroPointA), zb = I(add.ZeroPointB), z = I(add.OutputZeroPoint);
            string Kind(bool wide) => wide ? "INT32" : "INT8";
            w.Line("/// <summary>");
            w.Line($"/// Adds {ModelEmitter.Xml(p.What)} across their scales on 64 bits, rounding once ({Kind(add.WideA)} a, {Kind(add.WideB)} b, {Kind(add.WideOutput)} sum):");
            w.Line($"/// <c>q = clamp({z} + (({ma} (a - ({za})) + {mb} (b - ({zb})) + 2^{I(add.Shift - 1)}) &gt;&gt; {shift}))</c>, the multipliers the input");
            w.Line($"/// scales over the output scale times 2^{shift}. {ModelEmitter.Xml(add.Description)}.");
            w.Line("/// </summary>");
            w.Open($"private static void {method}(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> sum, int rows, int path)");
            string Bytes(bool wide) => I(count * (wide ? 4 : 1));
            w.Line($"if (a.Length < {Bytes(add.WideA)} || b.Length < {Bytes(add.WideB)} || sum.Length < {Bytes(add.WideOutput)}) throw new ArgumentException(\"Add buffers are too short.\");");
            w.Line($"if ((uint)rows > {I(count / columns)}) throw new ArgumentOutOfRangeException(nameof(rows));");
            w.Line($"int count = rows * {I(columns)};");
            w.Line("ref sbyte ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), rs = ref MemoryMarshal.GetReference(sum);");
            w.Line("int i = 0;");
            string Load(bool wide, string r) => wide
                ? $"Avx512F.ConvertToVector512Int64(Vector256.LoadUnsafe(ref Unsafe.As<sbyte, int>(ref {r}), (nuint)i))"
                : $"Avx512F.ConvertToVector512Int64(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref {r}, i)))).AsSByte())";
            w.Open($"if ({GraphEmitter.Simd})");
            w.Open("for (; i <= count - 8; i += 8)");
            w.Line($"Vector512<long> x1 = {Load(add.WideA, "ra")} - Vector512.Create({za}L);");
            w.Line($"Vector512<long> x2 = {Load(add.WideB, "rb")} - Vector512.Create({zb}L);");
            w.Line($"Vector512<long> y = Vector512.ShiftRightArithmetic(Avx512DQ.MultiplyLow(x1, Vector512.Create({ma})) + Avx512DQ.MultiplyLow(x2, Vector512.Create({mb})) + Vector512.Create({half}), {shift});");
            w.Line(add.WideOutput
                ? "Avx512F.ConvertToVector256Int32WithSaturation(y).StoreUnsafe(ref Unsafe.As<sbyte, int>(ref rs), (nuint)i); // saturation is the clamp"
                : $"Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref rs, i)), Avx512F.ConvertToVector128SByteWithSaturation(y + Vector512.Create({z}L)).AsInt64().ToScalar()); // saturation is the clamp");
            w.Close();
            w.Close();
            w.Line();
            string Scalar(bool wide, string r) => wide ? $"(long)Unsafe.Add(ref Unsafe.As<sbyte, int>(ref {r}), i)" : $"Unsafe.Add(ref {r}, i)";
            w.Open("for (; i < count; i++)");
            w.Line($"long y = ({ma} * ({Scalar(add.WideA, "ra")} - ({za})) + {mb} * ({Scalar(add.WideB, "rb")} - ({zb})) + {half}) >> {shift};");
            w.Line(add.WideOutput
                ? "Unsafe.Add(ref Unsafe.As<sbyte, int>(ref rs), i) = (int)Math.Clamp(y, int.MinValue, int.MaxValue);"
                : $"Unsafe.Add(ref rs, i) = Clamp8(y + {z});");
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
