using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>
    /// The reference embedding lookup: row <c>ids[t]</c> of the INT8 table for each token t; for BERT's sum, each value
    /// added to row t of the position table across scales (<see cref="ResidualAddPlan.Apply"/>).
    /// </summary>
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

                if (plan.Sum is null)
                {
                    Array.Copy(plan.Table, id * plan.Width, output, t * plan.Width, plan.Width);
                    continue;
                }

                for (int c = 0; c < plan.Width; c++)
                {
                    output[t * plan.Width + c] = plan.Sum.Apply(plan.Table[id * plan.Width + c], plan.Positions![t * plan.Width + c]);
                }
            }
        }
    }
}
