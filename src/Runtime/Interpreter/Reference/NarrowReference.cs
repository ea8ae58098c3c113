using System;
using System.Runtime.InteropServices;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference narrowing of a wide value to INT8 (<see cref="NarrowPlan.Apply"/>).</summary>
    internal static class NarrowReference
    {
        public static void Run(NarrowPlan plan, sbyte[] input, sbyte[] output)
        {
            var x = MemoryMarshal.Cast<sbyte, int>(input.AsSpan());
            for (int i = 0; i < output.Length; i++) output[i] = plan.Apply(x[i]);
        }
    }
}
