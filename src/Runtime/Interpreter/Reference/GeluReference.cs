using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference integer GELU of every element.</summary>
    internal static class GeluReference
    {
        public static void Run(GeluPlan plan, sbyte[] input, sbyte[] output) => IntGelu.Gelu(input, output, plan);
    }
}
