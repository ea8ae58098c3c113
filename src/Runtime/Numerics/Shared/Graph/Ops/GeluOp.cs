using System;
using System.Numerics;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of a GELU; <see cref="Part"/> names it in messages (the encoder layer).</summary>
    /// <param name="Part">The declared part (the encoder layer's prefix).</param>
    public sealed record GeluAttributes(string Part) : OpAttributes;

    /// <summary>I-BERT's integer GELU from an INT8 input to INT8 (exact erf GELU in the float model).</summary>
    public static class GeluOp
    {
        /// <summary>Adds GELU of each element of <paramref name="input"/>.</summary>
        public static int Gelu(this GraphBuilder b, int input, string name, string part, int origin) =>
            b.Node(OpKind.Gelu, name, new[] { input }, name, b.Value(input).Shape.ToArray(), origin, new GeluAttributes(part));

        /// <summary>The polynomial's constants at the input scale and the requantization to the output.</summary>
        public static GeluPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            var input = c.In(node);
            var output = c.Out(node);
            string what = $"GELU of '{((GeluAttributes)node.Attributes).Part}'";
            GeluPlan plan;
            try
            {
                plan = GeluPlan.CreateInt8(input.Scale, input.ZeroPoint, output.Scale, output.ZeroPoint);
            }
            catch (ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"{what}: {Text.Reason(e)}");
                return null;
            }

            return c.Prove(node, what, Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The integer GELU's quantities for any INT8 input x = q - Z_in (at most <c>max(127 - Z, 128 + Z)</c> in magnitude),
        /// in the steps of <c>IntGelu</c>:
        /// <list type="bullet">
        /// <item>the 64-bit polynomial product <c>d^2 M</c> plus its rounding term, <c>d = min(|v|, clamp) - clamp</c>: largest at
        /// v = 0 (x = 0, always an input): <c>clamp^2 M + 2^(shift-1)</c> (reached);</item>
        /// <item>the 64-bit gated value <c>v g + 2^(P-1)</c>, <c>|v| &lt; clamp</c> on that branch and <c>g &lt;= 2^P</c>;</item>
        /// <item>the INT32 input of the output requantization, <c>y 2^s</c> with y the INT32 GELU (the kernel evaluated on every
        /// one of the 256 inputs: exact) and s the requantization's left shift, non-zero when the output scale is finer than
        /// S_eff (the multiplier S_eff / S_out is 1 or more);</item>
        /// <item>its 64-bit product with M0, plus the rounding term.</item>
        /// </list>
        /// The generated code looks the 256 results up in a table the generator computed with this arithmetic; the reference
        /// interpreter runs it.
        /// </summary>
        public static OpBounds Bounds(GeluPlan plan)
        {
            int span = BoundMath.Span(plan.InputZeroPoint), k = plan.InputShift;
            long clamp = plan.ClampInt;
            BigInteger polynomial = (BigInteger)clamp * clamp * plan.PolynomialMultiplier + (BigInteger.One << (plan.PolynomialShift - 1));
            BigInteger largestV = k >= 0 ? (BigInteger)span << k : (BigInteger)((span >> -k) + 1);
            BigInteger gated = BigInteger.Min(largestV, clamp - 1) * (BigInteger.One << GeluPlan.FractionBits) + (BigInteger.One << (GeluPlan.FractionBits - 1));
            long result = 0;
            for (int q = -128; q <= 127; q++) result = Math.Max(result, Math.Abs((long)IntGelu.Gelu(q - plan.InputZeroPoint, plan)));
            int leftShift = Math.Max(plan.RequantizeShift, 0);
            BigInteger shifted = (BigInteger)result << leftShift;
            string fix = leftShift > 0
                ? $"raise the GELU's output scale: S_eff / S_out = {(plan.OutputScale / plan.Int8OutputScale).ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} is 1 or more, so the requantization shifts the result left by {Text.Int(leftShift)}"
                : "this cannot happen; please report it";
            const string Report = "this cannot happen; please report it";
            return new OpBounds(
                new IntegerBound("|d^2 M|", "the 64-bit polynomial product d^2 M", polynomial, 63, Report),
                new IntegerBound("|v g|", "the 64-bit gated value v g", gated, 63, Report),
                new IntegerBound("|y 2^s|", "the INT32 GELU y shifted left for its requantization", shifted, 31, fix),
                new IntegerBound("|y 2^s M0|", "the 64-bit requantization product", shifted * plan.RequantizeMultiplier + (1L << 30), 63, fix));
        }
    }
}
