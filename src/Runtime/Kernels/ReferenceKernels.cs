using System;

namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Scalar INT8 reference kernels: the definition of what every generated kernel computes, written to be read,
    /// not to be fast. Semantics are TensorFlow Lite's reference kernels exactly (see DESIGN.md section 2).
    /// Accumulators use checked 32-bit arithmetic: an overflow is a bug in the model's bounds, reported, never
    /// wrapped into a wrong number.
    /// </summary>
    public static class ReferenceKernels
    {
        /// <summary>
        /// INT8 fully connected layer, <c>output[m, n] = clamp(MBQM(bias[n] + sum_k w[n, k] * (x[m, k] - Z_in), M0[n], shift[n]) + Z_out)</c>.
        /// </summary>
        /// <param name="input">Row-major [batch, inputSize] activations.</param>
        /// <param name="inputZeroPoint">Zero point of the input, in [-128, 127].</param>
        /// <param name="weights">Row-major [outputSize, inputSize] symmetric weights (zero point 0).</param>
        /// <param name="bias">INT32 bias of length outputSize at scale <c>S_in * S_w[n]</c>, or empty for none.</param>
        /// <param name="multipliers">M0 per output channel (length outputSize) or one for the whole tensor.</param>
        /// <param name="shifts">Shift matching <paramref name="multipliers"/>.</param>
        /// <param name="outputZeroPoint">Zero point of the output.</param>
        /// <param name="activationMin">Lower output clamp (from the fused activation).</param>
        /// <param name="activationMax">Upper output clamp.</param>
        /// <param name="output">Row-major [batch, outputSize] result.</param>
        /// <param name="inputSize">K, the input features per row.</param>
        /// <param name="outputSize">N, the output features per row.</param>
        public static void FullyConnected(
            ReadOnlySpan<sbyte> input, int inputZeroPoint,
            ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> bias,
            ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts,
            int outputZeroPoint, int activationMin, int activationMax,
            Span<sbyte> output, int inputSize, int outputSize)
        {
            if (inputSize <= 0 || outputSize <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(inputSize), $"Sizes must be positive; got {inputSize} inputs, {outputSize} outputs.");
            }

            if (weights.Length != inputSize * outputSize)
            {
                throw new ArgumentException($"{weights.Length} weights do not form [{outputSize}, {inputSize}].", nameof(weights));
            }

            if (input.Length % inputSize != 0)
            {
                throw new ArgumentException($"Input of {input.Length} values is not a whole number of rows of {inputSize}.", nameof(input));
            }

            int batch = input.Length / inputSize;
            CheckPerChannel(multipliers.Length, shifts.Length, outputSize);
            if (bias.Length != 0 && bias.Length != outputSize)
            {
                throw new ArgumentException($"Bias has {bias.Length} values for {outputSize} outputs.", nameof(bias));
            }

            if (output.Length != batch * outputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values, expected {batch * outputSize}.", nameof(output));
            }

            CheckClamp(activationMin, activationMax);
            for (int m = 0; m < batch; m++)
            {
                for (int n = 0; n < outputSize; n++)
                {
                    int acc = 0;
                    for (int k = 0; k < inputSize; k++)
                    {
                        acc = checked(acc + weights[n * inputSize + k] * (input[m * inputSize + k] - inputZeroPoint));
                    }

                    if (bias.Length != 0)
                    {
                        acc = checked(acc + bias[n]);
                    }

                    int c = multipliers.Length == 1 ? 0 : n;
                    output[m * outputSize + n] = Requantize(acc, multipliers[c], shifts[c], outputZeroPoint, activationMin, activationMax);
                }
            }
        }

        /// <summary>
        /// Product of two INT8 activation matrices (attention's Q·Kᵀ and P·V):
        /// <c>out[m, n] = clamp(MBQM(sum_k (a[m, k] - Z_a) * (b[k, n] - Z_b), M0, shift) + Z_out)</c>.
        /// </summary>
        /// <param name="a">Row-major [rows, depth].</param>
        /// <param name="aZeroPoint">Zero point of <paramref name="a"/>.</param>
        /// <param name="b">Row-major [depth, columns], or [columns, depth] when <paramref name="transposeB"/>.</param>
        /// <param name="bZeroPoint">Zero point of <paramref name="b"/>.</param>
        /// <param name="transposeB">Whether <paramref name="b"/> is stored transposed (as K is for Q·Kᵀ).</param>
        /// <param name="rows">Rows of a and of the output.</param>
        /// <param name="depth">Columns of a, the summed dimension.</param>
        /// <param name="columns">Columns of the output.</param>
        /// <param name="multiplier">M0 of <c>S_a * S_b / S_out</c>.</param>
        /// <param name="shift">Shift of that multiplier.</param>
        /// <param name="outputZeroPoint">Zero point of the output.</param>
        /// <param name="output">Row-major [rows, columns].</param>
        public static void MatMul(
            ReadOnlySpan<sbyte> a, int aZeroPoint, ReadOnlySpan<sbyte> b, int bZeroPoint, bool transposeB,
            int rows, int depth, int columns, int multiplier, int shift, int outputZeroPoint, Span<sbyte> output)
        {
            if (rows <= 0 || depth <= 0 || columns <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), "Matrix dimensions must be positive.");
            }

            if (a.Length != rows * depth || b.Length != depth * columns || output.Length != rows * columns)
            {
                throw new ArgumentException(
                    $"Expected a[{rows}x{depth}], b[{depth}x{columns}], out[{rows}x{columns}]; got {a.Length}, {b.Length}, {output.Length} values.");
            }

            for (int m = 0; m < rows; m++)
            {
                for (int n = 0; n < columns; n++)
                {
                    int acc = 0;
                    for (int k = 0; k < depth; k++)
                    {
                        int bValue = transposeB ? b[n * depth + k] : b[k * columns + n];
                        acc = checked(acc + (a[m * depth + k] - aZeroPoint) * (bValue - bZeroPoint));
                    }

                    output[m * columns + n] = Requantize(acc, multiplier, shift, outputZeroPoint, QuantizationMath.Int8Min, QuantizationMath.Int8Max);
                }
            }
        }

        /// <summary>
        /// Elementwise INT8 add across scales (TensorFlow Lite's int8 Add): each input is offset by its zero point,
        /// shifted left by 20 bits, rescaled to the common scale, the two are added, and the sum is rescaled to the
        /// output and clamped.
        /// </summary>
        public static void Add(ReadOnlySpan<sbyte> input1, ReadOnlySpan<sbyte> input2, AddParameters parameters, Span<sbyte> output)
        {
            if (input1.Length != input2.Length || output.Length != input1.Length)
            {
                throw new ArgumentException(
                    $"Add needs equal lengths; got {input1.Length}, {input2.Length} and an output of {output.Length}.");
            }

            for (int i = 0; i < input1.Length; i++)
            {
                output[i] = (sbyte)AddOne(input1[i], input2[i], parameters);
            }
        }

        /// <summary>One element of <see cref="Add"/>.</summary>
        public static int AddOne(int input1, int input2, AddParameters p)
        {
            int shifted1 = (input1 + p.Input1Offset) * (1 << AddParameters.LeftShift);
            int shifted2 = (input2 + p.Input2Offset) * (1 << AddParameters.LeftShift);
            int scaled1 = FixedPoint.MultiplyByQuantizedMultiplier(shifted1, p.Input1Multiplier, p.Input1Shift);
            int scaled2 = FixedPoint.MultiplyByQuantizedMultiplier(shifted2, p.Input2Multiplier, p.Input2Shift);
            int sum = scaled1 + scaled2;
            int raw = FixedPoint.MultiplyByQuantizedMultiplier(sum, p.OutputMultiplier, p.OutputShift) + p.OutputOffset;
            return Math.Clamp(raw, p.ActivationMin, p.ActivationMax);
        }

        /// <summary>The requantization epilogue shared by every INT8 layer: scale, add the zero point, clamp.</summary>
        public static sbyte Requantize(int accumulator, int multiplier, int shift, int outputZeroPoint, int activationMin, int activationMax)
        {
            int scaled = FixedPoint.MultiplyByQuantizedMultiplier(accumulator, multiplier, shift);
            long withZeroPoint = (long)scaled + outputZeroPoint;
            return (sbyte)Math.Clamp(withZeroPoint, activationMin, activationMax);
        }

        private static void CheckPerChannel(int multipliers, int shifts, int outputSize)
        {
            if (multipliers != shifts || (multipliers != 1 && multipliers != outputSize))
            {
                throw new ArgumentException(
                    $"Expected one multiplier and shift, or {outputSize} of each; got {multipliers} and {shifts}.");
            }
        }

        private static void CheckClamp(int min, int max)
        {
            if (min < QuantizationMath.Int8Min || max > QuantizationMath.Int8Max || min > max)
            {
                throw new ArgumentOutOfRangeException(nameof(min), $"The clamp [{min}, {max}] must be a non-empty part of [-128, 127].");
            }
        }
    }
}
