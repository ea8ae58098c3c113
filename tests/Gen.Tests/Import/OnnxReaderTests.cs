using System;
using System.Linq;
using Gen.Import;
using Gen.Import.Onnx.Proto;
using Google.Protobuf;
using Xunit;

namespace Gen.Tests.Import
{
    /// <summary>
    /// <see cref="OnnxModel.Read"/> on well-formed, truncated, corrupted and hostile files: a model or an error message
    /// that says what is wrong, never an exception.
    /// </summary>
    public sealed class OnnxReaderTests
    {
        private static ModelProto Tiny() => new TinyBert().Model();

        private static string Error(byte[] bytes)
        {
            var result = OnnxModel.Read(bytes);
            Assert.False(result.Succeeded, "expected an error, got " + result.Value);
            Assert.Null(result.Value);
            return result.Error!;
        }

        private static string Error(ModelProto model) => Error(model.ToByteArray());

        [Fact]
        public void ReadsAWellFormedModel()
        {
            var tiny = new TinyBert();
            var result = OnnxModel.Read(tiny.Onnx());
            Assert.True(result.Succeeded, result.Error);
            var model = result.Value!;
            Assert.Equal(7, model.IrVersion);
            Assert.Equal(13, model.OpsetVersion);
            Assert.Equal("input_ids", Assert.Single(model.Graph.Inputs).Name);
            // Raw data and float_data both read; a Constant's value_float shorthand becomes a scalar tensor.
            var bias = model.Graph.Initializers["embeddings.LayerNorm.bias"];
            Assert.Equal(tiny.Tensors["embeddings.LayerNorm.bias"].Data, bias.ReadFloat32().Value);
            var words = model.Graph.Initializers["embeddings.word_embeddings.weight"];
            Assert.Equal(new long[] { 11, 4 }, words.Dims);
            Assert.Equal(tiny.Tensors["embeddings.word_embeddings.weight"].Data, words.ReadFloat32().Value);
            var constant = model.Graph.Nodes.First(n => n.OpType == "Constant" && n.Attributes.ContainsKey("value_float"));
            Assert.Equal(2f, Assert.Single(model.Graph.Constant(constant.Outputs[0])!.ReadFloat32().Value!));
            Assert.False(words.ReadInt64().Succeeded);
            Assert.Contains("integer tensor was expected", words.ReadInt64().Error);
        }

        [Fact]
        public void NodesOutOfOrderAreSortedAndCyclesAreNamed()
        {
            var model = Tiny();
            var nodes = model.Graph.Node.ToList();
            model.Graph.Node.Clear();
            model.Graph.Node.AddRange(Enumerable.Reverse(nodes));
            var result = OnnxModel.Read(model.ToByteArray());
            Assert.True(result.Succeeded, result.Error);
            var order = result.Value!.Graph.Nodes;
            var position = order.SelectMany(n => n.Outputs.Select(o => (o, n.Index))).ToDictionary(p => p.o, p => p.Index);
            foreach (var node in order)
            {
                foreach (string input in node.Inputs.Where(position.ContainsKey)) Assert.True(position[input] < node.Index, node.Description);
            }

            // A -> B -> A.
            var cycle = new ModelProto { IrVersion = 7, Graph = new GraphProto() };
            cycle.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
            cycle.Graph.Input.Add(new ValueInfoProto { Name = "x" });
            cycle.Graph.Node.Add(new NodeProto { Name = "first", OpType = "Add", Input = { "x", "b" }, Output = { "a" } });
            cycle.Graph.Node.Add(new NodeProto { Name = "second", OpType = "Relu", Input = { "a" }, Output = { "b" } });
            cycle.Graph.Output.Add(new ValueInfoProto { Name = "b" });
            string error = Error(cycle);
            Assert.Contains("cycle", error);
            Assert.Contains("Add node 'first'", error);
            Assert.Contains("Relu node 'second'", error);
        }

