using System;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Chooses a layer's GEMM route from its known weights and lays the weights out for it, at compile time.
    /// <list type="bullet">
    /// <item><b>Wide</b> (always exact): INT8 activations and weights sign-extended to int16 and multiplied pairwise
    /// into int32 (<c>vpmaddwd</c>). Weights packed [N/16][K/2][16][2].</item>
    /// <item><b>Pair</b>: activations made unsigned (<c>x + 128</c>) and multiplied with the signed weights by
    /// <c>vpmaddubsw</c>, which adds adjacent products into a <i>saturating</i> int16; exact only when every adjacent
    /// pair of weights satisfies <c>255 (|w0| + |w1|) &lt;= 32767</c>, i.e. <c>|w0| + |w1| &lt;= 128</c>. Packed
    /// [N/16][K/4][16][4].</item>
    /// <item><b>Quad</b>: as Pair, but two steps are added in int16 before widening; exact when, for every int16 lane,
    /// <c>255 * (sum of the four |w| it accumulates) &lt;= 32767</c>.</item>
    /// </list>
    /// The proof is made over the whole layer (every channel), because one kernel serves all of its panels.
    /// </summary>
    internal static class KernelPacker
    {
        public const int PanelWidth = 16;

        public static int PadTo(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

        /// <summary>How many channels would pass each proof, and the route chosen.</summary>
        public static KernelRoute ChooseRoute(sbyte[] weights, int k, int n, out int pairSafeChannels, out int quadSafeChannels) =>
            Scan(weights, k, n, out pairSafeChannels, out quadSafeChannels, out _, out _);

        /// <summary>
        /// The int16 lanes of a Pair or Quad route (null for Wide, whose int16 x int16 pairs go straight into int32): a lane
        /// adds <c>(x + 128) w</c> over one adjacent pair of weights (two pairs, from two steps, for Quad) with
        /// <c>x + 128</c> in [0, 255], so it stays within 255 times the largest sum of |w| it adds, over the whole layer.
        /// </summary>
        public static IntegerBound? LaneBound(sbyte[] weights, int k, int n, KernelRoute route)
        {
            Scan(weights, k, n, out _, out _, out int pair, out int quad);
            if (route == KernelRoute.Wide) return null;
            return new IntegerBound("|int16 lane|", "an int16 lane of the u8 x s8 products", 255L * (route == KernelRoute.Quad ? quad : pair), 15,
                "this cannot happen (the route is chosen for it); please report it");
        }

        // One pass over the weights: the channels that pass each proof and the largest |w| sums of a pair and of a quad.
        private static KernelRoute Scan(sbyte[] weights, int k, int n, out int pairSafeChannels, out int quadSafeChannels,
            out int largestPair, out int largestQuad)
        {
            pairSafeChannels = 0;
            quadSafeChannels = 0;
            largestPair = 0;
            largestQuad = 0;
            int kq = PadTo(k, 8);
            for (int c = 0; c < n; c++)
            {
                bool pair = true, quad = true;
                for (int g = 0; g < kq; g += 8)
                {
                    // One 8-value block: steps g (k = g..g+3) and g+4; int16 lane j of a step holds the pair
                    // (g+2j, g+2j+1); adding two steps puts (g+2j, g+2j+1, g+4+2j, g+5+2j) in one lane.
                    for (int j = 0; j < 2; j++)
                    {
                        int a = Abs(weights, c, k, g + 2 * j) + Abs(weights, c, k, g + 2 * j + 1);
                        int b = Abs(weights, c, k, g + 4 + 2 * j) + Abs(weights, c, k, g + 5 + 2 * j);
                        if (a > 128 || b > 128) pair = false;
                        if (255 * (a + b) > short.MaxValue) quad = false;
                        largestPair = Math.Max(largestPair, Math.Max(a, b));
                        largestQuad = Math.Max(largestQuad, a + b);
                    }
                }

                if (pair) pairSafeChannels++;
                if (pair && quad) quadSafeChannels++;
            }

            return quadSafeChannels == n ? KernelRoute.Quad : pairSafeChannels == n ? KernelRoute.Pair : KernelRoute.Wide;
        }

        /// <summary>K values per int32 lane step of the route's packing (2 for Wide, 4 for Pair and Quad).</summary>
        public static int Group(KernelRoute route) => route == KernelRoute.Wide ? 2 : 4;

        /// <summary>K padded as the route's kernel needs it (zero weights fill the padding).</summary>
        public static int PaddedK(KernelRoute route, int k) => route == KernelRoute.Wide ? PadTo(k, 2) : route == KernelRoute.Pair ? PadTo(k, 4) : PadTo(k, 8);

        /// <summary>Weights in panels of 16 output channels: [N/16][Kp/g][16][g], zero-padded in N and K.</summary>
        public static sbyte[] Pack(sbyte[] weights, int k, int n, KernelRoute route)
        {
            int g = Group(route), kp = PaddedK(route, k), np = PadTo(n, PanelWidth);
            var packed = new sbyte[np * kp];
            for (int c = 0; c < n; c++)
            {
                int panel = c / PanelWidth, lane = c % PanelWidth;
                for (int i = 0; i < k; i++)
                {
                    int step = i / g, within = i % g;
                    packed[((panel * (kp / g) + step) * PanelWidth + lane) * g + within] = weights[c * k + i];
                }
            }

            return packed;
        }

        /// <summary>
        /// The bias with every compile-time term folded in, padded to whole panels: for Wide, <c>bias - Z_in sum w</c>;
        /// for Pair and Quad, whose activations are <c>x + 128</c>, <c>bias - (Z_in + 128) sum w</c>.
        /// </summary>
        public static int[] FoldBias(QuantizedDense layer, KernelRoute route)
        {
            int offset = layer.Input.ZeroPoint + (route == KernelRoute.Wide ? 0 : 128);
            var folded = new int[PadTo(layer.OutputSize, PanelWidth)];
            for (int c = 0; c < layer.OutputSize; c++)
            {
                // Within int range: |bias| + 255 sum |w| is below the accumulator bound the planner checked.
                folded[c] = checked((int)(layer.Bias[c] - offset * layer.WeightSum(c)));
            }

            return folded;
        }

        /// <summary>Per-channel values padded to whole panels (the padding repeats a harmless value).</summary>
        public static int[] PadPerChannel(int[] values, int n, int fill)
        {
            var padded = new int[PadTo(n, PanelWidth)];
            for (int c = 0; c < padded.Length; c++) padded[c] = c < values.Length ? values[c] : fill;
            return padded;
        }

        /// <summary>
        /// The layout the ARM64 kernels read (<c>sdot</c>, or <c>smull</c> + <c>sadalp</c> without the dot product): signed
        /// activations against the weights in the 4-value layout [N/16][Kp/4][16][4], so that one 16-byte load holds four
        /// channels x four inputs, exactly one <c>sdot</c> lane quadruplet each. A Pair or Quad layer's own weights are
        /// already in that layout; a Wide layer reuses its AVX-VNNI copy when it has one, else it gets a copy of its own
        /// (<paramref name="weights"/> non-null). The bias folds only the input zero point (<c>bias - Z_in sum w</c>),
        /// which is a Wide layer's own bias; Pair and Quad layers get that bias as a copy (<paramref name="bias"/>
        /// non-null). <paramref name="paddedK"/> is K as those weights are padded.
        /// </summary>
        public static void ArmLayout(DenseLayerPlan layer, out sbyte[]? weights, out int[]? bias, out int paddedK)
        {
            bool wide = layer.Route == KernelRoute.Wide;
            paddedK = wide ? PaddedK(KernelRoute.Pair, layer.InputSize) : layer.PaddedInputSize;
            weights = null;
            bias = null;
            if (wide && !layer.HasVnniCopy)
            {
                // Unpack [N/16][Kp/2][16][2] to [N][K] and pack again with groups of four.
                int k = layer.InputSize, n = layer.OutputSize, kp2 = layer.PaddedInputSize;
                var packed = layer.PackedWeights.AsArray();
                var plain = new sbyte[n * k];
                for (int c = 0; c < n; c++)
                {
                    for (int i = 0; i < k; i++)
                    {
                        plain[c * k + i] = packed[(((c / PanelWidth) * (kp2 / 2) + i / 2) * PanelWidth + c % PanelWidth) * 2 + i % 2];
                    }
                }

                weights = Pack(plain, k, n, KernelRoute.Pair);
            }

            if (!wide)
            {
                // The layer's bias folds (Z_in + 128) sum w for unsigned activations; add 128 sum w back, from the packed weights.
                var packed = layer.PackedWeights.AsArray();
                var folded = layer.PackedBias.AsArray();
                int kp = layer.PaddedInputSize;
                bias = new int[folded.Length];
                for (int c = 0; c < folded.Length; c++)
                {
                    long sum = 0;
                    if (c < layer.OutputSize)
                    {
                        for (int i = 0; i < kp; i++) sum += packed[(((c / PanelWidth) * (kp / 4) + i / 4) * PanelWidth + c % PanelWidth) * 4 + i % 4];
                    }

                    bias[c] = checked((int)(folded[c] + 128 * sum));
                }
            }
        }

        private static int Abs(sbyte[] weights, int c, int k, int i) => i < k ? Math.Abs(weights[c * k + i]) : 0;
    }
}
