using System;
using System.Collections.Generic;
using System.Linq;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Builds a <see cref="ModelGraph"/> node by node. Each op's file adds a method that infers the output's shape and
    /// checks the op's attributes; a problem goes to <see cref="Problems"/> with the node's origin, and the value is
    /// still created (with the best shape known) so that a frontend can go on and report everything wrong at once.
    /// </summary>
    public sealed class GraphBuilder
    {
        private readonly List<GraphValue> _values = new List<GraphValue>();
        private readonly List<GraphNode> _nodes = new List<GraphNode>();

        /// <summary>Starts a graph whose problems go to <paramref name="problems"/> (a new list when null).</summary>
        public GraphBuilder(ProblemList? problems = null) => Problems = problems ?? new ProblemList();

        /// <summary>Where shape and attribute problems go.</summary>
        public ProblemList Problems { get; }

        /// <summary>The value at <paramref name="index"/>.</summary>
        public GraphValue Value(int index) => _values[index];

        /// <summary>Declares the graph input.</summary>
        public int Input(string name, params int[] shape) => AddValue(new GraphValue(name, new ValueList<int>(shape)));

        /// <summary>Declares the graph input as <paramref name="tokens"/> token ids (what embeddings read).</summary>
        public int TokenIds(string name, int tokens) => AddValue(new GraphValue(name, new ValueList<int>(new[] { tokens }), IsTokenIds: true));

        /// <summary>Declares a constant read from the weights tensor <paramref name="tensor"/>, whose accepted shapes are <paramref name="accepted"/>.</summary>
        public int Constant(string tensor, int[] shape, params int[][] accepted) =>
            AddValue(new GraphValue(tensor, new ValueList<int>(shape), tensor,
                new ValueList<ValueList<int>>((accepted.Length == 0 ? new[] { shape } : accepted).Select(a => new ValueList<int>(a)))));

        /// <summary>Adds a node and the value it writes; returns the value's index.</summary>
        public int Node(OpKind kind, string name, int[] inputs, string outputName, int[] outputShape, int origin, OpAttributes attributes)
        {
            // A wide input to an op that cannot read one is the frontend's mistake, not the user's.
            foreach (int input in inputs)
            {
                if (_values[input].IsWide && !OpRules.ReadsWide(kind)) throw new InvalidOperationException($"{kind} '{name}' cannot read the wide value '{_values[input].Name}'.");
            }

            int output = AddValue(new GraphValue(outputName, new ValueList<int>(outputShape)));
            _nodes.Add(new GraphNode(kind, name, new ValueList<int>(inputs), output, origin, attributes));
            return output;
        }

        /// <summary>
        /// Makes the value <paramref name="index"/> wide (INT32, <see cref="GraphValue.IsWide"/>); only the output of an op
        /// that can write one, before anything reads it.
        /// </summary>
        public int Widen(int index)
        {
            var node = _nodes.Find(n => n.Output == index);
            if (node is null || !OpRules.WritesWide(node.Kind)) throw new InvalidOperationException($"'{_values[index].Name}' is not the output of an op that writes wide values.");
            if (_nodes.Exists(n => n.Inputs.Contains(index))) throw new InvalidOperationException($"'{_values[index].Name}' is already read.");
            _values[index] = _values[index] with { IsWide = true };
            return index;
        }

        /// <summary>Reports an invalid declaration.</summary>
        public void Invalid(int origin, string message) => Problems.Add(ModelProblem.InvalidDeclaration, origin, message);

        /// <summary>The graph, with <paramref name="output"/> as its result.</summary>
        public ModelGraph Build(int output) =>
            new ModelGraph(new ValueList<GraphValue>(_values), new ValueList<GraphNode>(_nodes), 0, output);

        private int AddValue(GraphValue value)
        {
            _values.Add(value);
            return _values.Count - 1;
        }
    }
}
