using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The exact GELU, <c>x (1 + erf(x / sqrt 2)) / 2</c>, with a float erf of absolute error below 5e-7.</summary>
    internal sealed unsafe class GeluFloat : FloatOp
    {
        private readonly int _elements;

        public GeluFloat(GraphNode node, ModelGraph graph) : base(node) => _elements = graph.Values[node.Output].Elements;

        public override void Run(float*[] values, int samples, int tokens) => FloatKernels.Gelu(In(values), Out(values), _elements * samples);
    }
}
