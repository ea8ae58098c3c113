using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference CLS pooling: the first row's INT8 values, at the input's quantization.</summary>
    internal static class ClsTokenReference
    {
        public static void Run(ClsTokenAttributes op, sbyte[] input, sbyte[] output) => Array.Copy(input, output, output.Length);
    }
}
