using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Gen.Import.Onnx.Proto;

namespace Gen.Import
{
    /// <summary>The kinds of ONNX node attributes (<c>AttributeProto.AttributeType</c>).</summary>
    public enum OnnxAttributeKind
    {
        /// <summary>Not set.</summary>
        Undefined = 0,
        /// <summary>One float.</summary>
        Float = 1,
        /// <summary>One 64-bit integer.</summary>
        Int = 2,
        /// <summary>One string.</summary>
        String = 3,
        /// <summary>One tensor.</summary>
        Tensor = 4,
        /// <summary>A subgraph (the reader keeps no content).</summary>
        Graph = 5,
        /// <summary>A list of floats.</summary>
        Floats = 6,
        /// <summary>A list of 64-bit integers.</summary>
        Ints = 7,
        /// <summary>A list of strings.</summary>
        Strings = 8,
        /// <summary>A list of tensors.</summary>
        Tensors = 9,
        /// <summary>A list of subgraphs (the reader keeps no content).</summary>
        Graphs = 10,
        /// <summary>A sparse tensor (the reader keeps no content).</summary>
        SparseTensor = 11,
        /// <summary>A list of sparse tensors (the reader keeps no content).</summary>
        SparseTensors = 12,
        /// <summary>A type (the reader keeps no content).</summary>
        TypeProto = 13,
        /// <summary>A list of types (the reader keeps no content).</summary>
        TypeProtos = 14,
    }

    /// <summary>One attribute of a node.</summary>
    public sealed class OnnxAttribute
    {
        internal OnnxAttribute(string name, OnnxAttributeKind kind, float f, long i, string s, OnnxTensor? tensor, float[] floats, long[] ints, string[] strings)
        {
            Name = name;
            Kind = kind;
            Float = f;
            Int = i;
            String = s;
            Tensor = tensor;
            Floats = floats;
            Ints = ints;
            Strings = strings;
        }

        /// <summary>The attribute's name, e.g. <c>perm</c>.</summary>
        public string Name { get; }

        /// <summary>Which of the values below it holds.</summary>
        public OnnxAttributeKind Kind { get; }

        /// <summary>The value of a <see cref="OnnxAttributeKind.Float"/> attribute.</summary>
        public float Float { get; }

        /// <summary>The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</summary>
        public long Int { get; }

        /// <summary>The value of a <see cref="OnnxAttributeKind.String"/> attribute (UTF-8 decoded).</summary>
        public string String { get; }

        /// <summary>The value of a <see cref="OnnxAttributeKind.Tensor"/> attribute, checked like an initializer.</summary>
        public OnnxTensor? Tensor { get; }

        /// <summary>The value of a <see cref="OnnxAttributeKind.Floats"/> attribute.</summary>
        public IReadOnlyList<float> Floats { get; }

        /// <summary>The value of an <see cref="OnnxAttributeKind.Ints"/> attribute.</summary>
        public IReadOnlyList<long> Ints { get; }

        /// <summary>The value of a <see cref="OnnxAttributeKind.Strings"/> attribute.</summary>
        public IReadOnlyList<string> Strings { get; }
    }

    /// <summary>One node of the graph: an operator applied to named values.</summary>
    public sealed class OnnxNode
    {
        private readonly Dictionary<string, OnnxAttribute> _attributes;

        internal OnnxNode(int index, string name, string opType, string domain, string[] inputs, string[] outputs, Dictionary<string, OnnxAttribute> attributes)
        {
            Index = index;
            Name = name;
            OpType = opType;
            Domain = domain;
            Inputs = inputs;
            Outputs = outputs;
            _attributes = attributes;
        }

        /// <summary>Position in <see cref="OnnxGraph.Nodes"/> (a topological order).</summary>
        public int Index { get; }

        /// <summary>The node's name as the file gives it (may be empty).</summary>
        public string Name { get; }

        /// <summary>The operator, e.g. <c>MatMul</c>.</summary>
        public string OpType { get; }

