using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference dense layer: TensorFlow Lite's fully connected kernel on every row.</summary>
    internal static class DenseReference
    {
        public static void Run(QuantizedDense layer, sbyte[] input, sbyte[] output) =>
            ReferenceKernels.FullyConnected(input, layer.Input.ZeroPoint, layer.Weights, layer.Bias, layer.Multipliers, layer.Shifts,
                layer.Output.ZeroPoint, layer.ActivationMin, layer.ActivationMax, output, layer.InputSize, layer.OutputSize);
    }
}
