using System;

namespace Gen.Runtime.Kernels
{
    /// <summary>Span overloads of the integer GELU (the scalar kernel is shared with the generator).</summary>
    public static partial class IntGelu
    {
        /// <summary>GELU of every INT32 input (see <see cref="Gelu(int, GeluPlan)"/>).</summary>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        public static void Gelu(ReadOnlySpan<int> input, Span<int> output, GeluPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = Gelu(input[i], plan);
            }
        }

        /// <summary>GELU of every INT8 input, INT8 out (see <see cref="GeluInt8(sbyte, GeluPlan)"/>).</summary>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        public static void Gelu(ReadOnlySpan<sbyte> input, Span<sbyte> output, GeluPlan plan)
        {
            CheckLengths(input.Length, output.Length);
            for (int i = 0; i < input.Length; i++)
            {
                output[i] = GeluInt8(input[i], plan);
            }
        }

        private static void CheckLengths(int input, int output)
        {
            if (input != output)
            {
                throw new ArgumentException($"The output holds {output} values but the input has {input}.");
            }
        }
    }
}
