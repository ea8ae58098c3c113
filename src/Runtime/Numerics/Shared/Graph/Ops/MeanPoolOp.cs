using System.Numerics;

namespace Gen.Runtime.Graph
{
    /// <summary>Attributes of the mean over the rows (a transformer's tokens).</summary>
    public sealed record MeanPoolAttributes : OpAttributes;

    /// <summary>
    /// The mean in integer form: <c>sum_t (x_t - Z_in)</c> requantized by <c>S_in / (Rows S_out)</c>. A padded sequence
    /// averages only its first n rows, with the multiplier of <c>S_in / (n S_out)</c> (<see cref="Multipliers"/>).
    /// </summary>
    public sealed class MeanPoolPlan
    {
        internal MeanPoolPlan(int rows, QuantizationParameters input, QuantizationParameters output, int[] multipliers, int[] shifts)
        {
            Rows = rows;
            Input = input;
            Output = output;
            Multipliers = multipliers;
            Shifts = shifts;
            Multiplier = multipliers[rows - 1];
            Shift = shifts[rows - 1];
        }

        /// <summary>M0 of <c>S_in / (n S_out)</c> at index n - 1, for n = 1 to <see cref="Rows"/> rows averaged.</summary>
        public System.Collections.Generic.IReadOnlyList<int> Multipliers { get; }

        /// <summary>The shift of each of <see cref="Multipliers"/>.</summary>
        public System.Collections.Generic.IReadOnlyList<int> Shifts { get; }

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

        /// <summary>The mean's requantization, for every count of rows averaged up to all of them.</summary>
        public static MeanPoolPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            int rows = c.InValue(node).Rows;
            var input = c.In(node);
            var output = c.Out(node);
            var multipliers = new int[rows];
            var shifts = new int[rows];
            if (!Requantization.TryMultiplier(input.Scale / ((double)rows * output.Scale), out multipliers[rows - 1], out shifts[rows - 1], out string? why))
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, "Mean pooling: " + why);
                return null;
            }

            // Fewer rows (a padded sequence's real tokens) have a larger multiplier, which may reach 1 or more: a left shift
            // (positive) then comes first, as TensorFlow Lite's MultiplyByQuantizedMultiplier does. A sum of n INT8 values
            // shifted left by at most 15 bits stays in an int for n up to 2^8.
            for (int n = 1; n < rows; n++)
            {
                double real = input.Scale / ((double)n * output.Scale);
                FixedPoint.QuantizeMultiplier(real, out multipliers[n - 1], out shifts[n - 1]);
                if (shifts[n - 1] > 15 || ((long)255 * n << System.Math.Max(shifts[n - 1], 0)) > int.MaxValue)
                {
                    c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"Mean pooling of {Text.Int(n)} rows: the multiplier {real.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} is too large; check the activation scales.");
                    return null;
                }
            }

            var plan = new MeanPoolPlan(rows, input, output, multipliers, shifts);
            return c.Prove(node, "Mean pooling", Bounds(plan)) ? plan : null;
        }

        /// <summary>
        /// The pooling's integers for any input: the INT32 sum <c>sum_t (x_t - Z_in)</c> of n rows shifted left by the
        /// count's left shift (0 unless its multiplier reached 1), at most n times the largest |x - Z_in| times 2^left (reached
        /// by rows at the far end of the zero point; the generated code starts from <c>-n Z_in</c> and adds the x_t, whose
        /// partial sums lie between that start and the total, so within the same bound), and the 64-bit requantization
        /// product with the count's M0, the largest over every count n from 1 to all the rows.
        /// </summary>
        public static OpBounds Bounds(MeanPoolPlan plan)
        {
            BigInteger sum = 0, product = 0;
            for (int n = 1; n <= plan.Rows; n++)
            {
                BigInteger shifted = (BigInteger)n * BoundMath.Span(plan.Input.ZeroPoint) << System.Math.Max(plan.Shifts[n - 1], 0);
                if (shifted > sum) sum = shifted;
                BigInteger p = shifted * plan.Multipliers[n - 1] + (1L << 30);
                if (p > product) product = p;
            }

            return new OpBounds(
                new IntegerBound("|sum|", "the INT32 sum of the tokens sum_t (x_t - Z_in)", sum, 31, "pool fewer tokens"),
                new IntegerBound("|sum M0|", "the 64-bit requantization product of the sum", product, 63,
                    "this cannot happen while the sum fits; please report it"));
        }
    }
}
