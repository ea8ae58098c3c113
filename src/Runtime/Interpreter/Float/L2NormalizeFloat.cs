using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float L2 normalization of each row: <c>x / max(||x||, epsilon)</c>, as PyTorch's <c>F.normalize</c>.</summary>
    internal sealed unsafe class L2NormalizeFloat : FloatOp
    {
        private readonly int _rows, _width;
        private readonly float _epsilon;

        public L2NormalizeFloat(GraphNode node, ModelGraph graph) : base(node)
        {
            var input = graph.Values[node.Inputs[0]];
            _rows = input.Rows;
            _width = input.Columns;
            _epsilon = ((L2NormalizeAttributes)node.Attributes).Epsilon;
        }

        public override void Run(float*[] values, int samples, int tokens)
        {
            float* x = In(values), y = Out(values);
            for (int r = 0; r < _rows * samples; r++)
            {
                var row = new ReadOnlySpan<float>(x + r * _width, _width);
                float norm = MathF.Sqrt(FloatDense.Dot(row, row));
                float denominator = Math.Max(norm, _epsilon);
                for (int i = 0; i < _width; i++) y[r * _width + i] = row[i] / denominator;
            }
        }
    }
}
