using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float LayerNorm, as PyTorch's <c>nn.LayerNorm</c> with the node's epsilon (a missing beta is zeros).</summary>
    internal sealed unsafe class LayerNormFloat : FloatOp
    {
        private readonly float* _gamma, _beta;
        private readonly int _width, _rowsPerSample;
        private readonly float _epsilon;

        public LayerNormFloat(GraphNode node, ModelGraph graph, WeightReader reader, FloatMemory memory) : base(node)
        {
            var input = graph.Values[node.Inputs[0]];
            _width = input.Columns;
            _rowsPerSample = input.Rows;
            _epsilon = ((LayerNormAttributes)node.Attributes).Epsilon;
            _gamma = memory.Copy(reader.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { _width }) ?? new float[_width]);
            reader.OptionalFloat(node.Origin, node.Name, node.Name + ".bias", _width, out float[]? beta);
            _beta = memory.Copy(beta ?? new float[_width]);
        }

        public override void Run(float*[] values, int samples, int tokens) =>
            FloatKernels.LayerNorm(In(values), Out(values), _rowsPerSample * samples, _width, _gamma, _beta, _epsilon);
    }
}
