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

        /// <summary>The integer add's constants.</summary>
        public static ResidualAddPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            try
            {
                return ResidualAddPlan.Create(c.In(node, 0), c.In(node, 1), c.Out(node));
            }
            catch (System.ArgumentOutOfRangeException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"In {((AddAttributes)node.Attributes).What}: {Text.Reason(e)}");
                return null;
            }
        }
    }
}
