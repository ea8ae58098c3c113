namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of a LayerNorm over each row: gamma <c>{name}.weight</c>, optional beta <c>{name}.bias</c>.</summary>
    /// <param name="Epsilon">The float model's epsilon (PyTorch's default 1e-5; BERT uses 1e-12). The integer LayerNorm
    /// computes the exact variance of integers, whose epsilon is far below one step.</param>
    public sealed record LayerNormAttributes(float Epsilon) : OpAttributes;

    /// <summary>The integer LayerNorm (exact mean and variance, integer square root): shape inference and quantization.</summary>
    public static class LayerNormOp
    {
        /// <summary>The epsilon of PyTorch's <c>nn.LayerNorm</c>.</summary>
        public const float DefaultEpsilon = 1e-5f;

        /// <summary>Adds a LayerNorm of each row of <paramref name="input"/>; its output is named as its tensors' prefix.</summary>
        public static int LayerNorm(this GraphBuilder b, int input, string name, int origin, float epsilon = DefaultEpsilon) =>
            b.Node(OpKind.LayerNorm, name, new[] { input }, name, b.Value(input).Shape.ToArray(), origin, new LayerNormAttributes(epsilon));

        /// <summary>Gamma and beta folded into per-channel integers at the input and output scales.</summary>
        public static LayerNormPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            int width = c.InValue(node).Columns;
            float[]? gamma = c.Weights.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { width });
            if (gamma is null || !c.Weights.OptionalFloat(node.Origin, node.Name, node.Name + ".bias", width, out float[]? beta)) return null;
            var output = c.Out(node);
            try
            {
                return LayerNormPlan.Create(gamma, beta ?? new float[width], c.In(node).Scale, output.Scale, output.ZeroPoint);
            }
            catch (System.ArgumentException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"LayerNorm '{node.Name}': {Text.Reason(e)}");
                return null;
            }
        }
    }
}
