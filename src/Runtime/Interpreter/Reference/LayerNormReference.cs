using System;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference integer LayerNorm of every row.</summary>
    internal static class LayerNormReference
    {
        public static void Run(LayerNormPlan plan, sbyte[] input, sbyte[] output)
        {
            int width = plan.Width;
            for (int t = 0; t < input.Length / width; t++)
            {
                IntLayerNorm.LayerNorm(input.AsSpan(t * width, width), output.AsSpan(t * width, width), plan);
            }
        }
    }
}
