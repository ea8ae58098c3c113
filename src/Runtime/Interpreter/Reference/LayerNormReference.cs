using System;
using System.Runtime.InteropServices;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference integer LayerNorm of every row, from INT8 or wide (INT32) rows, to INT8 or wide.</summary>
    internal static class LayerNormReference
    {
        public static void Run(LayerNormPlan plan, sbyte[] input, bool wideInput, sbyte[] output, bool wideOutput)
        {
            int width = plan.Width;
            var x = MemoryMarshal.Cast<sbyte, int>(input.AsSpan());
            var y = MemoryMarshal.Cast<sbyte, int>(output.AsSpan());
            int rows = (wideOutput ? y.Length : output.Length) / width;
            for (int t = 0; t < rows; t++)
            {
                if (wideInput && wideOutput) IntLayerNorm.LayerNorm(x.Slice(t * width, width), y.Slice(t * width, width), plan);
                else if (wideInput) IntLayerNorm.LayerNorm(x.Slice(t * width, width), output.AsSpan(t * width, width), plan);
                else if (wideOutput) IntLayerNorm.LayerNorm(input.AsSpan(t * width, width), y.Slice(t * width, width), plan);
                else IntLayerNorm.LayerNorm(input.AsSpan(t * width, width), output.AsSpan(t * width, width), plan);
            }
        }
    }
}
