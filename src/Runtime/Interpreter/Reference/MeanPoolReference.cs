using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>
    /// The reference mean over the first <c>rows</c> rows (the real tokens of a padded sequence):
    /// <c>sum_t (x_t - Z_in)</c> requantized by <c>S_in / (rows S_out)</c>.
    /// </summary>
    internal static class MeanPoolReference
    {
        public static void Run(MeanPoolPlan plan, sbyte[] input, sbyte[] pooled, int rows)
        {
            int width = pooled.Length, n = System.Math.Min(rows, plan.Rows);
            for (int c = 0; c < width; c++)
            {
                int sum = 0;
                for (int t = 0; t < n; t++) sum += input[t * width + c] - plan.Input.ZeroPoint;
                pooled[c] = ReferenceKernels.Requantize(sum, plan.Multipliers[n - 1], plan.Shifts[n - 1], plan.Output.ZeroPoint, -128, 127);
            }
        }
    }
}
