using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float add.</summary>
    internal sealed unsafe class AddFloat : FloatOp
    {
        private readonly int _elements;

        public AddFloat(GraphNode node, ModelGraph graph) : base(node) => _elements = graph.Values[node.Output].Elements;

        public override void Run(float*[] values, int samples, int tokens) => FloatKernels.Add(In(values, 0), In(values, 1), Out(values), _elements * samples);
    }
}
