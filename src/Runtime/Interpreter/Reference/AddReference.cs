namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference add across scales, element by element (<see cref="ResidualAddPlan.Apply"/>).</summary>
    internal static class AddReference
    {
        public static void Run(ResidualAddPlan plan, sbyte[] a, sbyte[] b, sbyte[] sum)
        {
            for (int i = 0; i < sum.Length; i++) sum[i] = plan.Apply(a[i], b[i]);
        }
    }
}
