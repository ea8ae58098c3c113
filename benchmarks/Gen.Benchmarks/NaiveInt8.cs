using System;
using Gen.Runtime;

namespace Gen.Benchmarks
{
    /// <summary>
    /// The naive scalar INT8 loop: int accumulators over <c>(x - Z_in) * w</c>, then TFLite requantization with
    /// <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> and a clamp. No zero-point folding, no blocking, no SIMD:
    /// what a first port of the TFLite reference kernel looks like.
    /// </summary>
    public sealed class NaiveInt8
    {
        private readonly int k, n, inputZeroPoint, outputZeroPoint;
        private readonly sbyte[] weights;
        private readonly int[] bias, multipliers, shifts;

        public NaiveInt8(DenseLayer layer)
        {
            k = layer.Shape.K;
            n = layer.Shape.N;
            inputZeroPoint = layer.InputZeroPoint;
            outputZeroPoint = layer.OutputZeroPoint;
            weights = layer.QuantizedWeights;
            bias = layer.QuantizedBias;
            multipliers = layer.Multipliers;
            shifts = layer.Shifts;
        }

        /// <summary>y[m, n] for <paramref name="rows"/> rows of K inputs.</summary>
        public void Run(ReadOnlySpan<sbyte> inputs, Span<sbyte> outputs, int rows)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    int acc = bias[c];
                    for (int i = 0; i < k; i++)
                    {
                        acc += (inputs[r * k + i] - inputZeroPoint) * weights[c * k + i];
                    }

                    int y = FixedPoint.MultiplyByQuantizedMultiplier(acc, multipliers[c], shifts[c]) + outputZeroPoint;
                    outputs[r * n + c] = (sbyte)Math.Clamp(y, -128, 127);
                }
            }
        }
    }
}
