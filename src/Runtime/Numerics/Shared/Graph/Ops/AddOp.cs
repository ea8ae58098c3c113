using System;

namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of an elementwise add; <see cref="What"/> names it in messages ("the attention residual add of 'blocks.0'").</summary>
    /// <param name="What">The add as messages call it.</param>
    public sealed record AddAttributes(string What) : OpAttributes;

    /// <summary>The add of two INT8 values of one shape across scales, rounded once (<see cref="ResidualAddPlan"/>).</summary>
    public static class AddOp
    {
        /// <summary>Adds <c>a + b</c>; either may be a constant.</summary>
        public static int Add(this GraphBuilder b, int a, int bValue, string name, string what, int origin, string? outputName = null)
        {
            var x = b.Value(a);
            var y = b.Value(bValue);
            if (!x.Shape.Equals(y.Shape)) b.Invalid(origin, $"In {what}: the shapes {x.ShapeText} and {y.ShapeText} differ.");
            return b.Node(OpKind.Add, name, new[] { a, bValue }, outputName ?? name, x.Shape.ToArray(), origin, new AddAttributes(what));
        }

        /// <summary>
        /// The integer add's constants: a <see cref="ResidualAddPlan"/> for INT8 values, a <see cref="WideAddPlan"/> (64-bit)
        /// when an input or the output is wide.
        /// </summary>
        public static object? Quantize(QuantizeContext c, GraphNode node)
        {
            string what = ((AddAttributes)node.Attributes).What;
            bool wideA = c.InValue(node, 0).IsWide, wideB = c.InValue(node, 1).IsWide, wideOut = c.OutValue(node).IsWide;
            if (wideA || wideB || wideOut)
            {
                WideAddPlan wide;
                try
                {
                    wide = WideAddPlan.Create(c.In(node, 0), wideA, c.In(node, 1), wideB, c.Out(node), wideOut);
                }
                catch (ArgumentOutOfRangeException e)
                {
                    c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"In {what}: {Text.Reason(e)}");
                    return null;
                }

                return c.Prove(node, "In " + what, WideBounds(wide)) ? wide : null;
            }

            ResidualAddPlan plan;
            try
            {
                plan = ResidualAddPlan.Create(c.In(node, 0), c.In(node, 1), c.Out(node));
            }
            catch (ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"In {what}: {Text.Reason(e)}");
                return null;
            }

            return c.Prove(node, "In " + what, Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The wide add's 64-bit sum <c>M_a (a - Z_a) + M_b (b - Z_b) + 2^(S-1)</c> for any inputs (an INT32 input's difference
        /// reaches 2^31, an INT8 one's 255): <see cref="WideAddPlan.Create"/> kept the multipliers below 2^30 for it.
        /// </summary>
        public static OpBounds WideBounds(WideAddPlan plan) =>
            new OpBounds(new IntegerBound("|M_a (a - Z_a) + M_b (b - Z_b) + 2^(S-1)|", "the 64-bit rescaled sum of the wide add", plan.WorstSum(), 63,
                "this cannot happen (the multipliers are kept below 2^30); please report it"));

        /// <summary>
        /// The add's integers for any INT8 inputs a and b: the generated code forms <c>a M_a + b M_b + offset</c> in INT32 (offset
        /// the rounding term with both zero points folded in), left to right. The whole is
        /// <c>M_a (a - Z_a) + M_b (b - Z_b) + 2^(S-1)</c>, largest at the ends of the two ranges (reached); the partial sums are
        /// within <c>128 (M_a + M_b)</c> (reached by a = b = -128), the offset within <c>2^(S-1) + 128 (M_a + M_b)</c>.
        /// <see cref="ResidualAddPlan.Create"/> chose S so that all of it fits.
        /// </summary>
        public static OpBounds Bounds(ResidualAddPlan plan)
        {
            long ma = plan.MultiplierA, mb = plan.MultiplierB, half = 1L << (plan.Shift - 1);
            int za = plan.InputA.ZeroPoint, zb = plan.InputB.ZeroPoint;
            long high = ma * (127 - za) + mb * (127 - zb) + half, low = ma * (-128 - za) + mb * (-128 - zb) + half;
            long worst = Math.Max(Math.Max(Math.Abs(high), Math.Abs(low)), Math.Max(128 * (ma + mb), Math.Abs(half - ma * za - mb * zb)));
            return new OpBounds(new IntegerBound("|a M_a + b M_b + offset|", "the INT32 rescaled sum a M_a + b M_b + offset", worst, 31,
                "this cannot happen (the shift is chosen for it); please report it"));
        }
    }
}
