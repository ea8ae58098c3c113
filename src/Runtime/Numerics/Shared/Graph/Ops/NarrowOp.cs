using System;
using System.Globalization;

namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of narrowing a wide value to INT8.</summary>
    public sealed record NarrowAttributes : OpAttributes;

    /// <summary>
    /// The requantization of a wide value (INT32 at scale S_in, zero point 0) to INT8 at the calibrated S_out and Z_out:
    /// <c>q = clamp(Z_out + MBQM(x, M0, shift), -128, 127)</c>, TensorFlow Lite's <c>MultiplyByQuantizedMultiplier</c> of
    /// <c>S_in / S_out</c>, the dense layer's requantization.
    /// </summary>
    /// <param name="Input">The wide input's quantization.</param>
    /// <param name="Output">The INT8 output's quantization.</param>
    /// <param name="Multiplier">M0 of <c>S_in / S_out</c>.</param>
    /// <param name="Shift">Its shift (never positive).</param>
    public sealed record NarrowPlan(QuantizationParameters Input, QuantizationParameters Output, int Multiplier, int Shift)
    {
        /// <summary>One value.</summary>
        public sbyte Apply(int x)
        {
            long q = (long)FixedPoint.MultiplyByQuantizedMultiplier(x, Multiplier, Shift) + Output.ZeroPoint;
            return (sbyte)(q < -128 ? -128 : q > 127 ? 127 : q);
        }

        /// <summary>The narrowing as comments describe it.</summary>
        public string Description => string.Format(CultureInfo.InvariantCulture,
            "M0 = {0}, shift = {1}: S_in / S_out = {2:R} / {3:R}; Z_out = {4}", Multiplier, Shift, Input.Scale, Output.Scale, Output.ZeroPoint);
    }

    /// <summary>
    /// Narrowing a wide value to INT8: the residual stream stays wide, and the matrix products read it as INT8 at a scale
    /// calibrated for it. In float it is the identity.
    /// </summary>
    public static class NarrowOp
    {
        /// <summary>Adds the INT8 form of the wide value <paramref name="input"/>, named <paramref name="outputName"/>.</summary>
        public static int Narrow(this GraphBuilder b, int input, string name, string outputName, int origin) =>
            b.Node(OpKind.Narrow, name, new[] { input }, outputName, b.Value(input).Shape.ToArray(), origin, new NarrowAttributes());

        /// <summary>The multiplier S_in / S_out, which must be below 1.</summary>
        public static NarrowPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            var input = c.In(node);
            var output = c.Out(node);
            if (!Requantization.TryMultiplier((double)input.Scale / output.Scale, out int m0, out int shift, out string? problem))
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"Narrowing '{c.InValue(node).Name}' to INT8: {problem}");
                return null;
            }

            var plan = new NarrowPlan(input, output, m0, shift);
            return c.Prove(node, $"Narrowing '{c.InValue(node).Name}'", Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The 64-bit product of the requantization, <c>|x| M0 + 2^30</c> for any INT32 x: below 2^62 since M0 &lt; 2^31.
        /// </summary>
        public static OpBounds Bounds(NarrowPlan plan) =>
            new OpBounds(new IntegerBound("|x M0|", "the 64-bit requantization product x M0 + 2^30", ((long)1 << 31) * plan.Multiplier + (1L << 30), 63,
                "this cannot happen (M0 is below 2^31); please report it"));
    }
}
