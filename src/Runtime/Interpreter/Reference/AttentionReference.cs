using System;
using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>
    /// The reference multi-head attention on INT8 Q, K, V ([tokens, width]): INT32 scores <c>sum_d (q - Z_q)(k - Z_k)</c>,
    /// the integer Softmax per row, then <c>sum_j (p_j + 128)(v_j - Z_v)</c> requantized to the context's parameters. Only
    /// the first <c>keys</c> tokens are keys (the real ones of a padded sequence); every token is a query.
    /// </summary>
    internal static class AttentionReference
    {
        public static void Run(AttentionPlan plan, sbyte[] q, sbyte[] k, sbyte[] v, sbyte[] context, int keys)
        {
            int d = plan.HeadSize, width = plan.Heads * d, tokens = q.Length / width;
            keys = System.Math.Min(keys, tokens);
            int zq = plan.Query.ZeroPoint, zk = plan.Key.ZeroPoint, zv = plan.Value.ZeroPoint;
            var scores = new int[tokens];
            var probabilities = new sbyte[tokens];
            for (int h = 0; h < plan.Heads; h++)
            {
                int offset = h * d;
                for (int i = 0; i < tokens; i++)
                {
                    for (int j = 0; j < keys; j++)
                    {
                        int score = 0;
                        for (int e = 0; e < d; e++) score += (q[i * width + offset + e] - zq) * (k[j * width + offset + e] - zk);
                        scores[j] = score;
                    }

                    IntSoftmax.Softmax(scores.AsSpan(0, keys), probabilities.AsSpan(0, keys), plan.Softmax);
                    for (int e = 0; e < d; e++)
                    {
                        int sum = 0;
                        for (int j = 0; j < keys; j++) sum += (probabilities[j] - SoftmaxPlan.OutputZeroPoint) * (v[j * width + offset + e] - zv);
                        context[i * width + offset + e] = ReferenceKernels.Requantize(sum, plan.ContextMultiplier, plan.ContextShift,
                            plan.Context.ZeroPoint, -128, 127);
                    }
                }
            }
        }
    }
}
