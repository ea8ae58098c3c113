using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Import
{
    /// <summary>
    /// The ONNX route of <see cref="BertCheckpoint"/>: recovers each weight's Hugging Face role from the graph of a
    /// PyTorch export of a BERT encoder (as <c>transformers</c> and <c>sentence-transformers</c> write them, opset 11 to 17).
    /// </summary>
    internal static class OnnxBert
    {
        /// <summary>
        /// The standard operators a BERT encoder export uses: the layers' arithmetic, the attention reshapes and the
        /// shape computations around them, the mask, and the pooler. Any other operator is an error naming its node.
        /// </summary>
        private static readonly HashSet<string> KnownOperators = new HashSet<string>(StringComparer.Ordinal)
        {
            "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Neg", "Softmax", "MatMul", "Gemm", "ReduceMean",
            "LayerNormalization", "Gather", "Shape", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Transpose", "Slice",
            "Cast", "Constant", "ConstantOfShape", "Identity", "Equal", "Where", "Expand", "Not", "Range",
        };

        public static ImportResult<BertCheckpoint> Read(OnnxModel model)
        {
            OnnxGraph graph = model.Graph;
            var tensors = new Dictionary<string, BertTensor>(StringComparer.Ordinal);
            var foundBy = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
            var used = new HashSet<string>(StringComparer.Ordinal);

            var unknown = new List<string>();
            foreach (OnnxNode node in graph.Nodes)
            {
                bool standard = node.Domain.Length == 0 || node.Domain == "ai.onnx";
                if (!standard || !KnownOperators.Contains(node.OpType))
                {
                    unknown.Add(standard ? node.Description : $"{node.Description} of domain '{node.Domain}'");
                }
            }

            if (unknown.Count > 0)
            {
                string list = string.Join("; ", unknown.GetRange(0, Math.Min(5, unknown.Count)));
                return ImportResult<BertCheckpoint>.Failure($"The BERT import does not understand {unknown.Count} node(s) of the graph: {list}{(unknown.Count > 5 ? "; ..." : "")}. A BERT encoder exported from PyTorch (opset 11 to 17, without ONNX Runtime's fused operators) uses none of them.");
            }

            // Linear layers: MatMul by a constant [in, out] (or by the Transpose of a constant [out, in]), then an Add of
            // the bias, whose Hugging Face name gives the role. Gemm (the pooler) carries its bias as its third input.
            foreach (OnnxNode node in graph.Nodes)
            {
                if (node.OpType == "Softmax")
                {
                    long axis = node.IntAttribute("axis", model.OpsetVersion >= 13 ? -1 : 1);
                    if (axis != -1 && axis != 3)
                    {
                        return ImportResult<BertCheckpoint>.Failure($"{node.Description} normalizes along axis {axis.ToString(CultureInfo.InvariantCulture)}; attention normalizes along the last axis (-1 or 3).");
                    }

                    continue;
                }

                if (node.OpType != "MatMul" && node.OpType != "Gemm") continue;
                if (node.Inputs.Count < 2 || node.Outputs.Count < 1) return ImportResult<BertCheckpoint>.Failure($"{node.Description} has {node.Inputs.Count} inputs and {node.Outputs.Count} outputs.");

                bool alreadyOutIn;
                OnnxTensor? weight = Weight(graph, node.Inputs[1], out alreadyOutIn);
                if (weight == null)
                {
                    if (graph.Constant(node.Inputs[0]) != null)
                    {
                        return ImportResult<BertCheckpoint>.Failure($"{node.Description} multiplies the constant '{node.Inputs[0]}' by an activation; BERT's linear layers multiply activations by weights.");
                    }

                    if (node.OpType == "Gemm") return ImportResult<BertCheckpoint>.Failure($"{node.Description} multiplies two activations; Gen's BERT import reads Gemm as a linear layer only.");
                    continue; // attention: activations times activations
                }

                if (node.OpType == "Gemm")
                {
                    if (node.IntAttribute("transA", 0) != 0 || FloatAttribute(node, "alpha", 1f) != 1f || FloatAttribute(node, "beta", 1f) != 1f)
                    {
                        return ImportResult<BertCheckpoint>.Failure($"{node.Description} has transA, alpha or beta other than 0, 1, 1; a linear layer has none of them.");
                    }

                    alreadyOutIn ^= node.IntAttribute("transB", 0) != 0;
                }

                int outputs = (int)(alreadyOutIn ? weight.Dims[0] : weight.Dims[1]);
                int inputs = (int)(alreadyOutIn ? weight.Dims[1] : weight.Dims[0]);
                OnnxTensor? bias;
                OnnxNode? biasAdd = null;
                if (node.OpType == "Gemm")
                {
                    bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? graph.Constant(node.Inputs[2]) : null;
                }
                else
                {
                    bias = null;
                    var consumers = graph.Consumers(node.Outputs[0]);
                    if (consumers.Count == 1 && consumers[0].OpType == "Add" && consumers[0].Inputs.Count == 2 && !graph.IsOutput(node.Outputs[0]))
                    {
                        biasAdd = consumers[0];
                        string other = biasAdd.Inputs[0] == node.Outputs[0] ? biasAdd.Inputs[1] : biasAdd.Inputs[0];
                        bias = graph.Constant(other);
                    }
                }

                string biasName = bias == null ? "" : BertCheckpoint.NormalizeName(bias.Name);
                if (bias == null || bias.Dims.Count != 1 || !biasName.EndsWith(".bias", StringComparison.Ordinal) || !BertCheckpoint.IsEncoderName(biasName, out _))
                {
                    string followed = node.OpType == "Gemm" ? "its bias input has no Hugging Face name" : "no Add of a bias with a Hugging Face name follows it";
                    return ImportResult<BertCheckpoint>.Failure($"{node.Description} multiplies by the weight '{weight.Name}' {weight.ShapeText}, but {followed} (such as 'encoder.layer.0.attention.self.query.bias'), so the BERT import cannot tell which weight it is.");
                }

                if (bias.Dims[0] != outputs)
                {
                    return ImportResult<BertCheckpoint>.Failure($"{node.Description} multiplies by '{weight.Name}' {weight.ShapeText} ({outputs} outputs) but adds '{bias.Name}' of {bias.Dims[0].ToString(CultureInfo.InvariantCulture)} elements.");
                }

                string role = biasName.Substring(0, biasName.Length - "bias".Length) + "weight";
                if (foundBy.TryGetValue(role, out OnnxNode? earlier))
                {
                    return ImportResult<BertCheckpoint>.Failure($"{earlier.Description} and {node.Description} both compute '{role}': the graph has that linear layer twice.");
                }

                var data = weight.ReadFloat32();
                if (!data.Succeeded) return ImportResult<BertCheckpoint>.Failure($"{node.Description}: {data.Error}");
                float[] values = alreadyOutIn ? data.Value! : Transpose(data.Value!, inputs, outputs);
                string source = $"initializer '{weight.Name}' {weight.ShapeText} of {node.Description}{(alreadyOutIn ? "" : ", transposed")}";
                tensors[role] = new BertTensor(role, new[] { outputs, inputs }, values, source);
                foundBy[role] = node;
                used.Add(weight.Name);
            }

            // Everything else with a Hugging Face name (embeddings, biases, LayerNorm) is taken as stored.
            var ignored = new List<string>();
            foreach (OnnxTensor initializer in graph.InitializerList)
            {
                if (used.Contains(initializer.Name)) continue;
                string name = BertCheckpoint.NormalizeName(initializer.Name);
                bool isFloat = initializer.DataType == OnnxDataType.Float || initializer.DataType == OnnxDataType.Float16 || initializer.DataType == OnnxDataType.BFloat16;
                if (!isFloat || !BertCheckpoint.IsEncoderName(name, out _) || tensors.ContainsKey(name))
                {
                    if (initializer.ElementCount > 1) ignored.Add(initializer.Name);
                    continue;
                }

                if (name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("LayerNorm") && !name.StartsWith("embeddings.", StringComparison.Ordinal))
                {
                    // A linear weight under its own name that no MatMul or Gemm used: its layout is unknown.
                    ignored.Add(initializer.Name);
                    continue;
                }

                var data = initializer.ReadFloat32();
                if (!data.Succeeded) return ImportResult<BertCheckpoint>.Failure(data.Error!);
                tensors[name] = new BertTensor(name, initializer.Shape(), data.Value!, $"initializer '{initializer.Name}'");
            }

            int? width = tensors.TryGetValue("embeddings.word_embeddings.weight", out var words) && words.Shape.Count == 2 ? words.Shape[1] : (int?)null;
            var heads = Heads(graph, width);
            if (!heads.Succeeded) return ImportResult<BertCheckpoint>.Failure(heads.Error!);
            int erfs = 0;
            foreach (OnnxNode node in graph.Nodes)
            {
                if (node.OpType == "Erf") erfs++;
            }

            return BertCheckpoint.Assemble("onnx", tensors, ignored, heads.Value!.Length == 1 ? heads.Value[0] : (int?)null, Epsilon(graph), erfs > 0 ? "gelu" : null);
        }

        /// <summary>A rank-2 float constant multiplied on the right: as stored ([in, out]) or through a Transpose ([out, in]).</summary>
        private static OnnxTensor? Weight(OnnxGraph graph, string value, out bool alreadyOutIn)
        {
            alreadyOutIn = false;
            OnnxTensor? constant = graph.Constant(value);
            if (constant == null)
            {
                OnnxNode? producer = graph.Producer(value);
                if (producer == null || producer.OpType != "Transpose" || producer.Inputs.Count != 1) return null;
                var perm = producer.Attribute("perm");
                constant = graph.Constant(producer.Inputs[0]);
                if (constant == null || constant.Dims.Count != 2) return null;
                if (perm != null && !(perm.Ints.Count == 2 && perm.Ints[0] == 1 && perm.Ints[1] == 0)) return null;
                alreadyOutIn = true;
            }

            return constant.Dims.Count == 2 ? constant : null;
        }

        private static float[] Transpose(float[] data, int rows, int columns)
        {
            var result = new float[data.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++) result[c * rows + r] = data[r * columns + c];
            }

            return result;
        }

        private static float FloatAttribute(OnnxNode node, string name, float fallback)
        {
            var a = node.Attribute(name);
            return a != null && a.Kind == OnnxAttributeKind.Float ? a.Float : fallback;
        }

        /// <summary>
        /// The head count from the reshapes that split the width into [batch, tokens, heads, head size]: the target shape
        /// is a constant or a Concat of constants and computed sizes. Empty when no reshape shows it.
        /// </summary>
        private static ImportResult<int[]> Heads(OnnxGraph graph, int? width)
        {
            var found = new List<int>();
            OnnxNode? first = null;
            foreach (OnnxNode node in graph.Nodes)
            {
                if (node.OpType != "Reshape" || node.Inputs.Count < 2 || width == null) continue;
                long?[]? shape = ShapeValues(graph, node.Inputs[1]);
                if (shape == null || shape.Length != 4 || shape[2] == null || shape[3] == null) continue;
                long h = shape[2]!.Value, size = shape[3]!.Value;
                if (h <= 0 || size <= 0 || h * size != width.Value) continue;
                if (found.Count > 0 && found[0] != h)
                {
                    return ImportResult<int[]>.Failure($"{first!.Description} splits the width into {found[0]} heads but {node.Description} into {h}; Gen's BERT has one head count.");
                }

                if (found.Count == 0)
                {
                    found.Add((int)h);
                    first = node;
                }
            }

            return ImportResult<int[]>.Success(found.ToArray());
        }

        private static long?[]? ShapeValues(OnnxGraph graph, string value)
        {
            OnnxTensor? constant = graph.Constant(value);
            if (constant != null)
            {
                var values = constant.ReadInt64();
                if (!values.Succeeded || constant.Dims.Count != 1) return null;
                var result = new long?[values.Value!.Length];
                for (int i = 0; i < result.Length; i++) result[i] = values.Value[i];
                return result;
            }

            OnnxNode? producer = graph.Producer(value);
            if (producer == null || producer.OpType != "Concat") return null;
            var parts = new List<long?>();
            foreach (string input in producer.Inputs)
            {
                OnnxTensor? part = graph.Constant(input);
                var values = part?.ReadInt64();
                if (values != null && values.Succeeded && part!.Dims.Count <= 1)
                {
                    foreach (long v in values.Value!) parts.Add(v);
                }
                else
                {
                    parts.Add(null); // a size computed at run time (batch, tokens): one element in these exports
                }
            }

            return parts.ToArray();
        }

        /// <summary>The LayerNorm epsilon: the constant added to the variance before Sqrt, or LayerNormalization's attribute.</summary>
        private static float? Epsilon(OnnxGraph graph)
        {
            foreach (OnnxNode node in graph.Nodes)
            {
                if (node.OpType == "LayerNormalization")
                {
                    var a = node.Attribute("epsilon");
                    return a != null && a.Kind == OnnxAttributeKind.Float ? a.Float : 1e-5f;
                }

                if (node.OpType != "Sqrt" || node.Inputs.Count != 1) continue;
                OnnxNode? add = graph.Producer(node.Inputs[0]);
                if (add == null || add.OpType != "Add" || add.Inputs.Count != 2) continue;
                for (int i = 0; i < 2; i++)
                {
                    OnnxTensor? c = graph.Constant(add.Inputs[i]);
                    OnnxNode? mean = graph.Producer(add.Inputs[1 - i]);
                    if (c == null || c.ElementCount != 1 || mean == null || mean.OpType != "ReduceMean") continue;
                    var value = c.ReadFloat32();
                    if (value.Succeeded) return value.Value![0];
                }
            }

            return null;
        }
    }
}
