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
            try
            {
                return GeluPlan.CreateInt8(input.Scale, input.ZeroPoint, output.Scale, output.ZeroPoint);
            }
            catch (System.ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"GELU of '{((GeluAttributes)node.Attributes).Part}': {Text.Reason(e)}");
                return null;
            }
        }
    }
}
