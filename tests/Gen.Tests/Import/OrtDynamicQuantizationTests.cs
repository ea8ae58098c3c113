using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Gen.Import.Onnx.Proto;
using Gen.OrtDynamicQuantization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The dynamic INT8 rewrite (tools/Gen.OrtDynamicQuantization), the peer the integer BERT is measured against:
    /// on one MatMul, ONNX Runtime's result of the rewritten model against the arithmetic written out here from the
    /// ONNX definitions (DynamicQuantizeLinear, MatMulInteger) and ORT's weight quantizer (symmetric per column,
    /// -127..127, round half to even); on all-MiniLM-L6-v2, that every constant-weight MatMul became integer, in the
    /// file and in the graph ONNX Runtime really runs after its optimizations.
    /// </summary>
    public sealed class OrtDynamicQuantizationTests
    {
        private readonly ITestOutputHelper _log;

        public OrtDynamicQuantizationTests(ITestOutputHelper log) => _log = log;

        [Fact]
        public void OneMatMulComputesWhatDynamicQuantizationDefines()
        {
            const int M = 6, K = 40, N = 5;
            var rng = new Random(11);
            var a = Enumerable.Range(0, M * K).Select(_ => (float)(rng.NextDouble() * 3 - 1)).ToArray(); // min -1, max 2: zero point inside
            var b = Enumerable.Range(0, K * N).Select(i => (float)(rng.NextDouble() * 2 - 1) * (1 + i % N)).ToArray(); // columns of different ranges
            for (int k = 0; k < K; k++) b[k * N + 4] = 0; // an all-zero column: scale 1, as ORT
            b[0 * N + 1] = 127f;  // column 1's largest magnitude: its scale is exactly 1, so the next two are exact ties
            b[7 * N + 1] = 2.5f;  // half to even gives 2 (away from zero would give 3)
            b[8 * N + 1] = -4.5f; // -4 (away: -5)
            b[1 * N + 3] = -10f;  // column 3's largest magnitude is negative: -127

            var result = DynamicQuantizer.Quantize(OneMatMul(b, K, N));
            Assert.Equal(1, result.QuantizedMatMuls);

            // The weights: symmetric per output column, written out from ORT's quantizer.
            var model = ModelProto.Parser.ParseFrom(result.Model);
            var qb = model.Graph.Initializer.Single(t => t.DataType == 3 && t.Dims.Count == 2);
            var scales = MemoryMarshal.Cast<byte, float>(model.Graph.Initializer.Single(t => t.DataType == 1 && t.Dims.Count == 1).RawData.Span).ToArray();
            var expectedScales = new float[N];
            var expectedQ = new sbyte[K * N];
            for (int n = 0; n < N; n++)
            {
                float max = MaxAbsColumn(b, K, N, n);
                expectedScales[n] = max == 0 ? 1f : max / 127f;
                for (int k = 0; k < K; k++) expectedQ[k * N + n] = (sbyte)Math.Clamp(Math.Round((double)(b[k * N + n] / expectedScales[n]), MidpointRounding.ToEven), -127, 127);
            }

            Assert.Equal(expectedScales, scales);
            Assert.Equal(expectedQ, MemoryMarshal.Cast<byte, sbyte>(qb.RawData.Span).ToArray());
            Assert.Equal(new sbyte[] { 127, 2, -4 }, new[] { expectedQ[1], expectedQ[7 * N + 1], expectedQ[8 * N + 1] }); // ties to even
            Assert.Equal(-127, expectedQ[1 * N + 3]);

            // The activation: DynamicQuantizeLinear as ONNX defines it (uint8, range widened to contain 0).
            float aMin = Math.Min(0, a.Min()), aMax = Math.Max(0, a.Max());
            float aScale = (aMax - aMin) / 255f;
            int zero = (int)Math.Clamp(Math.Round((double)(-aMin / aScale), MidpointRounding.ToEven), 0, 255);
            var qa = a.Select(v => (int)Math.Clamp(Math.Round((double)(v / aScale), MidpointRounding.ToEven) + zero, 0, 255)).ToArray();

            using var session = new InferenceSession(result.Model, new SessionOptions { IntraOpNumThreads = 1 });
            var inputs = new[] { NamedOnnxValue.CreateFromTensor("A", new DenseTensor<float>(a, new[] { M, K })) };
            using var outputs = session.Run(inputs);
            var actual = outputs.Single().AsTensor<float>().ToArray();
            double worst = 0, largest = 0;
            for (int m = 0; m < M; m++)
            {
                for (int n = 0; n < N; n++)
                {
                    long acc = 0;
                    for (int k = 0; k < K; k++) acc += (long)(qa[m * K + k] - zero) * expectedQ[k * N + n];
                    double expected = acc * (double)(aScale * expectedScales[n]);
                    worst = Math.Max(worst, Math.Abs(expected - actual[m * N + n]));
                    largest = Math.Max(largest, Math.Abs(expected));
                }
            }

            _log.WriteLine($"a: scale {aScale:G6}, zero point {zero}; max |ORT - defined| {worst:E2} of outputs up to {largest:F3}");
            // Integer accumulators are exact; what is left is float32 rounding of the scale products.
            Assert.True(worst <= 1e-5 * largest, $"ONNX Runtime differs from the definition by {worst:E3}");
            Assert.All(actual.Where((_, i) => i % N == 4), v => Assert.Equal(0f, v));
        }

        [Fact]
        public void EveryConstantWeightMatMulOfMiniLMBecomesInteger()
        {
            byte[] original = ModelPackages.Bytes(ModelPackages.MiniLM);
            // Counted here from the original file, independently of the rewriter.
            var source = ModelProto.Parser.ParseFrom(original).Graph;
            var initializers = source.Initializer.Where(t => t.DataType == 1 && t.Dims.Count == 2).Select(t => t.Name).ToHashSet();
            int constantB = source.Node.Count(n => n.OpType == "MatMul" && initializers.Contains(n.Input[1]));
            int allMatMuls = source.Node.Count(n => n.OpType == "MatMul");
            Assert.Equal(6 * 6, constantB); // query, key, value, attention output, intermediate, output: six a layer

            var result = DynamicQuantizer.Quantize(original);
            var ops = DynamicQuantizer.CountOperators(result.Model);
            _log.WriteLine($"rewritten: {result.QuantizedMatMuls} MatMuls to MatMulInteger, {result.FloatMatMuls} left float, {result.DynamicQuantizations} DynamicQuantizeLinear; {original.Length:N0} -> {result.Model.Length:N0} bytes");
            _log.WriteLine("  " + string.Join(", ", ops.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
            Assert.Equal(constantB, result.QuantizedMatMuls);
            Assert.Equal(constantB, ops["MatMulInteger"]);
            Assert.Equal(allMatMuls - constantB, ops["MatMul"]); // the attention's scores and context, activation by activation
            Assert.Equal(4 * 6, ops["DynamicQuantizeLinear"]); // Q/K/V share one input; attention output, intermediate, output one each
            // The float weights are gone (their INT8 copies are a quarter of the size; the embedding tables stay float).
            var weights = source.Node.Where(n => n.OpType == "MatMul" && initializers.Contains(n.Input[1])).Select(n => n.Input[1]).ToHashSet();
            Assert.DoesNotContain(ModelProto.Parser.ParseFrom(result.Model).Graph.Initializer, t => weights.Contains(t.Name));

            // What ONNX Runtime runs: its optimized graph, written out. The four nodes of each product fuse into one
            // integer kernel, and no float MatMul with a constant weight remains.
            string optimized = Path.Combine(Path.GetTempPath(), $"gen-minilm-int8-optimized-{Environment.ProcessId}.onnx");
            try
            {
                var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized };
                using (new InferenceSession(result.Model, options)) { }
                var run = DynamicQuantizer.CountOperators(File.ReadAllBytes(optimized));
                _log.WriteLine("ONNX Runtime's optimized graph: " + string.Join(", ", run.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
                int integerKernels = run.Where(o => o.Key.Contains("MatMulInteger", StringComparison.Ordinal) || o.Key.Contains("DynamicQuantizeMatMul", StringComparison.Ordinal)).Sum(o => o.Value);
                Assert.Equal(constantB, integerKernels);
                // The attention's two products stay float (plain or with the scaling fused in); the pooler's Gemm
                // (not on the path to the last hidden state) is no MatMul and stays float, as quantize_dynamic leaves it.
                int floatProducts = run.Where(o => o.Key == "MatMul" || o.Key == "com.microsoft:FusedMatMul").Sum(o => o.Value);
                Assert.Equal(allMatMuls - constantB, floatProducts);
            }
            finally
            {
                File.Delete(optimized);
            }
        }

        private static float MaxAbsColumn(float[] b, int k, int n, int column) =>
            Enumerable.Range(0, k).Max(r => Math.Abs(b[r * n + column]));

        // Y = A [M, K] x B [K, N], B an initializer; opset 17.
        private static byte[] OneMatMul(float[] b, int k, int n)
        {
            var graph = new GraphProto { Name = "one_matmul" };
            var weight = new TensorProto { Name = "B", DataType = 1, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(b.AsSpan())) };
            weight.Dims.Add(k);
            weight.Dims.Add(n);
            graph.Initializer.Add(weight);
            var node = new NodeProto { OpType = "MatMul", Name = "matmul" };
            node.Input.Add("A");
            node.Input.Add("B");
            node.Output.Add("Y");
            graph.Node.Add(node);
            graph.Input.Add(Value("A", "M", k));
            graph.Output.Add(Value("Y", "M", n));
            var model = new ModelProto { IrVersion = 8, Graph = graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
            return model.ToByteArray();
        }

        private static ValueInfoProto Value(string name, string rows, int columns)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = rows });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = columns });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        }
    }
}
