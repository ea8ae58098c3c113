using System;
using System.Runtime.InteropServices;
using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference dense layer: TensorFlow Lite's fully connected kernel on every row.</summary>
    internal static class DenseReference
    {
        public static void Run(QuantizedDense layer, sbyte[] input, sbyte[] output)
        {
            if (!layer.WideOutput)
            {
                ReferenceKernels.FullyConnected(input, layer.Input.ZeroPoint, layer.Weights, layer.Bias, layer.Multipliers, layer.Shifts,
                    layer.Output.ZeroPoint, layer.ActivationMin, layer.ActivationMax, output, layer.InputSize, layer.OutputSize);
                return;
            }

            // A wide output: the same accumulator and requantization, kept as an int (zero point 0, no clamp).
            var y = MemoryMarshal.Cast<sbyte, int>(output.AsSpan());
            int k = layer.InputSize, n = layer.OutputSize;
            for (int m = 0; m < input.Length / k; m++)
            {
                for (int c = 0; c < n; c++)
                {
                    int acc = layer.Bias[c];
                    for (int i = 0; i < k; i++) acc = checked(acc + layer.Weights[c * k + i] * (input[m * k + i] - layer.Input.ZeroPoint));
                    int channel = layer.PerChannel ? c : 0;
                    y[m * n + c] = FixedPoint.MultiplyByQuantizedMultiplier(acc, layer.Multipliers[channel], layer.Shifts[channel]);
                }
            }
        }
    }
}
