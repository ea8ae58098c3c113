using System.Numerics;

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

            var plan = new MeanPoolPlan(rows, input, output, m0, shift);
            return c.Prove(node, "Mean pooling", Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The pooling's integers for any input: the INT32 sum <c>sum_t (x_t - Z_in)</c> of T rows, at most T times the largest
        /// |x - Z_in| (reached by rows at the far end of the zero point; the generated code starts from <c>-T Z_in</c> and adds
        /// the x_t, whose partial sums lie between that start and the total, so within the same bound), and the 64-bit
        /// requantization product <c>|sum| M0 + 2^30</c>.
        /// </summary>
        public static OpBounds Bounds(MeanPoolPlan plan)
        {
            BigInteger sum = (BigInteger)plan.Rows * BoundMath.Span(plan.Input.ZeroPoint);
            return new OpBounds(
                new IntegerBound("|sum|", "the INT32 sum of the tokens sum_t (x_t - Z_in)", sum, 31, "pool fewer tokens"),
                new IntegerBound("|sum M0|", "the 64-bit requantization product of the sum", sum * plan.Multiplier + (1L << 30), 63,
                    "this cannot happen while the sum fits; please report it"));
        }
    }
}
