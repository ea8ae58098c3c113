using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference mean over rows: <c>sum_t (x_t - Z_in)</c> requantized by <c>S_in / (T S_out)</c>.</summary>
    internal static class MeanPoolReference
    {
        public static void Run(MeanPoolPlan plan, sbyte[] input, sbyte[] pooled)
        {
            int width = pooled.Length;
            for (int c = 0; c < width; c++)
            {
                int sum = 0;
                for (int t = 0; t < plan.Rows; t++) sum += input[t * width + c] - plan.Input.ZeroPoint;
                pooled[c] = ReferenceKernels.Requantize(sum, plan.Multiplier, plan.Shift, plan.Output.ZeroPoint, -128, 127);
            }
        }
    }
}