        /// <summary>The operator set's domain: empty (or <c>ai.onnx</c>) for the standard operators.</summary>
        public string Domain { get; }

        /// <summary>The input value names; an empty name is an omitted optional input.</summary>
        public IReadOnlyList<string> Inputs { get; }

        /// <summary>The output value names; an empty name is an unused optional output.</summary>
        public IReadOnlyList<string> Outputs { get; }

        /// <summary>The attributes by name.</summary>
        public IReadOnlyDictionary<string, OnnxAttribute> Attributes => _attributes;

        /// <summary>How messages name the node: <c>MatMul node 'MatMul_34'</c>, or its position when it has no name.</summary>
        public string Description => Name.Length > 0
            ? $"{OpType} node '{Name}'"
            : $"{OpType} node #{Index.ToString(CultureInfo.InvariantCulture)} (unnamed, first output '{(Outputs.Count > 0 ? Outputs[0] : "")}')";

        /// <summary>The attribute <paramref name="name"/>, or <see langword="null"/>.</summary>
        public OnnxAttribute? Attribute(string name) => _attributes.TryGetValue(name, out var a) ? a : null;

        /// <summary>An integer attribute, or <paramref name="fallback"/> when absent.</summary>
        public long IntAttribute(string name, long fallback) => _attributes.TryGetValue(name, out var a) && a.Kind == OnnxAttributeKind.Int ? a.Int : fallback;

        /// <inheritdoc />
        public override string ToString() => Description;
    }

    /// <summary>One dimension of a declared graph input or output: a number, a symbolic name, or unknown.</summary>
    public sealed class OnnxDimension
    {
        internal OnnxDimension(long? value, string? parameter)
        {
            Value = value;
            Parameter = parameter;
        }

        /// <summary>The fixed size, if the file gives one.</summary>
        public long? Value { get; }

        /// <summary>The symbolic name (e.g. <c>batch</c>), if the file gives one.</summary>
        public string? Parameter { get; }

        /// <inheritdoc />
        public override string ToString() => Value?.ToString(CultureInfo.InvariantCulture) ?? Parameter ?? "?";
    }

    /// <summary>A graph input or output as declared: name, element type and shape (if the file declares them).</summary>
    public sealed class OnnxValueInfo
    {
        internal OnnxValueInfo(string name, OnnxDataType elementType, OnnxDimension[]? dims)
        {
            Name = name;
            ElementType = elementType;
            Dims = dims;
        }

        /// <summary>The value's name.</summary>
        public string Name { get; }

        /// <summary>The element type (<see cref="OnnxDataType.Undefined"/> if not declared or not a tensor).</summary>
        public OnnxDataType ElementType { get; }

        /// <summary>The dimensions, or <see langword="null"/> when the shape is not declared.</summary>
        public IReadOnlyList<OnnxDimension>? Dims { get; }

        /// <inheritdoc />
        public override string ToString() => Dims == null ? Name : $"{Name} {ElementType} [{string.Join(", ", Dims)}]";
    }

    /// <summary>
    /// The main graph of an ONNX model, checked: every value a node reads is produced exactly once (by a graph input, an
    /// initializer or a node), the nodes are in a topological order (the file's order when it already is one), and
    /// there is no cycle. Initializers and <c>Constant</c> outputs are available as tensors.
    /// </summary>
    public sealed class OnnxGraph
    {
        private readonly Dictionary<string, OnnxTensor> _initializers;
        private readonly Dictionary<string, OnnxTensor> _constants;
        private readonly Dictionary<string, OnnxNode> _producers;
        private readonly Dictionary<string, List<OnnxNode>> _consumers;
        private readonly HashSet<string> _outputNames;

