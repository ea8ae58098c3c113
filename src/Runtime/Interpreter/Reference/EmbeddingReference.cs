using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference embedding lookup: row <c>ids[t]</c> of the INT8 table for each token t.</summary>
    internal static class EmbeddingReference
    {
        public static void Run(EmbeddingPlan plan, int[] ids, sbyte[] output)
        {
            for (int t = 0; t < ids.Length; t++)
            {
                int id = ids[t];
                if ((uint)id >= (uint)plan.Vocabulary)
                {
                    throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token {t} has id {id}, outside the vocabulary of {plan.Vocabulary} (ids 0 to {plan.Vocabulary - 1}).");
                }

                Array.Copy(plan.Table, id * plan.Width, output, t * plan.Width, plan.Width);
            }
        }
    }
}
