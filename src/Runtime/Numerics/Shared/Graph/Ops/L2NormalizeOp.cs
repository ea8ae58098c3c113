namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of dividing each row by its Euclidean norm.</summary>
    /// <param name="Epsilon">The smallest norm divided by, as PyTorch's <c>F.normalize</c> (1e-12): a zero row stays zero.</param>
    public sealed record L2NormalizeAttributes(float Epsilon) : OpAttributes;

    /// <summary>
    /// L2 normalization of each row, <c>x / max(||x||, epsilon)</c>, as sentence-embedding models end (the
    /// <c>Normalize</c> module of sentence-transformers). The float model runs it; the integer form is not available yet,
    /// so quantizing a graph with it reports that, naming the node.
    /// </summary>
    public static class L2NormalizeOp
    {
        /// <summary>PyTorch's <c>F.normalize</c> epsilon.</summary>
        public const float DefaultEpsilon = 1e-12f;

        /// <summary>Adds the normalization of each row of <paramref name="input"/>.</summary>
        public static int L2Normalize(this GraphBuilder b, int input, string name, int origin, float epsilon = DefaultEpsilon) =>
            b.Node(OpKind.L2Normalize, name, new[] { input }, name, b.Value(input).Shape.ToArray(), origin, new L2NormalizeAttributes(epsilon));

        /// <summary>Reports that the integer form is not available (GEN010); returns null.</summary>
        public static object? Quantize(QuantizeContext c, GraphNode node)
        {
            c.Problems.Add(ModelProblem.UnsupportedType, node.Origin,
                $"'{node.Name}': the integer model has no L2 normalization yet; leave it out of the integer model and normalize the dequantized output.");
            return null;
        }
    }
}
