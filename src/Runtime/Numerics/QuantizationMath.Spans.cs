using System;

namespace Gen.Runtime
{
    // Span overloads live only in the runtime: the generator (netstandard2.0) compiles the scalar half of this class.
    public static partial class QuantizationMath
    {
        /// <summary>Quantizes every value of <paramref name="values"/> into <paramref name="destination"/> (INT8).</summary>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        public static void Quantize(ReadOnlySpan<float> values, Span<sbyte> destination, QuantizationParameters parameters)
        {
            if (values.Length != destination.Length)
            {
                throw new ArgumentException(
                    $"The destination holds {destination.Length} values but {values.Length} are to be quantized.", nameof(destination));
            }

            for (int i = 0; i < values.Length; i++)
            {
                destination[i] = (sbyte)Quantize(values[i], parameters.Scale, parameters.ZeroPoint);
            }
        }

        /// <summary>Dequantizes every INT8 value of <paramref name="values"/> into <paramref name="destination"/>.</summary>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        public static void Dequantize(ReadOnlySpan<sbyte> values, Span<float> destination, QuantizationParameters parameters)
        {
            if (values.Length != destination.Length)
            {
                throw new ArgumentException(
                    $"The destination holds {destination.Length} values but {values.Length} are to be dequantized.", nameof(destination));
            }

            for (int i = 0; i < values.Length; i++)
            {
                destination[i] = Dequantize(values[i], parameters.Scale, parameters.ZeroPoint);
            }
        }

        /// <summary>Asymmetric INT8 parameters from the range of the given values (max calibration).</summary>
        public static QuantizationParameters ChooseAsymmetric(ReadOnlySpan<float> values)
        {
            if (values.IsEmpty)
            {
                throw new ArgumentException("No values to take a range from.", nameof(values));
            }

            float min = values[0], max = values[0];
            foreach (float v in values)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            return ChooseAsymmetric(min, max);
        }
    }
}
