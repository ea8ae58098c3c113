using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float mean of the rows of the real tokens (padding left out, as sentence-transformers' mean pooling).</summary>
    internal sealed unsafe class MeanPoolFloat : FloatOp
    {
        private readonly int _rows, _width;

        public MeanPoolFloat(GraphNode node, ModelGraph graph) : base(node)
        {
            var input = graph.Values[node.Inputs[0]];
            _rows = input.Rows;
            _width = input.Columns;
        }

        public override void Run(float*[] values, int samples, int tokens) => FloatKernels.MeanOfRows(In(values), Out(values), System.Math.Min(tokens, _rows), _width);
    }
}