        internal OnnxGraph(string name, OnnxNode[] nodes, List<OnnxTensor> initializers, OnnxValueInfo[] inputs, OnnxValueInfo[] outputs, Dictionary<string, OnnxTensor> constants)
        {
            Name = name;
            Nodes = nodes;
            InitializerList = initializers;
            Inputs = inputs;
            Outputs = outputs;
            _constants = constants;
            _initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
            foreach (var t in initializers) _initializers[t.Name] = t;
            _outputNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var output in outputs) _outputNames.Add(output.Name);
            _producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
            _consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
            foreach (var node in nodes)
            {
                foreach (string output in node.Outputs)
                {
                    if (output.Length > 0) _producers[output] = node;
                }

                foreach (string input in node.Inputs)
                {
                    if (input.Length == 0) continue;
                    if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = new List<OnnxNode>();
                    if (list.Count == 0 || list[list.Count - 1] != node) list.Add(node);
                }
            }
        }

        /// <summary>The graph's name.</summary>
        public string Name { get; }

        /// <summary>The nodes in a topological order.</summary>
        public IReadOnlyList<OnnxNode> Nodes { get; }

        /// <summary>The initializers (weights and other constants stored in the graph) in file order.</summary>
        public IReadOnlyList<OnnxTensor> InitializerList { get; }

        /// <summary>The initializers by name.</summary>
        public IReadOnlyDictionary<string, OnnxTensor> Initializers => _initializers;

        /// <summary>The graph inputs the caller feeds (initializers listed as inputs too are left out).</summary>
        public IReadOnlyList<OnnxValueInfo> Inputs { get; }

        /// <summary>The graph outputs.</summary>
        public IReadOnlyList<OnnxValueInfo> Outputs { get; }

        /// <summary>The node that computes <paramref name="value"/>, or <see langword="null"/> (a graph input or an initializer).</summary>
        public OnnxNode? Producer(string value) => _producers.TryGetValue(value, out var node) ? node : null;

        /// <summary>The nodes that read <paramref name="value"/>, each once, in order.</summary>
        public IReadOnlyList<OnnxNode> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : (IReadOnlyList<OnnxNode>)Array.Empty<OnnxNode>();

        /// <summary>The value as a constant tensor: an initializer, or the output of a <c>Constant</c> node.</summary>
        public OnnxTensor? Constant(string value)
        {
            if (_initializers.TryGetValue(value, out var t)) return t;
            return _constants.TryGetValue(value, out t) ? t : null;
        }

        /// <summary>Whether the value is a graph output.</summary>
        public bool IsOutput(string value) => _outputNames.Contains(value);

