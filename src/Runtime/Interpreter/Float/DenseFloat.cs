using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>
    /// The float dense layer. PyTorch's weight [outputs, inputs] is packed once to [inputs, padded outputs] (row k holds
    /// every output's weight for input k, so one vector load feeds 16 outputs); the product runs on all rows at once.
    /// </summary>
    internal sealed unsafe class DenseFloat : FloatOp
    {
        private readonly float* _weights, _bias;
        private readonly int _inputs, _outputs, _stride, _rowsPerSample;
        private readonly FusedActivation _activation;

        public DenseFloat(GraphNode node, ModelGraph graph, WeightReader reader, FloatMemory memory) : base(node)
        {
            var a = (DenseAttributes)node.Attributes;
            var input = graph.Values[node.Inputs[0]];
            _inputs = input.Columns;
            _outputs = a.Outputs;
            _rowsPerSample = input.Rows;
            _activation = a.Activation;
            var shapes = new int[a.WeightShapes.Count + 1][];
            shapes[0] = new[] { _outputs, _inputs };
            for (int i = 0; i < a.WeightShapes.Count; i++) shapes[i + 1] = a.WeightShapes[i].ToArray();
            float[] weight = reader.Float(node.Origin, node.Name, node.Name + ".weight", null, shapes) ?? new float[_outputs * _inputs];
            reader.OptionalFloat(node.Origin, node.Name, node.Name + ".bias", _outputs, out float[]? bias);
            Layer = new FloatDense(node.Name, _inputs, _outputs, _activation, weight, bias);

            _stride = FloatKernels.Padded(_outputs);
            _weights = memory.Allocate((long)_inputs * _stride);
            for (int n = 0; n < _outputs; n++)
            {
                for (int k = 0; k < _inputs; k++) _weights[k * _stride + n] = weight[n * _inputs + k];
            }

            if (bias != null)
            {
                _bias = memory.Allocate(_stride);
                bias.AsSpan().CopyTo(new Span<float>(_bias, _outputs));
            }
        }

        /// <summary>The layer's float weights as read (for calibrators that quantize weights themselves).</summary>
        public FloatDense Layer { get; }

        public override void Run(float*[] values, int samples, int tokens)
        {
            int rows = _rowsPerSample * samples;
            FloatKernels.MatMul(In(values), _inputs, _weights, _stride, _bias, Out(values), _outputs, rows, _outputs, _inputs);
            FloatKernels.Activate(Out(values), rows * _outputs, _activation);
        }
    }
}
