using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Import;
using Gen.Import.Onnx.Proto;
using Gen.Tests.Support;
using Google.Protobuf;

namespace Gen.Tests.Import
{
    /// <summary>
    /// A tiny BERT encoder's tensors (deterministic values), written as a Hugging Face safetensors checkpoint and as an
    /// ONNX graph laid out the way PyTorch exports one: each linear layer a MatMul by a numbered [in, out] initializer
    /// followed by an Add of the bias under its Hugging Face name, LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add,
    /// the heads split by a Reshape to a Concat of constants, attention as MatMul/Div/Softmax, GELU with Erf, and an
    /// optional pooler as Gemm (transB = 1) + Tanh. The graph is for the importer, not for running: shapes are not inferred.
    /// </summary>
    internal sealed class TinyBert
    {
        public TinyBert(int layers = 1, int width = 4, int heads = 2, int feedForward = 8, int vocabulary = 11, int positions = 6, bool pooler = true)
        {
            Layers = layers;
            Width = width;
            Heads = heads;
            FeedForward = feedForward;
            Vocabulary = vocabulary;
            Positions = positions;
            Pooler = pooler;
            int seed = 1;
            void Add(string name, params int[] shape)
            {
                int count = shape.Aggregate(1, (a, b) => a * b);
                var data = new float[count];
                for (int i = 0; i < count; i++) data[i] = ((seed++ * 7919) % 2001 - 1000) / 1000f;
                Tensors[name] = (shape, data);
            }

            Add("embeddings.word_embeddings.weight", vocabulary, width);
            Add("embeddings.position_embeddings.weight", positions, width);
            Add("embeddings.token_type_embeddings.weight", 2, width);
            Add("embeddings.LayerNorm.weight", width);
            Add("embeddings.LayerNorm.bias", width);
            for (int l = 0; l < layers; l++)
            {
                string p = $"encoder.layer.{l}.";
                foreach (string block in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
                {
                    Add(p + block + ".weight", width, width);
                    Add(p + block + ".bias", width);
                }

                Add(p + "attention.output.LayerNorm.weight", width);
                Add(p + "attention.output.LayerNorm.bias", width);
                Add(p + "intermediate.dense.weight", feedForward, width);
                Add(p + "intermediate.dense.bias", feedForward);
                Add(p + "output.dense.weight", width, feedForward);
                Add(p + "output.dense.bias", width);
                Add(p + "output.LayerNorm.weight", width);
                Add(p + "output.LayerNorm.bias", width);
            }

            if (pooler)
            {
                Add("pooler.dense.weight", width, width);
                Add("pooler.dense.bias", width);
            }
        }

        public int Layers { get; }
        public int Width { get; }
        public int Heads { get; }
        public int FeedForward { get; }
        public int Vocabulary { get; }
        public int Positions { get; }
        public bool Pooler { get; }

        /// <summary>Hugging Face name to (shape, data), weights [out, in].</summary>
        public Dictionary<string, (int[] Shape, float[] Data)> Tensors { get; } = new(StringComparer.Ordinal);

        public byte[] SafeTensors(string prefix = "")
        {
            var writer = new SafeTensorsWriter();
            foreach (var (name, (shape, data)) in Tensors) writer.F32(prefix + name, data, shape);
            return writer.ToBytes();
        }

        public byte[] Onnx() => Model().ToByteArray();

        /// <summary>The ONNX model as protobuf messages, for tests that edit it before serializing.</summary>
        public ModelProto Model()
        {
            var graph = new GraphProto { Name = "tiny-bert" };
            int next = 100;
            string Fresh() => (next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            NodeProto Node(string op, string[] inputs, params AttributeProto[] attributes)
            {
                var node = new NodeProto { OpType = op, Name = op + "_" + graph.Node.Count };
                node.Input.AddRange(inputs);
                node.Output.Add(Fresh());
                node.Attribute.AddRange(attributes);
                graph.Node.Add(node);
                return node;
            }

            string Out(NodeProto node) => node.Output[0];
            void Initializer(string name, int[] shape, float[] data, bool raw = true)
            {
                var t = new TensorProto { Name = name, DataType = (int)OnnxDataType.Float };
                t.Dims.AddRange(shape.Select(d => (long)d));
                if (raw)
                {
                    var bytes = new byte[data.Length * 4];
                    Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
                    t.RawData = ByteString.CopyFrom(bytes);
                }
                else
                {
                    t.FloatData.AddRange(data);
                }

                graph.Initializer.Add(t);
            }

            string Int64Constant(params long[] values)
            {
                var t = new TensorProto { DataType = (int)OnnxDataType.Int64 };
                t.Dims.Add(values.Length);
                t.Int64Data.AddRange(values);
                return Out(Node("Constant", Array.Empty<string>(), new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t }));
            }

            string FloatConstant(float value) => Out(Node("Constant", Array.Empty<string>(), new AttributeProto { Name = "value_float", Type = AttributeProto.Types.AttributeType.Float, F = value }));

            foreach (var (name, (shape, data)) in Tensors)
            {
                bool linear = name.EndsWith(".weight", StringComparison.Ordinal) && shape.Length == 2 && !name.StartsWith("embeddings.", StringComparison.Ordinal) && !name.StartsWith("pooler.", StringComparison.Ordinal);
                if (!linear) Initializer(name, shape, data, raw: !name.EndsWith("LayerNorm.bias", StringComparison.Ordinal));
            }

            graph.Input.Add(new ValueInfoProto { Name = "input_ids" });
            string LayerNorm(string x, string prefix)
            {
                string mean = Out(Node("ReduceMean", new[] { x }, new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { -1 } }));
                string centered = Out(Node("Sub", new[] { x, mean }));
                string square = Out(Node("Pow", new[] { centered, FloatConstant(2f) }));
                string variance = Out(Node("ReduceMean", new[] { square }, new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { -1 } }));
                string deviation = Out(Node("Sqrt", new[] { Out(Node("Add", new[] { variance, FloatConstant(1e-12f) })) }));
                string normalized = Out(Node("Div", new[] { centered, deviation }));
                return Out(Node("Add", new[] { Out(Node("Mul", new[] { normalized, prefix + "LayerNorm.weight" })), prefix + "LayerNorm.bias" }));
            }