        /// <summary>Builds and checks the graph (see the class summary); the first problem found is the error.</summary>
        internal static ImportResult<OnnxGraph> Create(GraphProto proto)
        {
            var initializers = new List<OnnxTensor>();
            var produced = new Dictionary<string, string>(StringComparer.Ordinal); // value -> what produces it
            foreach (var t in proto.Initializer)
            {
                if (t.Name.Length == 0) return ImportResult<OnnxGraph>.Failure($"Initializer #{initializers.Count.ToString(CultureInfo.InvariantCulture)} has no name.");
                if (produced.ContainsKey(t.Name)) return ImportResult<OnnxGraph>.Failure($"Two initializers are named '{t.Name}'.");
                var tensor = OnnxTensor.Create(t, t.Name, "an initializer");
                if (!tensor.Succeeded) return ImportResult<OnnxGraph>.Failure(tensor.Error!);
                initializers.Add(tensor.Value!);
                produced[t.Name] = "the initializer";
            }

            if (proto.SparseInitializer.Count > 0)
            {
                string name = proto.SparseInitializer[0].Values?.Name ?? "";
                return ImportResult<OnnxGraph>.Failure($"The graph has {proto.SparseInitializer.Count.ToString(CultureInfo.InvariantCulture)} sparse initializer(s) (the first: '{name}'); Gen reads dense tensors only.");
            }

            var inputs = new List<OnnxValueInfo>();
            foreach (var input in proto.Input)
            {
                if (input.Name.Length == 0) return ImportResult<OnnxGraph>.Failure("A graph input has no name.");
                if (produced.TryGetValue(input.Name, out string? by))
                {
                    if (by == "the initializer") continue; // IR < 4 lists initializers as inputs too: a default, not a feed
                    return ImportResult<OnnxGraph>.Failure($"Two graph inputs are named '{input.Name}'.");
                }

                produced[input.Name] = "the graph input";
                inputs.Add(ValueInfo(input));
            }

            // Nodes: attributes, Constant values, one producer per value.
            var nodes = new OnnxNode[proto.Node.Count];
            var constants = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
            for (int n = 0; n < nodes.Length; n++)
            {
                var node = proto.Node[n];
                var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
                string label = node.Name.Length > 0 ? $"{node.OpType} node '{node.Name}'" : $"{node.OpType} node #{n.ToString(CultureInfo.InvariantCulture)}";
                foreach (var a in node.Attribute)
                {
                    if (attributes.ContainsKey(a.Name)) return ImportResult<OnnxGraph>.Failure($"{label} has two attributes named '{a.Name}'.");
                    var attribute = Attribute(a, label);
                    if (!attribute.Succeeded) return ImportResult<OnnxGraph>.Failure(attribute.Error!);
                    attributes[a.Name] = attribute.Value!;
                }

                var outputs = new string[node.Output.Count];
                node.Output.CopyTo(outputs, 0);
                foreach (string output in outputs)
                {
                    if (output.Length == 0) continue;
                    if (produced.TryGetValue(output, out string? by))
                    {
                        return ImportResult<OnnxGraph>.Failure($"{label} writes '{output}', which {by} already produces: a value has one producer in ONNX.");
                    }

                    produced[output] = label;
                }

                var inputNames = new string[node.Input.Count];
                node.Input.CopyTo(inputNames, 0);
                nodes[n] = new OnnxNode(n, node.Name, node.OpType, node.Domain, inputNames, outputs, attributes);
                if (node.OpType == "Constant" && (node.Domain.Length == 0 || node.Domain == "ai.onnx") && outputs.Length == 1 && outputs[0].Length > 0)
                {
                    var value = ConstantValue(nodes[n], outputs[0], label);
                    if (!value.Succeeded) return ImportResult<OnnxGraph>.Failure(value.Error!);
                    constants[outputs[0]] = value.Value!;
                }
            }

            foreach (var node in nodes)
            {
                foreach (string input in node.Inputs)
                {
                    if (input.Length > 0 && !produced.ContainsKey(input))
                    {
                        return ImportResult<OnnxGraph>.Failure($"{node.Description} reads '{input}', which no node, initializer or graph input produces.");
                    }
                }
            }

            var ordered = Sort(nodes);
            if (!ordered.Succeeded) return ImportResult<OnnxGraph>.Failure(ordered.Error!);

            var outputsInfo = new List<OnnxValueInfo>();
            foreach (var output in proto.Output)
            {
                if (!produced.ContainsKey(output.Name))
                {
                    return ImportResult<OnnxGraph>.Failure($"The graph output '{output.Name}' is produced by no node, initializer or input.");
                }

                outputsInfo.Add(ValueInfo(output));
            }

            return ImportResult<OnnxGraph>.Success(new OnnxGraph(proto.Name, ordered.Value!, initializers, inputs.ToArray(), outputsInfo.ToArray(), constants));
        }

        /// <summary>
        /// Kahn's algorithm, taking the lowest file position among the ready nodes so that a file already in order keeps
        /// it; a node left over lies on or behind a cycle, which is then followed and named.
        /// </summary>
        private static ImportResult<OnnxNode[]> Sort(OnnxNode[] nodes)
        {
            var producerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var node in nodes)
            {
                foreach (string output in node.Outputs)
                {
                    if (output.Length > 0) producerIndex[output] = node.Index;
                }
            }

            var waiting = new int[nodes.Length];
            var dependents = new List<int>[nodes.Length];
            for (int i = 0; i < nodes.Length; i++)
            {
                dependents[i] = new List<int>();
            }

            for (int i = 0; i < nodes.Length; i++)
            {
                foreach (string input in nodes[i].Inputs)
                {
                    if (input.Length > 0 && producerIndex.TryGetValue(input, out int p))
                    {
                        waiting[i]++;
                        dependents[p].Add(i);
                    }
                }
            }

