using System;
using System.Runtime.InteropServices;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference add across scales, element by element (<see cref="ResidualAddPlan.Apply"/>, <see cref="WideAddPlan.Apply"/>).</summary>
    internal static class AddReference
    {
        public static void Run(object op, sbyte[] a, sbyte[] b, sbyte[] sum)
        {
            if (op is ResidualAddPlan plan)
            {
                for (int i = 0; i < sum.Length; i++) sum[i] = plan.Apply(a[i], b[i]);
                return;
            }

            var wide = (WideAddPlan)op;
            var ia = MemoryMarshal.Cast<sbyte, int>(a.AsSpan());
            var ib = MemoryMarshal.Cast<sbyte, int>(b.AsSpan());
            var isum = MemoryMarshal.Cast<sbyte, int>(sum.AsSpan());
            int count = wide.WideOutput ? isum.Length : sum.Length;
            for (int i = 0; i < count; i++)
            {
                int result = wide.Apply(wide.WideA ? ia[i] : a[i], wide.WideB ? ib[i] : b[i]);
                if (wide.WideOutput) isum[i] = result;
                else sum[i] = (sbyte)result;
            }
        }
    }
}
