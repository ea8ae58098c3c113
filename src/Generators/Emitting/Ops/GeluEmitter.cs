using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>GELU by table lookup: the integer i-GELU of each of the 256 INT8 inputs, computed at build time.</summary>
    internal sealed record GeluNodePlan(string Name, EquatableArray<int> Inputs, int Output, string Part, long Count, EquatableArray<sbyte> Table,
        string Description, float InputScale, int InputZeroPoint) : NodePlan(Name, Inputs, Output);

    /// <summary>The GELU's emitter: a lookup in the 256-entry table of the integer i-GELU, 64 at a time with vpermi2b.</summary>
    internal static class GeluEmitter
    {
            public static readonly string[] Suffixes = { "", "Table" };

        public static GeluNodePlan Plan(GraphNode node, GeluPlan plan, QuantizedGraph graph)
        {
            var input = graph.Quantization[node.Inputs[0]];
            return new GeluNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, ((GeluAttributes)node.Attributes).Part,
                graph.Graph.Values[node.Output].Elements, new EquatableArray<sbyte>(Table(plan)), plan.Describe(), input.Scale, input.ZeroPoint);
        }

        /// <summary>GELU in place: the walk gives its output the bytes of its input (<see cref="OpRules.RunsInPlace"/>).</summary>
        public static string Call(string method, string values) => $"{method}({values}, path); // in place";

        /// <summary>
        /// GELU of every INT8 input: 256 values of the integer i-GELU kernel (the interpreter's), computed here once.
        /// An INT8 input has only 256 values, so the generated code looks its result up instead of evaluating the
        /// polynomial per element; the table is the kernel's output, bit for bit.
        /// </summary>
        private static sbyte[] Table(GeluPlan plan)
        {
            var table = new sbyte[256];
            for (int q = -128; q <= 127; q++) table[q + 128] = Runtime.Kernels.IntGelu.GeluInt8((sbyte)q, plan);
            return table;
        }

        public static void Emit(CodeWriter w, string method, GeluNodePlan l)
        {
            long count = l.Count;
            w.Line("/// <summary>");
            w.Line($"/// GELU of the {I(count)} feed-forward values of '{ModelEmitter.Xml(l.Part)}', INT8 in place. An INT8 input takes 256 values, so the");
            w.Line("/// integer i-GELU (I-BERT's erf polynomial, constants below) was evaluated for each at build time, with the same integer");
            w.Line("/// arithmetic as Gen.Runtime.Kernels.IntGelu, and is looked up here:");
            foreach (var line in l.Description.TrimEnd('\n').Split('\n')) w.Line("/// " + ModelEmitter.Xml(line.Trim()));
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
            w.Line($"// i-GELU of q = -128..127 (input scale {CodeWriter.Real(l.InputScale)}, zero point {I(l.InputZeroPoint)}) as INT8.");
            w.Line($"private static ReadOnlySpan<sbyte> {method}Table => new sbyte[]");
            w.Line("{");
            var block = new CodeWriter();
            block.Values(l.Table.AsArray(), 0, 256, 16, v => CodeWriter.Int(v));
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