        [Fact]
        public void EmptyTruncatedAndNonOnnxFilesAreErrors()
        {
            Assert.Equal("The ONNX file is empty.", Error(Array.Empty<byte>()));
            byte[] bytes = new TinyBert().Onnx();
            for (int length = 1; length < bytes.Length; length += Math.Max(1, length / 3))
            {
                var result = OnnxModel.Read(bytes.AsSpan(0, length).ToArray());
                Assert.False(result.Succeeded && result.Value!.Graph.Nodes.Count == new TinyBert().Model().Graph.Node.Count && length < bytes.Length - 1, $"truncated to {length}");
                if (!result.Succeeded) Assert.False(string.IsNullOrEmpty(result.Error));
            }

            Assert.Contains("truncated or corrupted", Error(bytes.AsSpan(0, bytes.Length / 2).ToArray()));
            Assert.Contains("Git LFS pointer", Error(System.Text.Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 90893304\n")));
            Assert.Contains("The file is not a readable ONNX model", Error(System.Text.Encoding.ASCII.GetBytes("{\"this\": \"is json\"}")));
            // Protobuf that is no ONNX model: fields of its own, no IR version.
            Assert.Contains("no IR version", Error(new StringStringEntryProto { Key = "key", Value = "value" }.ToByteArray()));
            Assert.Contains("no graph", Error(new ModelProto { IrVersion = 7, OpsetImport = { new OperatorSetIdProto { Version = 13 } } }));
        }

        [Fact]
        public void TensorsWhoseDataDoesNotMatchTheirShapeAreErrors()
        {
            var model = Tiny();
            var words = model.Graph.Initializer.First(t => t.Name == "embeddings.word_embeddings.weight");
            words.Dims[0] = 12;
            Assert.Equal("Tensor 'embeddings.word_embeddings.weight' (an initializer) of type Float and shape [12, 4] needs 192 bytes of raw data but has 176.", Error(model));

            words.Dims[0] = 1L << 40; // absurd: 2^40 x 4 elements
            Assert.Contains("more than 2147483647 elements", Error(model));
            words.Dims[0] = -11;
            Assert.Contains("negative dimension -11 at axis 0", Error(model));
            words.Dims[0] = 11;
            for (int i = 0; i < 40; i++) words.Dims.Add(1);
            Assert.Contains("rank 42", Error(model));

            model = Tiny();
            var bias = model.Graph.Initializer.First(t => t.Name == "embeddings.LayerNorm.bias"); // float_data, not raw
            bias.FloatData.RemoveAt(0);
            Assert.Contains("needs 4 values in float_data but has 3", Error(model));
            bias.FloatData.Clear();
            Assert.Contains("has no data", Error(model));
        }

        [Fact]
        public void UnknownTypesExternalDataSegmentsAndSparseTensorsAreErrors()
        {
            var model = Tiny();
            model.Graph.Initializer[0].DataType = 99;
            Assert.Contains("data type 99, which is not an ONNX tensor type this reader knows", Error(model));
            model.Graph.Initializer[0].DataType = 0;
            Assert.Contains("has no data type", Error(model));

            model = Tiny();
            var t = model.Graph.Initializer[0];
            t.ClearRawData();
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
            string error = Error(model);
            Assert.Contains($"Tensor '{t.Name}' (an initializer) keeps its data in an external file ('weights.bin')", error);
            Assert.Contains("save_as_external_data=False", error);

            model = Tiny();
            model.Graph.Initializer[0].Segment = new TensorProto.Types.Segment { Begin = 0, End = 4 };
            Assert.Contains("one segment of a tensor", Error(model));

            model = Tiny();
            model.Graph.SparseInitializer.Add(new SparseTensorProto { Values = new TensorProto { Name = "sparse" } });
            Assert.Contains("sparse initializer(s) (the first: 'sparse')", Error(model));

            // A Constant node's tensor is checked like an initializer.
            model = Tiny();
            var constant = model.Graph.Node.First(n => n.OpType == "Constant" && n.Attribute[0].Name == "value");
            constant.Attribute[0].T.Dims[0] = 5;
            Assert.Contains($"(attribute 'value' of Constant node '{constant.Name}') of type Int64 and shape [5] needs 5 values in int64_data but has 1", Error(model));
        }

        [Fact]
        public void BrokenValueFlowIsAnError()
        {
            var model = Tiny();
            var node = model.Graph.Node.First(n => n.OpType == "MatMul");
            node.Input[1] = "nowhere";
            Assert.Equal($"MatMul node '{node.Name}' reads 'nowhere', which no node, initializer or graph input produces.", Error(model));

            model = Tiny();
            var first = model.Graph.Node[0];
            var second = model.Graph.Node[1];
            second.Output[0] = first.Output[0];
            Assert.Contains($"writes '{first.Output[0]}', which {first.OpType} node '{first.Name}' already produces", Error(model));

            model = Tiny();
            model.Graph.Output.Add(new ValueInfoProto { Name = "missing" });
            Assert.Contains("The graph output 'missing' is produced by no node", Error(model));

            model = Tiny();
            model.Graph.Initializer.Add(model.Graph.Initializer[0].Clone());
            Assert.Contains($"Two initializers are named '{model.Graph.Initializer[0].Name}'", Error(model));
        }

        /// <summary>A hostile but well-formed graph: 100,000 nodes in reverse order, every value a graph output.</summary>
        [Fact]
        public void LargeGraphsReadInTimeThatGrowsGently()
        {
            var model = new ModelProto { IrVersion = 7, Graph = new GraphProto() };
            model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
            model.Graph.Input.Add(new ValueInfoProto { Name = "v0" });
            const int Count = 100_000;
            for (int i = Count; i >= 1; i--)
            {
                model.Graph.Node.Add(new NodeProto { Name = "n" + i, OpType = "MatMul", Input = { "v" + (i - 1), "v" + (i - 1) }, Output = { "v" + i } });
                model.Graph.Output.Add(new ValueInfoProto { Name = "v" + i });
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = OnnxModel.Read(model.ToByteArray());
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal("n1", result.Value!.Graph.Nodes[0].Name);
            var bert = BertCheckpoint.FromOnnx(result.Value);
            Assert.Contains("No BERT encoder tensors found", bert.Error);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        }

        [Fact]
        public void DeeplyNestedMessagesAreAnErrorNotAStackOverflow()
        {
            // A graph attribute holding a node holding a graph attribute ... 5,000 levels deep, written by hand (protobuf's
            // own writer would recurse as deep): the reader stops at protobuf's recursion limit.
            static byte[] Field(int number, byte[] content)
            {
                var bytes = new System.Collections.Generic.List<byte> { (byte)(number << 3 | 2) };
                for (uint length = (uint)content.Length; ; length >>= 7)
                {
                    if (length < 0x80) { bytes.Add((byte)length); break; }
                    bytes.Add((byte)(length & 0x7F | 0x80));
                }

                bytes.AddRange(content);
                return bytes.ToArray();
            }

            byte[] graph = Array.Empty<byte>();
            for (int i = 0; i < 5_000; i++) graph = Field(1, Field(5, Field(6, graph))); // GraphProto.node.attribute.g
            byte[] bytes = new byte[] { 0x08, 0x07 }.Concat(Field(7, graph)).ToArray(); // ir_version 7, graph
            Assert.Contains("truncated or corrupted", Error(bytes));
        }
    }
}
