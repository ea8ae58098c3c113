using System;
using System.Collections.Generic;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// A graph in integer form: the quantization of every value, each node's op in integer form (a
    /// <see cref="QuantizedDense"/>, <see cref="LayerNormPlan"/>, <see cref="AttentionPlan"/>, ...), and the INT8 data of
    /// every constant. The generator builds it at compile time and the reference interpreter at run time with this
    /// same code, so both hold the very same integers.
    /// </summary>
    public sealed class QuantizedGraph
    {
        private QuantizedGraph(ModelGraph graph, QuantizationParameters[] quantization, object[] ops, sbyte[]?[] constants, OpBounds[] bounds)
        {
            Graph = graph;
            Quantization = quantization;
            Ops = ops;
            Constants = constants;
            Bounds = bounds;
        }

        /// <summary>The graph.</summary>
        public ModelGraph Graph { get; }

        /// <summary>The quantization of each value (by value index).</summary>
        public IReadOnlyList<QuantizationParameters> Quantization { get; }

        /// <summary>Each node's op in integer form (by node index); its type is given by the op's file.</summary>
        public IReadOnlyList<object> Ops { get; }

        /// <summary>The INT8 data of each constant value (null for activations).</summary>
        public IReadOnlyList<sbyte[]?> Constants { get; }

        /// <summary>
        /// What each node's op proved about its integers (by node index): every accumulator and intermediate with its worst
        /// case over all inputs and the limit of its type (<see cref="QuantizeContext.Prove"/>).
        /// </summary>
        public IReadOnlyList<OpBounds> Bounds { get; }

        /// <summary>Quantization of the input.</summary>
        public QuantizationParameters Input => Quantization[Graph.Input];

        /// <summary>Quantization of the output.</summary>
        public QuantizationParameters Output => Quantization[Graph.Output];

        /// <summary>Node <paramref name="node"/>'s op as its file's type.</summary>
        public T Op<T>(int node) where T : class => (T)Ops[node];

        /// <summary>
        /// Quantizes <paramref name="graph"/>: each value's parameters come from <paramref name="parameters"/> (by activation
        /// name, see <see cref="ModelGraph.Activations"/>), each constant is quantized symmetric per tensor, and each node's
        /// op quantizes its weights. Returns null when something is wrong; the problems are in <paramref name="problems"/>
        /// (the walk stops at the first node with one, since later nodes read its output).
        /// </summary>
        public static QuantizedGraph? TryCreate(ModelGraph graph, SafeTensorsFile weights, Func<string, QuantizationParameters> parameters,
            ProblemList problems)
        {
            var context = new QuantizeContext(graph, new WeightReader(weights, problems), parameters);
            var ops = new object[graph.Nodes.Count];
            for (int i = 0; i < graph.Nodes.Count; i++)
            {
                var node = graph.Nodes[i];
                if (!context.LoadConstants(node)) return null;
                context.SetOutput(node);
                context.Node = i;
                object? op = node.Kind switch
                {
                    OpKind.Dense => DenseOp.Quantize(context, node),
                    OpKind.Im2Col => Im2ColOp.Quantize(context, node),
                    OpKind.Add => AddOp.Quantize(context, node),
                    OpKind.LayerNorm => LayerNormOp.Quantize(context, node),
                    OpKind.Attention => AttentionOp.Quantize(context, node),
                    OpKind.Gelu => GeluOp.Quantize(context, node),
                    OpKind.MeanPool => MeanPoolOp.Quantize(context, node),
                    OpKind.Embedding => EmbeddingOp.Quantize(context, node),
                    OpKind.ClsToken => ClsTokenOp.Quantize(context, node),
                    OpKind.L2Normalize => L2NormalizeOp.Quantize(context, node),
                    OpKind.Narrow => NarrowOp.Quantize(context, node),
                    _ => null,
                };
                if (op is null || problems.Any) return null;
                ops[i] = op;
            }

            return new QuantizedGraph(graph, context.Quantization, ops, context.Constants, context.Bounds);
        }

        /// <summary>
        /// A graph of dense layers only (<see cref="DenseFrontend"/>) from layers already in integer form, node i being
        /// <paramref name="layers"/>[i]: for tools that quantize layers themselves (calibration with its own weight scales).
        /// </summary>
        public static QuantizedGraph FromLayers(ModelGraph graph, QuantizationParameters input, IReadOnlyList<QuantizedDense> layers)
        {
            if (graph.Nodes.Count != layers.Count) throw new ArgumentException($"{layers.Count} layers for {graph.Nodes.Count} nodes.", nameof(layers));
            var quantization = new QuantizationParameters[graph.Values.Count];
            quantization[graph.Input] = input;
            var ops = new object[layers.Count];
            var bounds = new OpBounds[layers.Count];
            for (int i = 0; i < layers.Count; i++)
            {
                if (graph.Nodes[i].Kind != OpKind.Dense) throw new ArgumentException($"Node {i} is {graph.Nodes[i].Kind}, not Dense.", nameof(graph));
                quantization[graph.Nodes[i].Output] = layers[i].Output;
                ops[i] = layers[i];
                bounds[i] = DenseOp.Bounds(layers[i]);
            }

            return new QuantizedGraph(graph, quantization, ops, new sbyte[graph.Values.Count][], bounds);
        }

        /// <summary>As <see cref="TryCreate"/>, throwing the first problem.</summary>
        /// <exception cref="ModelDefinitionException">A tensor is missing or mis-shaped, or a value is out of range.</exception>
        public static QuantizedGraph Create(ModelGraph graph, SafeTensorsFile weights, Func<string, QuantizationParameters> parameters)
        {
            var problems = new ProblemList();
            var quantized = TryCreate(graph, weights, parameters, problems);
            problems.ThrowIfAny();
            return quantized!;
        }
    }

    /// <summary>What an op's quantization reads: its values' parameters, its tensors, the graph's constants.</summary>
    public sealed class QuantizeContext
    {
        private readonly Func<string, QuantizationParameters> _parameters;
        private readonly float[]?[] _constantFloats;

        internal QuantizeContext(ModelGraph graph, WeightReader weights, Func<string, QuantizationParameters> parameters)
        {
            Graph = graph;
            Weights = weights;
            _parameters = parameters;
            Quantization = new QuantizationParameters[graph.Values.Count];
            Constants = new sbyte[graph.Values.Count][];
            Bounds = new OpBounds[graph.Nodes.Count];
            for (int i = 0; i < Bounds.Length; i++) Bounds[i] = OpBounds.None;
            _constantFloats = new float[graph.Values.Count][];
            if (!graph.InputValue.IsTokenIds) Quantization[graph.Input] = parameters(graph.InputValue.Name);
        }

        /// <summary>The graph.</summary>
        public ModelGraph Graph { get; }

        /// <summary>The node's tensors.</summary>
        public WeightReader Weights { get; }

        /// <summary>Where problems go.</summary>
        public ProblemList Problems => Weights.Problems;

        internal QuantizationParameters[] Quantization { get; }

        internal sbyte[]?[] Constants { get; }

        internal OpBounds[] Bounds { get; }

        // The index of the node being quantized (the walk sets it), where Prove records its bounds.
        internal int Node { get; set; }

        /// <summary>The quantization of input <paramref name="i"/> of <paramref name="node"/>.</summary>
        public QuantizationParameters In(GraphNode node, int i = 0) => Quantization[node.Inputs[i]];

        /// <summary>The quantization of <paramref name="node"/>'s output.</summary>
        public QuantizationParameters Out(GraphNode node) => Quantization[node.Output];

        /// <summary>The value <paramref name="node"/> writes.</summary>
        public GraphValue OutValue(GraphNode node) => Graph.Values[node.Output];

        /// <summary>The value read as input <paramref name="i"/>.</summary>
        public GraphValue InValue(GraphNode node, int i = 0) => Graph.Values[node.Inputs[i]];

        internal void SetOutput(GraphNode node)
        {
            if (OpRules.QuantizationFromWeights(node)) return; // the op sets it (SetQuantization)
            var output = Graph.Values[node.Output];
            Quantization[node.Output] = OpRules.KeepsInputQuantization(node.Kind) ? Quantization[node.Inputs[0]]
                : output.IsWide ? QuantizationMath.Widen(_parameters(output.Name)) : _parameters(output.Name);
        }

        /// <summary>
        /// Records the bounds <paramref name="node"/>'s op proved for its integers; a bound that does not hold is a problem
        /// (<see cref="ModelProblem.IntermediateOverflow"/>) at the node's origin, naming <paramref name="what"/> (the op as
        /// messages call it), the quantity, its worst case and the limit. Returns whether every bound holds.
        /// </summary>
        public bool Prove(GraphNode node, string what, OpBounds bounds)
        {
            Bounds[Node] = bounds;
            var failed = bounds.FirstViolation;
            if (failed is null) return true;
            string worst = BoundMath.Grouped(failed.Worst);
            Problems.Add(ModelProblem.IntermediateOverflow, node.Origin,
                $"{what}: {failed.Quantity} can reach {worst} for some input, beyond {failed.LimitText}; {failed.Fix}.",
                what, failed.Quantity, worst, failed.LimitText, failed.Fix);
            return false;
        }

        /// <summary>Sets the quantization of a value the op's weights decide (<see cref="OpRules.QuantizationFromWeights"/>).</summary>
        public void SetQuantization(int value, QuantizationParameters quantization) => Quantization[value] = quantization;

        // A constant is read, and quantized symmetric per tensor (scale max |value| / 127), when its first reader comes.
        internal bool LoadConstants(GraphNode node)
        {
            foreach (int input in node.Inputs)
            {
                var value = Graph.Values[input];
                if (!value.IsConstant || _constantFloats[input] != null) continue;
                var shapes = new int[value.ConstantShapes!.Count][];
                for (int s = 0; s < shapes.Length; s++) shapes[s] = value.ConstantShapes[s].ToArray();
                float[]? data = Weights.Float(node.Origin, node.Name, value.Constant!, null, shapes);
                if (data is null) return false;
                var q = QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(data, 0, data.Length));
                var values = new sbyte[data.Length];
                for (int i = 0; i < data.Length; i++) values[i] = (sbyte)QuantizationMath.Quantize(data[i], q.Scale, 0);
                _constantFloats[input] = data;
                Constants[input] = values;
                Quantization[input] = q;
            }

            return true;
        }
    }
}
