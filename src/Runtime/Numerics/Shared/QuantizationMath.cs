using System;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>
    /// Scalar quantization math shared by the generator (at compile time) and the runtime: choosing scales and
    /// zero points, quantizing values and biases, and forming the real multipliers that requantization encodes.
    /// Rounding is half away from zero throughout (TensorFlow Lite's <c>TfLiteRound</c>, C's <c>round</c>).
    /// </summary>
    public static partial class QuantizationMath
    {
        /// <summary>Smallest INT8 value.</summary>
        public const int Int8Min = -128;

        /// <summary>Largest INT8 value.</summary>
        public const int Int8Max = 127;

        /// <summary>Largest magnitude of a symmetric INT8 weight: weights live in [-127, 127].</summary>
        public const int SymmetricInt8Max = 127;

        /// <summary>Rounds half away from zero.</summary>
        public static double Round(double value) => Math.Round(value, MidpointRounding.AwayFromZero);

        /// <summary>
        /// Asymmetric INT8 parameters for a real range, as gemmlowp's <c>ChooseQuantizationParams</c>: the range is
        /// first widened to contain 0 (so that 0 is exactly representable), <c>scale = (max - min) / 255</c>, and the
        /// zero point is taken from whichever end has the smaller rounding error, then rounded and clamped.
        /// A range that is exactly [0, 0] is degenerate: any scale represents it, and scale 1, zero point 0 is used.
        /// </summary>
        /// <exception cref="ArgumentException">A bound is NaN or infinite, or min &gt; max.</exception>
        public static QuantizationParameters ChooseAsymmetric(double min, double max, int qmin = Int8Min, int qmax = Int8Max)
        {
            CheckRange(min, max);
            min = Math.Min(min, 0);
            max = Math.Max(max, 0);
            if (min == max)
            {
                return new QuantizationParameters(1f, 0);
            }

            float scale = (float)((max - min) / (qmax - qmin));
            if (!(scale > 0) || float.IsInfinity(scale))
            {
                throw new ArgumentException($"The range [{min}, {max}] cannot be represented with a float32 scale.");
            }

            double fromMin = qmin - min / scale;
            double fromMax = qmax - max / scale;
            double fromMinError = Math.Abs(qmin) + Math.Abs(min / scale);
            double fromMaxError = Math.Abs(qmax) + Math.Abs(max / scale);
            double zeroPoint = fromMinError < fromMaxError ? fromMin : fromMax;
            int nudged = zeroPoint < qmin ? qmin : zeroPoint > qmax ? qmax : (int)Round(zeroPoint);
            return new QuantizationParameters(scale, nudged);
        }

        /// <summary>Levels on each side of zero that a wide (INT32) activation gives its calibrated range: 16 bits of resolution.</summary>
        public const int WideLevels = 32767;

        /// <summary>
        /// The quantization of a wide activation (<c>GraphValue.IsWide</c>) from its calibrated INT8 parameters: symmetric,
        /// the larger end of the INT8 range <c>[S (-128 - Z), S (127 - Z)]</c> at <see cref="WideLevels"/>. Values beyond
        /// the calibrated range are not clipped: INT32 leaves them 2^16 times the range.
        /// </summary>
        public static QuantizationParameters Widen(QuantizationParameters calibrated)
        {
            double maxAbs = Math.Max(Math.Abs((double)calibrated.Scale * (Int8Min - calibrated.ZeroPoint)), Math.Abs((double)calibrated.Scale * (Int8Max - calibrated.ZeroPoint)));
            return ChooseSymmetric(maxAbs, WideLevels);
        }

        /// <summary>
        /// Symmetric parameters (zero point 0) for values in [-maxAbs, maxAbs]: <c>scale = maxAbs / qmax</c>.
        /// <c>maxAbs == 0</c> (an all-zero tensor) is degenerate and gets scale 1.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="maxAbs"/> is negative, NaN or infinite.</exception>
        public static QuantizationParameters ChooseSymmetric(double maxAbs, int qmax = SymmetricInt8Max)
        {
            if (double.IsNaN(maxAbs) || double.IsInfinity(maxAbs) || maxAbs < 0)
            {
                throw new ArgumentException($"The magnitude bound {maxAbs} must be finite and not negative.", nameof(maxAbs));
            }

            if (maxAbs == 0)
            {
                return new QuantizationParameters(1f, 0);
            }

            float scale = (float)(maxAbs / qmax);
            if (!(scale > 0))
            {
                // A magnitude so small that maxAbs / 127 underflows float32: the smallest positive float still works.
                scale = float.Epsilon;
            }

            return new QuantizationParameters(scale, 0);
        }

        /// <summary>The largest |value| in a row-major block of <paramref name="count"/> values from <paramref name="start"/>.</summary>
        /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
        public static double MaxAbs(float[] values, int start, int count)
        {
            double maxAbs = 0;
            for (int i = start; i < start + count; i++)
            {
                float v = values[i];
                if (float.IsNaN(v) || float.IsInfinity(v))
                {
                    throw new ArgumentException($"Value {i} is {v}; only finite values can be quantized.", nameof(values));
                }

                maxAbs = Math.Max(maxAbs, Math.Abs(v));
            }

            return maxAbs;
        }

        /// <summary>
        /// Symmetric per-channel weight scales for a row-major [channels, perChannel] tensor: channel c gets
        /// <c>max |w[c, :]| / 127</c>.
        /// </summary>
        public static float[] ChooseSymmetricPerChannel(float[] weights, int channels)
        {
            if (channels <= 0 || weights.Length % channels != 0)
            {
                throw new ArgumentException($"{weights.Length} weights cannot be split into {channels} channels.");
            }

            int perChannel = weights.Length / channels;
            var scales = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                scales[c] = ChooseSymmetric(MaxAbs(weights, c * perChannel, perChannel)).Scale;
            }

            return scales;
        }

        /// <summary>
        /// Quantizes one value as TensorFlow Lite's Quantize op: <c>clamp(round(value / scale) + zeroPoint, qmin, qmax)</c>,
        /// the division in float32.
        /// </summary>
        public static int Quantize(float value, float scale, int zeroPoint, int qmin = Int8Min, int qmax = Int8Max)
        {
            float quotient = value / scale;
            if (float.IsNaN(quotient))
            {
                throw new ArgumentException("NaN cannot be quantized.", nameof(value));
            }

            double q = Round(quotient) + zeroPoint;
            return q < qmin ? qmin : q > qmax ? qmax : (int)q;
        }

        /// <summary><c>scale * (q - zeroPoint)</c> in float32.</summary>
        public static float Dequantize(int q, float scale, int zeroPoint) => scale * (q - zeroPoint);

        private static string R(float value) => value.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>
        /// The INT32 bias for one output channel: <c>round(bias / (S_in * S_w))</c>, the scale product in float32 as
        /// TensorFlow Lite's converter forms it.
        /// </summary>
        /// <exception cref="OverflowException">The quantized bias does not fit in 32 bits.</exception>
        public static int QuantizeBias(float bias, float inputScale, float weightScale)
        {
            float biasScale = inputScale * weightScale;
            double q = Round(bias / (double)biasScale);
            if (double.IsNaN(q) || q > int.MaxValue || q < int.MinValue)
            {
                string scales = $"S_in * S_w = {R(inputScale)} x {R(weightScale)}";
                throw new OverflowException(biasScale == 0
                    ? $"Bias {R(bias)}: its scale {scales} underflows float32 to 0, so it cannot be quantized (the input or weight scale is far too small)."
                    : $"Bias {R(bias)} at scale {scales} = {R(biasScale)} is {(bias / (double)biasScale).ToString("G4", CultureInfo.InvariantCulture)} steps, beyond INT32 (the input or weight scale is too small for it).");
            }

            return (int)q;
        }

        /// <summary>
        /// The requantization multiplier of a per-tensor layer, <c>S_in * S_w / S_out</c>, formed as TensorFlow Lite's
        /// <c>GetQuantizedConvolutionMultipler</c> does: the scale product in float32, the division in double.
        /// </summary>
        public static double PerTensorMultiplier(float inputScale, float weightScale, float outputScale) =>
            (double)(float)(inputScale * weightScale) / outputScale;

        /// <summary>
        /// The requantization multiplier of one output channel of a per-channel layer, in double throughout as
        /// TensorFlow Lite's <c>PopulateConvolutionQuantizationParams</c>.
        /// </summary>
        public static double PerChannelMultiplier(float inputScale, float weightScale, float outputScale) =>
            (double)inputScale * weightScale / outputScale;

        /// <summary>
        /// The INT8 output clamp of a fused activation, as TensorFlow Lite's <c>CalculateActivationRangeQuantized</c>:
        /// ReLU clamps below at <c>Z + round(0 / S)</c>, ReLU6 also above at <c>Z + round(6 / S)</c>, both
        /// intersected with [-128, 127].
        /// </summary>
        public static void ActivationRange(FusedActivation activation, float outputScale, int outputZeroPoint,
            out int min, out int max)
        {
            min = Int8Min;
            max = Int8Max;
            switch (activation)
            {
                case FusedActivation.None:
                    break;
                case FusedActivation.Relu:
                    min = Math.Max(min, QuantizeUnclamped(0f, outputScale, outputZeroPoint));
                    break;
                case FusedActivation.Relu6:
                    min = Math.Max(min, QuantizeUnclamped(0f, outputScale, outputZeroPoint));
                    max = Math.Min(max, QuantizeUnclamped(6f, outputScale, outputZeroPoint));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown fused activation.");
            }
        }

        private static int QuantizeUnclamped(float value, float scale, int zeroPoint)
        {
            double q = Round(value / scale) + zeroPoint;
            return q > int.MaxValue ? int.MaxValue : q < int.MinValue ? int.MinValue : (int)q;
        }

        private static void CheckRange(double min, double max)
        {
            if (double.IsNaN(min) || double.IsNaN(max) || double.IsInfinity(min) || double.IsInfinity(max))
            {
                throw new ArgumentException($"The range [{min}, {max}] must be finite.");
            }

            if (min > max)
            {
                throw new ArgumentException($"The range [{min}, {max}] is empty: min is greater than max.");
            }
        }
    }
}
