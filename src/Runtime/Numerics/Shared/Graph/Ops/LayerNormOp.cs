using System.Numerics;

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

        /// <summary>
        /// Adds a LayerNorm of each row of <paramref name="input"/>; its output is named as its tensors' prefix unless
        /// <paramref name="outputName"/> says otherwise (a wide LayerNorm's, whose INT8 form takes the prefix).
        /// </summary>
        public static int LayerNorm(this GraphBuilder b, int input, string name, int origin, float epsilon = DefaultEpsilon, string? outputName = null) =>
            b.Node(OpKind.LayerNorm, name, new[] { input }, outputName ?? name, b.Value(input).Shape.ToArray(), origin, new LayerNormAttributes(epsilon));

        /// <summary>Gamma and beta folded into per-channel integers at the input and output scales.</summary>
        public static LayerNormPlan? Quantize(QuantizeContext c, GraphNode node)
        {
            int width = c.InValue(node).Columns;
            float[]? gamma = c.Weights.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { width });
            if (gamma is null || !c.Weights.OptionalFloat(node.Origin, node.Name, node.Name + ".bias", width, out float[]? beta)) return null;
            var output = c.Out(node);
            LayerNormPlan plan;
            try
            {
                plan = LayerNormPlan.Create(gamma, beta ?? new float[width], c.In(node).Scale, output.Scale, output.ZeroPoint);
            }
            catch (System.ArgumentException e)
            {
                c.Problems.Add(ModelProblem.OutOfRange, node.Origin, $"LayerNorm '{node.Name}': {Text.Reason(e)}");
                return null;
            }

            return c.Prove(node, $"LayerNorm '{node.Name}'", Bounds(plan, c.InValue(node).IsWide)) ? plan : null;
        }

        /// <summary>
        /// Whether rows of <paramref name="width"/> INT8 values need no rounding shift before their squares: while
        /// <c>|D_i| = N |q_i - mean| &lt;= 255 N</c> and <c>255 N + 1 &lt;= 2^31 / N</c>, <c>E_i = D_i</c> (N up to 2,901).
        /// </summary>
        public static bool IsExact(int width) => 255L * width + 1 <= (1L << 31) / width;

        /// <summary>
        /// The integer LayerNorm's 64-bit quantities for any row of N INT8 values (the steps of the kernel, see
        /// <c>IntLayerNorm</c>):
        /// <list type="bullet">
        /// <item><c>W = N sum E_i^2</c>: for exact rows (<see cref="IsExact"/>) <c>E_i = D_i = N q_i - sum</c>, and the sum of
        /// squares is largest for half the row at -128 and half at 127 (reached): <c>W = N^2 255^2 floor(N/2) ceil(N/2)</c>;
        /// the AVX-512 kernel's <c>N^2 sum q^2</c> and <c>N (sum q)^2</c> are at most <c>2^14 N^3</c>. Wider rows round E_i to
        /// <c>|E_i| &lt;= floor(2^31 / N)</c>, so <c>W &lt;= N^2 floor(2^31 / N)^2 &lt;= 2^62</c>.</item>
        /// <item><c>A_i = E_i N 2^m</c>, m the largest with <c>W 4^m &lt; 2^62</c>: <c>A_i^2 &lt;= N W 4^m &lt; N 2^62</c>; the AVX-512
        /// kernel forms <c>q N^2 2^m</c>, at most <c>128 N^2 2^m</c> with m largest for the smallest non-zero
        /// <c>W = N^2 (N - 1)</c> (one value off by one).</item>
        /// <item><c>A_i F</c> with the reciprocal <c>F = floor(2^(62-c) / R) &lt;= 2^(32-c)</c> (R &gt;= 2^30), plus its rounding
        /// term: below <c>2^62 + 2^(45-c)</c>.</item>
        /// <item><c>n G_i + B_i + 2^(T-1)</c> with <c>|n| &lt;= ceil(sqrt N) 2^16 + 1</c>: the plan chose T for it.</item>
        /// </list>
        /// </summary>
        /// <remarks>A wide (INT32) input row is rounded like a wide row: its differences are not bounded by 255 N.</remarks>
        public static OpBounds Bounds(LayerNormPlan plan, bool wideInput = false)
        {
            int n = plan.Width;
            BigInteger width = n, w, a, numerator = BoundMath.FloorSqrt(width << 62);
            if (IsExact(n) && !wideInput)
            {
                BigInteger half = n / 2, other = n - n / 2;
                w = BigInteger.Max(width * width * 65025 * half * other, 16384 * width * width * width);
                // The smallest non-zero W gives the largest m = (62 - bits(W)) / 2.
                int bits = n < 2 ? 0 : BitLength(width * width * (n - 1));
                int m = (62 - bits) / 2;
                a = BigInteger.Max(numerator, 128 * width * width * (BigInteger.One << m));
            }
            else
            {
                BigInteger limit = (1L << 31) / n;
                w = width * width * limit * limit;
                a = numerator;
            }

            int guard = LayerNormPlan.ReciprocalGuardBits(n);
            int normalizedShift = 62 - guard - LayerNormPlan.NormalizedFractionBits;
            BigInteger product = numerator * (BigInteger.One << (32 - guard)) + (BigInteger.One << (normalizedShift - 1));
            BigInteger normalized = (BoundMath.CeilingSqrt(width) << LayerNormPlan.NormalizedFractionBits) + 1, affine = 0;
            for (int i = 0; i < n; i++)
            {
                affine = BigInteger.Max(affine, normalized * BigInteger.Abs(plan.GammaMultiplierArray[i]) + BigInteger.Abs(plan.BetaOffsetArray[i]));
            }

            affine += BigInteger.One << (plan.OutputShift - 1);
            const string Report = "this cannot happen (the kernel scales for it); please report it";
            return new OpBounds(
                new IntegerBound("W", "the 64-bit scaled sum of squares W = N sum E_i^2", w, 63, Report),
                new IntegerBound("|A|", "the 64-bit normalization numerator A_i = E_i N 2^m", a, 63, Report),
                new IntegerBound("|A F|", "the 64-bit product of A_i and the row's reciprocal", product, 63, Report),
                new IntegerBound("|n G + B|", "the 64-bit product n G_i + B_i of the output requantization", affine, 63, Report));
        }

        private static int BitLength(BigInteger value)
        {
            int bits = 0;
            for (; value > 0; value >>= 1) bits++;
            return bits;
        }
    }
}
