using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Gen.Import.Onnx.Proto;
using Google.Protobuf;

namespace Gen.OrtDynamicQuantization
{
    /// <summary>What <see cref="DynamicQuantizer.Quantize"/> wrote: the model and what it changed.</summary>
    /// <param name="Model">The rewritten ONNX file.</param>
    /// <param name="QuantizedMatMuls">MatMuls rewritten to MatMulInteger (every one whose B is a constant [K, N] float initializer).</param>
    /// <param name="FloatMatMuls">MatMuls left in float32 (B computed at run time: attention's scores and context).</param>
    /// <param name="DynamicQuantizations">DynamicQuantizeLinear nodes added: one per distinct A (Q, K and V share theirs).</param>
    public sealed record DynamicQuantizationResult(byte[] Model, int QuantizedMatMuls, int FloatMatMuls, int DynamicQuantizations);

    /// <summary>
    /// ONNX Runtime's dynamic INT8 quantization of the matrix products, as
    /// <c>onnxruntime.quantization.quantize_dynamic(model, out, per_channel=True, weight_type=QuantType.QInt8)</c>
    /// writes it for a transformer: every <c>MatMul(A, B)</c> whose B is a constant float initializer [K, N] becomes
    /// <code>
    ///   DynamicQuantizeLinear(A)                          -> A_u8, a_scale, a_zero_point   (per call, per tensor, uint8)
    ///   MatMulInteger(A_u8, B_s8, a_zero_point, B_zero)   -> int32                          (B_zero: N zeros, int8)
    ///   Cast(to = float)
    ///   Mul(that, Mul(a_scale, b_scale[N]))               -> the MatMul's output
    /// </code>
    /// and everything else (Gather, Add, LayerNorm, Softmax, GELU, the attention's two activation-by-activation
    /// products) stays float32. That is the comparison a .NET developer has at hand: ONNX Runtime fuses the four nodes
    /// into its DynamicQuantizeMatMul kernel (INT8 dot products, VNNI where the CPU has it).
    /// <para>
    /// The weights are quantized the way ONNX Runtime's quantizer does it for a symmetric INT8 weight: per output
    /// column n, <c>scale[n] = max_k |B[k, n]| / 127</c> (the symmetric range -127..127; 1 for an all-zero column, as
    /// ORT), <c>q = clamp(round(B / scale), -127, 127)</c> with the division in float32 and rounding half to even
    /// (numpy's <c>round</c>), zero point 0. The activations' quantization is ONNX's DynamicQuantizeLinear, computed by
    /// ONNX Runtime at run time: uint8, <c>scale = (max(0, max A) - min(0, min A)) / 255</c>, zero point
    /// <c>round(-min / scale)</c>, over the whole tensor of that call.
    /// </para>
    /// <para>
    /// Left out on purpose (quantize_dynamic's defaults do them, but they do not change where the time or the error
    /// goes in a BERT encoder): the embedding tables' Gather (ORT would store them as INT8 and dequantize the gathered
    /// rows, which is a storage saving, not integer arithmetic) and MatMuls whose B is reached through a Transpose or
    /// Reshape of an initializer (MiniLM's export has none).
    /// </para>
    /// </summary>
    public static class DynamicQuantizer
    {
        private const int Float = 1, Int8 = 3;
        private const float SmallestNormal = 1.17549435e-38f; // numpy.finfo(float32).tiny

