using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Import;
using Gen.Import.Onnx.Proto;
using Gen.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace Gen.Tests.Import
{
    /// <summary>
    /// <see cref="BertCheckpoint"/> on a tiny BERT written both ways (safetensors and a PyTorch-style ONNX graph): both
    /// routes give the same tensors under Hugging Face names with [out, in] weights; what the import cannot place is an
    /// error naming the node or tensor.
    /// </summary>
    public sealed class BertCheckpointTests
    {
        private static BertCheckpoint Ok(ImportResult<BertCheckpoint> result)
        {
            Assert.True(result.Succeeded, result.Error);
            return result.Value!;
        }

        private static string Fails(ImportResult<BertCheckpoint> result)
        {
            Assert.False(result.Succeeded);
            return result.Error!;
        }

        [Fact]
        public void BothRoutesGiveTheSameTensorsAndArchitecture()
        {
            var tiny = new TinyBert(layers: 2, width: 4, heads: 2, feedForward: 8);
            var fromOnnx = Ok(BertCheckpoint.FromOnnx(tiny.Onnx()));
            var fromSafeTensors = Ok(BertCheckpoint.FromSafeTensors(tiny.SafeTensors()));
            foreach (var checkpoint in new[] { fromOnnx, fromSafeTensors })
            {
                Assert.Equal(tiny.Tensors.Keys.OrderBy(n => n, StringComparer.Ordinal), checkpoint.Tensors.Keys.OrderBy(n => n, StringComparer.Ordinal));
                foreach (var (name, (shape, data)) in tiny.Tensors)
                {
                    Assert.Equal(shape, checkpoint.Tensors[name].Shape);
                    Assert.Equal(data, checkpoint.Tensors[name].Data);
                }

                var a = checkpoint.Architecture;
                Assert.Equal((2, 4, 8, 11, 6, 2, true), (a.Layers, a.Width, a.FeedForward, a.Vocabulary, a.MaxPositions, a.TokenTypes, a.HasPooler));
            }

            // Only the graph shows the heads, the epsilon and the activation.
            Assert.Equal((2, 1e-12f, "gelu"), (fromOnnx.Architecture.Heads, fromOnnx.Architecture.LayerNormEpsilon, fromOnnx.Architecture.Activation));
            Assert.Equal((null, null, null), (fromSafeTensors.Architecture.Heads, fromSafeTensors.Architecture.LayerNormEpsilon, fromSafeTensors.Architecture.Activation));
            Assert.Contains("transposed", fromOnnx.Tensors["encoder.layer.1.intermediate.dense.weight"].Source);
            Assert.Equal("safetensors", fromSafeTensors.Format);
            Assert.Equal(BertCheckpoint.ExpectedNames(2, pooler: true).Count, fromOnnx.Tensors.Count);
        }

        [Fact]
        public void SafeTensorsOfATaskModelWithOldNamesAndHalfPrecisionRead()
        {
            var tiny = new TinyBert(pooler: false);
            var writer = new SafeTensorsWriter();
            foreach (var (name, (shape, data)) in tiny.Tensors)
            {
                string stored = "bert." + name.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta");
                if (name.EndsWith("query.weight", StringComparison.Ordinal))
                {
                    // F16: the values chosen are multiples of 1/1000; compare after the same rounding.
                    writer.Raw(stored, "F16", data.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray(), shape);
                }
                else
                {
                    writer.F32(stored, data, shape);
                }
            }

            writer.F32("cls.predictions.bias", new float[11], 11);
            var checkpoint = Ok(BertCheckpoint.FromSafeTensors(writer.ToBytes()));
            Assert.False(checkpoint.Architecture.HasPooler);
            Assert.Equal(new[] { "cls.predictions.bias" }, checkpoint.Ignored);
            Assert.Equal(tiny.Tensors["encoder.layer.0.attention.output.LayerNorm.weight"].Data, checkpoint.Tensors["encoder.layer.0.attention.output.LayerNorm.weight"].Data);
            Assert.Equal(tiny.Tensors["encoder.layer.0.attention.self.query.weight"].Data.Select(v => (float)(Half)v), checkpoint.Tensors["encoder.layer.0.attention.self.query.weight"].Data);
            Assert.Equal("safetensors 'bert.encoder.layer.0.attention.self.query.weight'", checkpoint.Tensors["encoder.layer.0.attention.self.query.weight"].Source);
        }

        [Fact]
        public void SafeTensorsProblemsNameTheTensor()
        {
            var tiny = new TinyBert();
            byte[] Without(string drop, Func<string, (int[] Shape, float[] Data), SafeTensorsWriter, bool>? write = null)
            {
                var writer = new SafeTensorsWriter();
                foreach (var (name, tensor) in tiny.Tensors)
                {
                    if (name == drop) continue;
                    if (write == null || !write(name, tensor, writer)) writer.F32(name, tensor.Data, tensor.Shape);
                }

                return writer.ToBytes();
            }

            Assert.Equal("The checkpoint (1 layers) lacks 1 tensor(s): 'encoder.layer.0.output.dense.bias'.", Fails(BertCheckpoint.FromSafeTensors(Without("encoder.layer.0.output.dense.bias"))));
            Assert.Contains("'encoder.layer.0.intermediate.dense.weight' has shape [4, 8] (safetensors) but width 4, feed-forward 8 and 6 positions call for [8, 4]",
                Fails(BertCheckpoint.FromSafeTensors(Without("", (name, t, w) => name.EndsWith("intermediate.dense.weight", StringComparison.Ordinal) && w.F32(name, t.Data, 4, 8) != null))));
            Assert.Equal("Tensor 'encoder.layer.0.output.dense.weight' is I8; the BERT import reads F32, F16 and BF16 weights.",
                Fails(BertCheckpoint.FromSafeTensors(Without("", (name, t, w) => name == "encoder.layer.0.output.dense.weight" && w.I8(name, new sbyte[32], t.Shape) != null))));
            Assert.Contains("holds NaN at element 3: the weights are corrupted",
                Fails(BertCheckpoint.FromSafeTensors(Without("", (name, t, w) => name == "embeddings.LayerNorm.bias" && w.F32(name, new[] { 0f, 0f, 0f, float.NaN }, 4) != null))));
            // The reader's own checks (here: data past the end) come through as the error.
            byte[] truncated = tiny.SafeTensors();
            Assert.Contains("truncated", Fails(BertCheckpoint.FromSafeTensors(truncated.AsSpan(0, truncated.Length - 10).ToArray())));
            Assert.Contains("No BERT encoder tensors found", Fails(BertCheckpoint.FromSafeTensors(new SafeTensorsWriter().F32("fc1.weight", new float[4], 2, 2).ToBytes())));
        }

        [Fact]
        public void NodesTheImportDoesNotUnderstandAreNamed()
        {
            var model = new TinyBert().Model();
            model.Graph.Node.First(n => n.OpType == "Erf").OpType = "Relu";
            var fused = model.Graph.Node.First(n => n.OpType == "Softmax");
            fused.Domain = "com.microsoft";
            string error = Fails(BertCheckpoint.FromOnnx(model.ToByteArray()));
            Assert.StartsWith("The BERT import does not understand 2 node(s) of the graph: ", error);
            Assert.Contains($"Softmax node '{fused.Name}' of domain 'com.microsoft'", error);
            Assert.Contains("Relu node 'Erf_", error);

            model = new TinyBert().Model();
            var softmax = model.Graph.Node.First(n => n.OpType == "Softmax");
            softmax.Attribute[0].I = 1;
            Assert.Equal($"Softmax node '{softmax.Name}' normalizes along axis 1; attention normalizes along the last axis (-1 or 3).", Fails(BertCheckpoint.FromOnnx(model.ToByteArray())));
        }

        [Fact]
        public void AWeightWhoseRoleTheGraphDoesNotShowIsNamed()
        {
            // The bias of the first query projection loses its Hugging Face name.
            var model = new TinyBert().Model();
            const string Bias = "encoder.layer.0.attention.self.query.bias";
            model.Graph.Initializer.First(t => t.Name == Bias).Name = "1234";
            var add = model.Graph.Node.First(n => n.Input.Contains(Bias));
            add.Input[add.Input.IndexOf(Bias)] = "1234";
            var matMul = model.Graph.Node.First(n => n.Output[0] == add.Input.First(i => i != "1234"));
            Assert.Equal($"MatMul node '{matMul.Name}' multiplies by the weight '{matMul.Input[1]}' [4, 4], but no Add of a bias with a Hugging Face name follows it (such as 'encoder.layer.0.attention.self.query.bias'), so the BERT import cannot tell which weight it is.",
                Fails(BertCheckpoint.FromOnnx(model.ToByteArray())));

            // Two linear layers claiming the same role.
            model = new TinyBert().Model();
            var adds = model.Graph.Node.Where(n => n.OpType == "Add" && n.Input.Any(i => i.EndsWith("self.key.bias", StringComparison.Ordinal))).ToList();
            var valueAdd = model.Graph.Node.First(n => n.Input.Contains("encoder.layer.0.attention.self.value.bias"));
            valueAdd.Input[valueAdd.Input.IndexOf("encoder.layer.0.attention.self.value.bias")] = "encoder.layer.0.attention.self.key.bias";
            Assert.Contains("both compute 'encoder.layer.0.attention.self.key.weight'", Fails(BertCheckpoint.FromOnnx(model.ToByteArray())));
            Assert.Single(adds);

            // A bias whose length is not the weight's output count.
            model = new TinyBert().Model();
            var key = model.Graph.Initializer.First(t => t.Name == "encoder.layer.0.attention.self.key.bias");
            key.Dims[0] = 2;
            key.RawData = ByteString.CopyFrom(new byte[8]);
            Assert.Contains("adds 'encoder.layer.0.attention.self.key.bias' of 2 elements", Fails(BertCheckpoint.FromOnnx(model.ToByteArray())));

            // Reader errors come through unchanged.
            Assert.Equal("The ONNX file is empty.", Fails(BertCheckpoint.FromOnnx(Array.Empty<byte>())));
        }
    }
}
