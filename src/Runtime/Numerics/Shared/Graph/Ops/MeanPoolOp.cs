namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of the mean over the rows (a transformer's tokens).</summary>
    public sealed record MeanPoolAttributes : OpAttributes;

    /// <summary>The mean in integer form: <c>sum_t (x_t - Z_in)</c> requantized by <c>S_in / (Rows S_out)</c>.</summary>
    public sealed class MeanPoolPlan
    {
        internal MeanPoolPlan(int rows, QuantizationParameters input, QuantizationParameters output, int multiplier, int shift)
        {
            Rows = rows;
            Input = input;
            Output = output;
            Multiplier = multiplier;
            Shift = shift;
        }

        /// <summary>Rows averaged.</summary>
        public int Rows { get; }

        /// <summary>Quantization of the rows.</summary>
        public QuantizationParameters Input { get; }

        /// <summary>Quantization of the mean.</summary>
        public QuantizationParameters Output { get; }

        /// <summary>M0 of <c>S_in / (Rows S_out)</c>.</summary>
        public int Multiplier { get; }

        /// <summary>Its shift (negative is right).</summary>
        public int Shift { get; }
    }

    /// <summary>Mean pooling over rows: shape inference and quantization.</summary>
    public static class MeanPoolOp
    {
        /// <summary>Adds the mean of the rows of <paramref name="input"/>: one row.</summary>
        public static int MeanPool(this GraphBuilder b, int input, string name, int origin) =>
            b.Node(OpKind.MeanPool, name, new[] { input }, name, new[] { b.Value(input).Columns }, origin, new MeanPoolAttributes());

        /// <summary>The mean's requantization.</summary>
        public static MeanPoolPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            int rows = c.InValue(node).Rows;
            var input = c.In(node);
            var output = c.Out(node);
            if (!Requantization.TryMultiplier(input.Scale / ((double)rows * output.Scale), out int m0, out int shift, out string? why))
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, "Mean pooling: " + why);
                return null;
            }

            return new MeanPoolPlan(rows, input, output, m0, shift);
        }
    }
}