        /// <summary>Rewrites an ONNX model (a whole file's bytes, no external data) as above.</summary>
        public static DynamicQuantizationResult Quantize(byte[] onnxModel)
        {
            var model = ModelProto.Parser.ParseFrom(onnxModel);
            var graph = model.Graph;
            var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
            var readers = graph.Node.SelectMany(n => n.Input).GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var names = new HashSet<string>(graph.Node.SelectMany(n => n.Input.Concat(n.Output)).Concat(initializers.Keys), StringComparer.Ordinal);

            // One DynamicQuantizeLinear per activation: the query, key and value projections read the same LayerNorm
            // output, and ORT's quantizer quantizes it once for all three (so do we).
            var quantizedActivations = new Dictionary<string, (string Values, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
            var nodes = new List<NodeProto>();
            var removed = new HashSet<string>(StringComparer.Ordinal);
            int quantized = 0, kept = 0;
            foreach (var node in graph.Node)
            {
                bool constantB = node.OpType == "MatMul" && node.Domain.Length == 0 && node.Input.Count == 2
                    && initializers.TryGetValue(node.Input[1], out var b) && b.DataType == Float && b.Dims.Count == 2;
                if (!constantB)
                {
                    if (node.OpType == "MatMul") kept++;
                    nodes.Add(node);
                    continue;
                }

                var weight = initializers[node.Input[1]];
                string a = node.Input[0], output = node.Output[0], stem = Unique(names, node.Name.Length > 0 ? node.Name : output);
                if (!quantizedActivations.TryGetValue(a, out var qa))
                {
                    string aStem = Unique(names, a);
                    qa = (aStem + "_quantized", aStem + "_scale", aStem + "_zero_point");
                    Claim(names, qa.Values, qa.Scale, qa.ZeroPoint);
                    nodes.Add(Node("DynamicQuantizeLinear", aStem + "_QuantizeLinear", new[] { a }, new[] { qa.Values, qa.Scale, qa.ZeroPoint }));
                    quantizedActivations[a] = qa;
                }

                var (qWeight, scales, zeros) = QuantizeWeight(weight, stem);
                graph.Initializer.Add(qWeight);
                graph.Initializer.Add(scales);
                graph.Initializer.Add(zeros);
                string integer = stem + "_output_quantized", asFloat = stem + "_output_cast", scale = stem + "_scales_mul";
                Claim(names, qWeight.Name, scales.Name, zeros.Name, integer, asFloat, scale);
                nodes.Add(Node("MatMulInteger", stem + "_MatMulInteger", new[] { qa.Values, qWeight.Name, qa.ZeroPoint, zeros.Name }, new[] { integer }));
                nodes.Add(Node("Cast", stem + "_Cast", new[] { integer }, new[] { asFloat }, ("to", Float)));
                nodes.Add(Node("Mul", stem + "_scales_Mul", new[] { qa.Scale, scales.Name }, new[] { scale }));
                nodes.Add(Node("Mul", stem + "_output_Mul", new[] { asFloat, scale }, new[] { output }));
                quantized++;

                // The float weight goes once nothing else reads it (ORT's quantizer removes it too): the INT8 copy is
                // a quarter of its size.
                if (--readers[weight.Name] == 0) removed.Add(weight.Name);
            }

            graph.Node.Clear();
            graph.Node.AddRange(nodes);
            var remaining = graph.Initializer.Where(t => !removed.Contains(t.Name)).ToList();
            graph.Initializer.Clear();
            graph.Initializer.AddRange(remaining);
            // The graph's inputs may list initializers (older exporters); a removed one must go from there too.
            var inputs = graph.Input.Where(i => !removed.Contains(i.Name)).ToList();
            graph.Input.Clear();
            graph.Input.AddRange(inputs);
            RequireOpset(model, 11); // DynamicQuantizeLinear is in opset 11 (MatMulInteger in 10)
            return new DynamicQuantizationResult(model.ToByteArray(), quantized, kept, quantizedActivations.Count);
        }

        /// <summary>How many nodes of each operator type (<c>domain:op</c> outside the default domain) a model has.</summary>
        public static IReadOnlyDictionary<string, int> CountOperators(byte[] onnxModel) =>
            ModelProto.Parser.ParseFrom(onnxModel).Graph.Node
                .GroupBy(n => n.Domain.Length == 0 || n.Domain == "ai.onnx" ? n.OpType : n.Domain + ":" + n.OpType, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

        /// <summary>
        /// The symmetric per-column INT8 weight: scale[n] = max_k |B[k, n]| / 127, q = round_half_even(B / scale).
        /// </summary>
        public static (sbyte[] Values, float[] Scales) QuantizePerColumn(ReadOnlySpan<float> weight, int rows, int columns)
        {
            var scales = new float[columns];
            for (int k = 0; k < rows; k++)
            {
                for (int n = 0; n < columns; n++) scales[n] = Math.Max(scales[n], Math.Abs(weight[k * columns + n]));
            }

            for (int n = 0; n < columns; n++)
            {
                // ORT: scale = (rmax - rmin) / (qmax - qmin) with rmax = -rmin = max|B| and the range -127..127, so
                // max|B| * 2 / 254; a scale below float's smallest normal becomes 1 (an all-zero column).
                float s = scales[n] * 2f / 254f;
                scales[n] = s < SmallestNormal ? 1f : s;
            }

            var values = new sbyte[rows * columns];
            for (int i = 0; i < values.Length; i++)
            {
                float q = MathF.Round(weight[i] / scales[i % columns], MidpointRounding.ToEven);
                values[i] = (sbyte)Math.Clamp(q, -127f, 127f);
            }

            return (values, scales);
        }

        private static (TensorProto Values, TensorProto Scales, TensorProto ZeroPoints) QuantizeWeight(TensorProto weight, string stem)
        {
            if (weight.DataLocation == TensorProto.Types.DataLocation.External) throw new NotSupportedException($"{weight.Name}: external data is not read");
            int rows = checked((int)weight.Dims[0]), columns = checked((int)weight.Dims[1]);
            float[] floats = weight.FloatData.Count > 0 ? weight.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
            if (floats.Length != rows * columns) throw new InvalidOperationException($"{weight.Name}: {floats.Length} values for [{rows}, {columns}]");
            var (values, scales) = QuantizePerColumn(floats, rows, columns);
            var q = new TensorProto { Name = stem + "_weight_quantized", DataType = Int8, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
            q.Dims.Add(rows);
            q.Dims.Add(columns);
            var s = new TensorProto { Name = stem + "_weight_scale", DataType = Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(scales.AsSpan())) };
            s.Dims.Add(columns);
            var z = new TensorProto { Name = stem + "_weight_zero_point", DataType = Int8, RawData = ByteString.CopyFrom(new byte[columns]) };
            z.Dims.Add(columns);
            return (q, s, z);
        }

        private static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            foreach (var (key, value) in attributes)
            {
                node.Attribute.Add(new AttributeProto { Name = key, I = value, Type = AttributeProto.Types.AttributeType.Int });
            }

            return node;
        }

        private static void RequireOpset(ModelProto model, long version)
        {
            var onnx = model.OpsetImport.FirstOrDefault(o => o.Domain.Length == 0 || o.Domain == "ai.onnx");
            if (onnx == null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = version });
            else if (onnx.Version < version) throw new NotSupportedException($"opset {onnx.Version}: DynamicQuantizeLinear needs {version}");
        }

        // A name stem no tensor of the graph has yet (with its suffixes): exports name MatMuls "/encoder/.../MatMul".
        private static string Unique(HashSet<string> names, string stem)
        {
            string candidate = stem;
            for (int i = 1; names.Any(n => n.StartsWith(candidate + "_", StringComparison.Ordinal)); i++) candidate = stem + "_" + i;
            return candidate;
        }

        private static void Claim(HashSet<string> names, params string[] claimed)
        {
            foreach (string name in claimed)
            {
                if (!names.Add(name)) throw new InvalidOperationException($"{name} is already in the graph");
            }
        }
    }
}