            var ready = new SortedSet<int>();
            for (int i = 0; i < nodes.Length; i++)
            {
                if (waiting[i] == 0) ready.Add(i);
            }

            var order = new List<int>(nodes.Length);
            while (ready.Count > 0)
            {
                int next = ready.Min;
                ready.Remove(next);
                order.Add(next);
                foreach (int d in dependents[next])
                {
                    if (--waiting[d] == 0) ready.Add(d);
                }
            }

            if (order.Count == nodes.Length)
            {
                var sorted = new OnnxNode[nodes.Length];
                for (int i = 0; i < sorted.Length; i++)
                {
                    var node = nodes[order[i]];
                    var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
                    foreach (var pair in node.Attributes) attributes[pair.Key] = pair.Value;
                    sorted[i] = order[i] == i ? node : new OnnxNode(i, node.Name, node.OpType, node.Domain, ToArray(node.Inputs), ToArray(node.Outputs), attributes);
                }

                return ImportResult<OnnxNode[]>.Success(sorted);
            }

            // Every left-over node waits on another left-over node: walk back until a node repeats.
            int at = -1;
            for (int i = 0; i < nodes.Length && at < 0; i++)
            {
                if (waiting[i] > 0) at = i;
            }

            var seen = new Dictionary<int, int>();
            var path = new List<int>();
            while (!seen.ContainsKey(at))
            {
                seen[at] = path.Count;
                path.Add(at);
                int previous = -1;
                foreach (string input in nodes[at].Inputs)
                {
                    if (input.Length > 0 && producerIndex.TryGetValue(input, out int p) && waiting[p] > 0)
                    {
                        previous = p;
                        break;
                    }
                }

                if (previous < 0) return ImportResult<OnnxNode[]>.Failure($"The graph's nodes cannot be ordered ({nodes[at].Description} waits on no remaining node).");
                at = previous;
            }

            var cycle = new StringBuilder();
            for (int i = path.Count - 1; i >= seen[at]; i--)
            {
                if (cycle.Length > 0) cycle.Append(" -> ");
                cycle.Append(nodes[path[i]].Description);
            }