            int weightNumber = 900;
            string Linear(string x, string role)
            {
                var (shape, data) = Tensors[role + ".weight"];
                int rows = shape[0], columns = shape[1];
                var transposed = new float[data.Length];
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < columns; c++) transposed[c * rows + r] = data[r * columns + c];
                }

                string weight = (weightNumber++).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Initializer(weight, new[] { columns, rows }, transposed);
                string product = Out(Node("MatMul", new[] { x, weight }));
                return Out(Node("Add", new[] { role + ".bias", product }));
            }

            string SplitHeads(string x) => Out(Node("Reshape", new[] { x, Out(Node("Concat", new[] { Int64Constant(1), Int64Constant(-1), Int64Constant(Heads), Int64Constant(Width / Heads) },
                new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 })) }));

            string hidden = Out(Node("Gather", new[] { "embeddings.word_embeddings.weight", "input_ids" }));
            hidden = Out(Node("Add", new[] { hidden, Out(Node("Gather", new[] { "embeddings.position_embeddings.weight", Int64Constant(0) })) }));
            hidden = LayerNorm(hidden, "embeddings.");
            for (int l = 0; l < Layers; l++)
            {
                string p = $"encoder.layer.{l}.";
                string q = SplitHeads(Linear(hidden, p + "attention.self.query"));
                string k = SplitHeads(Linear(hidden, p + "attention.self.key"));
                string v = SplitHeads(Linear(hidden, p + "attention.self.value"));
                string scores = Out(Node("Div", new[] { Out(Node("MatMul", new[] { q, k })), FloatConstant(MathF.Sqrt(Width / Heads)) }));
                string weights = Out(Node("Softmax", new[] { scores }, new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 }));
                string context = Out(Node("MatMul", new[] { weights, v }));
                hidden = LayerNorm(Out(Node("Add", new[] { Linear(context, p + "attention.output.dense"), hidden })), p + "attention.output.");
                string inner = Linear(hidden, p + "intermediate.dense");
                string erf = Out(Node("Erf", new[] { Out(Node("Div", new[] { inner, FloatConstant(1.4142135f) })) }));
                string gelu = Out(Node("Mul", new[] { Out(Node("Mul", new[] { inner, Out(Node("Add", new[] { erf, FloatConstant(1f) })) })), FloatConstant(0.5f) }));
                hidden = LayerNorm(Out(Node("Add", new[] { Linear(gelu, p + "output.dense"), hidden })), p + "output.");
            }

            graph.Output.Add(new ValueInfoProto { Name = hidden });
            if (Pooler)
            {
                var gemm = Node("Gemm", new[] { hidden, "pooler.dense.weight", "pooler.dense.bias" }, new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                graph.Output.Add(new ValueInfoProto { Name = Out(Node("Tanh", new[] { Out(gemm) })) });
            }

            var model = new ModelProto { IrVersion = 7, ProducerName = "gen-tests", Graph = graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
            return model;
        }
    }
}