            cycle.Append(" -> ").Append(nodes[at].Description);
            return ImportResult<OnnxNode[]>.Failure($"The graph has a cycle: {cycle}. An ONNX graph must be acyclic.");
        }

        private static string[] ToArray(IReadOnlyList<string> list)
        {
            var array = new string[list.Count];
            for (int i = 0; i < array.Length; i++) array[i] = list[i];
            return array;
        }

        private static ImportResult<OnnxAttribute> Attribute(AttributeProto a, string label)
        {
            OnnxTensor? tensor = null;
            if (a.T != null)
            {
                var t = OnnxTensor.Create(a.T, a.T.Name.Length > 0 ? a.T.Name : a.Name, $"attribute '{a.Name}' of {label}");
                if (!t.Succeeded) return ImportResult<OnnxAttribute>.Failure(t.Error!);
                tensor = t.Value;
            }

            foreach (var item in a.Tensors)
            {
                var t = OnnxTensor.Create(item, item.Name.Length > 0 ? item.Name : a.Name, $"attribute '{a.Name}' of {label}");
                if (!t.Succeeded) return ImportResult<OnnxAttribute>.Failure(t.Error!);
            }

            var kind = (OnnxAttributeKind)(int)a.Type;
            if (!a.HasType)
            {
                // IR 1 files have no type field: infer it from what is set.
                kind = a.HasF ? OnnxAttributeKind.Float : a.HasI ? OnnxAttributeKind.Int : a.HasS ? OnnxAttributeKind.String
                    : a.T != null ? OnnxAttributeKind.Tensor : a.G != null ? OnnxAttributeKind.Graph
                    : a.Floats.Count > 0 ? OnnxAttributeKind.Floats : a.Ints.Count > 0 ? OnnxAttributeKind.Ints
                    : a.Strings.Count > 0 ? OnnxAttributeKind.Strings : a.Tensors.Count > 0 ? OnnxAttributeKind.Tensors
                    : a.Graphs.Count > 0 ? OnnxAttributeKind.Graphs : OnnxAttributeKind.Undefined;
            }
            else if ((int)kind < 0 || (int)kind > (int)OnnxAttributeKind.TypeProtos)
            {
                return ImportResult<OnnxAttribute>.Failure($"Attribute '{a.Name}' of {label} has the unknown type {((int)a.Type).ToString(CultureInfo.InvariantCulture)}.");
            }

            var floats = new float[a.Floats.Count];
            a.Floats.CopyTo(floats, 0);
            var ints = new long[a.Ints.Count];
            a.Ints.CopyTo(ints, 0);
            var strings = new string[a.Strings.Count];
            for (int i = 0; i < strings.Length; i++) strings[i] = a.Strings[i].ToStringUtf8();
            return ImportResult<OnnxAttribute>.Success(new OnnxAttribute(a.Name, kind, a.F, a.I, a.S.ToStringUtf8(), tensor, floats, ints, strings));
        }

        /// <summary>A <c>Constant</c> node's value: its <c>value</c> tensor, or one of the <c>value_*</c> shorthands of opset 12.</summary>
        private static ImportResult<OnnxTensor> ConstantValue(OnnxNode node, string output, string label)
        {
            if (node.Attributes.Count != 1)
            {
                return ImportResult<OnnxTensor>.Failure($"{label} has {node.Attributes.Count.ToString(CultureInfo.InvariantCulture)} attributes; a Constant has exactly one value.");
            }

            OnnxAttribute a = null!;
            foreach (var pair in node.Attributes) a = pair.Value;
            var proto = new TensorProto { Name = output };
            switch (a.Name)
            {
                case "value" when a.Kind == OnnxAttributeKind.Tensor && a.Tensor != null:
                    return OnnxTensor.Create(a.Tensor.Proto, output, label);
                case "value_float" when a.Kind == OnnxAttributeKind.Float:
                    proto.DataType = (int)OnnxDataType.Float;
                    proto.FloatData.Add(a.Float);
                    break;
                case "value_floats" when a.Kind == OnnxAttributeKind.Floats:
                    proto.DataType = (int)OnnxDataType.Float;
                    proto.Dims.Add(a.Floats.Count);
                    foreach (float f in a.Floats) proto.FloatData.Add(f);
                    break;
                case "value_int" when a.Kind == OnnxAttributeKind.Int:
                    proto.DataType = (int)OnnxDataType.Int64;
                    proto.Int64Data.Add(a.Int);
                    break;
                case "value_ints" when a.Kind == OnnxAttributeKind.Ints:
                    proto.DataType = (int)OnnxDataType.Int64;
                    proto.Dims.Add(a.Ints.Count);
                    foreach (long i in a.Ints) proto.Int64Data.Add(i);
                    break;
                default:
                    return ImportResult<OnnxTensor>.Failure($"{label} has the attribute '{a.Name}' ({a.Kind}); the reader takes a Constant's value from 'value', 'value_float(s)' or 'value_int(s)'.");
            }

            return OnnxTensor.Create(proto, output, label);
        }

        private static OnnxValueInfo ValueInfo(ValueInfoProto info)
        {
            var tensorType = info.Type?.TensorType;
            if (tensorType == null) return new OnnxValueInfo(info.Name, OnnxDataType.Undefined, null);
            OnnxDimension[]? dims = null;
            if (tensorType.Shape != null)
            {
                dims = new OnnxDimension[tensorType.Shape.Dim.Count];
                for (int i = 0; i < dims.Length; i++)
                {
                    var d = tensorType.Shape.Dim[i];
                    dims[i] = new OnnxDimension(
                        d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null,
                        d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null);
                }
            }

            int type = tensorType.ElemType;
            return new OnnxValueInfo(info.Name, type > 0 && type <= (int)OnnxDataType.Float4E2M1 ? (OnnxDataType)type : OnnxDataType.Undefined, dims);
        }
    }
}
