extern alias generator;
using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Kernels;
using Gen.Tests.Support;
using Xunit;
using AttentionEmitter = generator::Gen.Generators.Emitting.Ops.AttentionEmitter;
using G = generator::Gen.Runtime.Graph;
using GRuntime = generator::Gen.Runtime;

namespace Gen.Tests.Ops
{
    /// <summary>
    /// Each op's build-time bounds (the <c>Bounds</c> of its file in Graph/Ops) against independent checks: the integers
    /// of the kernel recomputed in BigInteger step by step (checked equal to the kernel's own result, so the oracle is the
    /// kernel's arithmetic), over adversarial inputs built to reach the stated worst case and over random ones, which must
    /// reach it (a tight bound) or stay within it (a sound one); and the shapes and scales at which a graph is refused.
    /// </summary>
    public class BoundProofTests
    {
        private static readonly byte[] NoWeights = new SafeTensorsWriter().F32("nothing", new float[1], 1).ToBytes();

        private static IntegerBound Bound(OpBounds bounds, string symbol) => bounds.All.Single(b => b.Symbol == symbol);

        private static QuantizedGraph? Quantize(ModelGraph graph, IReadOnlyDictionary<string, QuantizationParameters> parameters, ProblemList problems,
            byte[]? weights = null) =>
            QuantizedGraph.TryCreate(graph, SafeTensorsFile.Parse(weights ?? NoWeights), n => parameters[n], problems);

        private static Dictionary<string, QuantizationParameters> Parameters(float inputScale, int inputZero, float outputScale, int outputZero) =>
            new() { ["input"] = new QuantizationParameters(inputScale, inputZero), ["op"] = new QuantizationParameters(outputScale, outputZero) };

        // ---- Dense ---------------------------------------------------------------------------------------------

        [Fact]
        public void DenseAccumulatorIsReachedWithinOneStepPerWeight()
        {
            var rng = new Random(11);
            const int k = 300, n = 6;
            var weights = new float[n * k];
            for (int i = 0; i < weights.Length; i++) weights[i] = (float)(rng.NextDouble() * 2 - 1);
            for (int i = 0; i < k; i++) weights[i] = (float)rng.NextDouble(); // channel 0: every weight positive
            var bias = Enumerable.Range(0, n).Select(c => (float)(c == 0 ? 3.0 : rng.NextDouble() - 0.5)).ToArray();
            var input = new QuantizationParameters(0.02f, -128); // x - Z_in in [0, 255]
            var dense = QuantizedDense.FromFloat("fc", k, n, input, new QuantizationParameters(2f, 0), FusedActivation.None, weights, bias, true);
            var bounds = DenseOp.Bounds(dense);
            Assert.Null(bounds.FirstViolation);

            BigInteger stated = Bound(bounds, "|acc|").Worst, statedProduct = Bound(bounds, "|acc M0|").Worst, largest = 0;
            for (int c = 0; c < n; c++)
            {
                // The input that drives every product to its end of the range: x = 127 where w > 0, x = -128 (x - Z = 0) elsewhere.
                var x = Enumerable.Range(0, k).Select(i => (sbyte)(dense.Weights[c * k + i] > 0 ? 127 : -128)).ToArray();
                BigInteger acc = dense.Bias[c], absWeights = 0;
                for (int i = 0; i < k; i++)
                {
                    acc += dense.Weights[c * k + i] * (x[i] - input.ZeroPoint);
                    absWeights += Math.Abs(dense.Weights[c * k + i]);
                }

                BigInteger channelBound = 256 * absWeights + Math.Abs(dense.Bias[c]);
                Assert.True(BigInteger.Abs(acc) <= channelBound);
                Assert.True(BigInteger.Abs(acc) * dense.Multipliers[c] + (1L << 30) <= statedProduct);
                largest = BigInteger.Max(largest, channelBound);
                if (c == 0) Assert.Equal(channelBound - absWeights, acc); // all weights positive, bias positive: 255 sum |w| + bias

                // The checked reference kernel forms it without overflow.
                var y = new sbyte[n];
                ReferenceKernels.FullyConnected(x, input.ZeroPoint, dense.Weights, dense.Bias, dense.Multipliers, dense.Shifts, 0, -128, 127, y, k, n);
            }

            Assert.Equal(largest, stated);
        }

        [Fact]
        public void DenseBoundBeyondInt32IsARealOverflow()
        {
            // Pre-quantized weights of 127 over 70,000 inputs: the input at the far end of the zero point overflows the
            // checked reference kernel, so the refusal is no false alarm.
            const int k = 70000;
            var weights = Enumerable.Repeat((sbyte)127, k).ToArray();
            var input = new QuantizationParameters(1f, -128);
            var dense = new QuantizedDense("big", k, 1, input, new QuantizationParameters(1e6f, 0), FusedActivation.None, weights, new[] { 1f },
                new int[1], false);
            var failed = DenseOp.Bounds(dense).FirstViolation;
            Assert.NotNull(failed);
            Assert.Equal("|acc|", failed!.Symbol);
            Assert.Equal(new BigInteger(256L * 127 * k), failed.Worst);
            var x = Enumerable.Repeat((sbyte)127, k).ToArray();
            Assert.Throws<OverflowException>(() => ReferenceKernels.FullyConnected(x, input.ZeroPoint, dense.Weights, dense.Bias, dense.Multipliers,
                dense.Shifts, 0, -128, 127, new sbyte[1], k, 1));
        }

        // ---- Attention -----------------------------------------------------------------------------------------

        private static (AttentionPlan? Plan, ProblemList Problems) Attention(int tokens, int width, int heads, int zeroPoint, float scale = 0.05f)
        {
            var b = new GraphBuilder();
            int x = b.Input("input", tokens, width);
            var graph = b.Build(b.Attention(x, x, x, "op", heads, "op", 7));
            var problems = new ProblemList();
            var quantized = Quantize(graph, Parameters(scale, zeroPoint, 0.05f, 0), problems);
            return (quantized?.Op<AttentionPlan>(0), problems);
        }

        [Theory]
        [InlineData(5, 12, 3, -128)]
        [InlineData(16, 64, 4, -5)]
        [InlineData(25, 21, 3, 60)]
        public void AttentionScoresAndExpSumAreReachedAndTheContextStaysWithin(int tokens, int width, int heads, int zeroPoint)
        {
            var plan = Attention(tokens, width, heads, zeroPoint).Plan!;
            var bounds = AttentionOp.Bounds(plan, tokens);
            Assert.Null(bounds.FirstViolation);
            int d = plan.HeadSize, span = Math.Max(127 - zeroPoint, 128 + zeroPoint);

            // Scores: every feature at the end of the range farther from the zero point gives the largest one.
            int far = 127 - zeroPoint >= 128 + zeroPoint ? 127 : -128;
            Assert.Equal((BigInteger)d * (far - zeroPoint) * (far - zeroPoint), Bound(bounds, "|q.k|").Worst);
            var rng = new Random(tokens);
            for (int trial = 0; trial < 2000; trial++)
            {
                BigInteger score = 0;
                for (int e = 0; e < d; e++) score += (rng.Next(-128, 128) - zeroPoint) * (rng.Next(-128, 128) - zeroPoint);
                Assert.True(BigInteger.Abs(score) <= Bound(bounds, "|q.k|").Worst);
            }

            // The sum of exps: the kernel's exp(0) is its largest value, and a row of equal scores sums N of them.
            long top = IntExp.Exp(0, plan.Softmax.Exp);
            Assert.Equal((BigInteger)tokens * top, Bound(bounds, "sum exp").Worst);
            for (long x = 0; x >= -4 * plan.Softmax.Exp.Ln2Int; x -= 97) Assert.True(IntExp.Exp(x, plan.Softmax.Exp) <= top);

            // The context: sum_j (p_j + 128) from the kernel's Softmax on equal, random, one-hot and spread rows, times the
            // largest |v - Z_v|, and the exp-reciprocal products of those rows.
            BigInteger context = Bound(bounds, "|p.v|").Worst, reached = 0;
            var rows = new List<int[]> { new int[tokens], Enumerable.Range(0, tokens).Select(j => j == 0 ? 1 << 20 : 0).ToArray() };
            for (int r = 0; r < 200; r++) rows.Add(Enumerable.Range(0, tokens).Select(_ => rng.Next(-40000, 40000) >> rng.Next(0, 16)).ToArray());
            var p = new sbyte[tokens];
            foreach (var row in rows)
            {
                IntSoftmax.Softmax(row, p, plan.Softmax);
                BigInteger weights = p.Sum(v => v + 128);
                Assert.True(weights <= 256 + tokens / 2, $"sum of p + 128 is {weights}");
                reached = BigInteger.Max(reached, weights * span);
                long max = row.Max();
                long sum = row.Sum(s => IntExp.Exp(s - max, plan.Softmax.Exp));
                foreach (int s in row) Assert.True((BigInteger)IntExp.Exp(s - max, plan.Softmax.Exp) * ((1L << 62) / sum) + (1L << 53) <= Bound(bounds, "|e F|").Worst);
            }

            Assert.True(reached <= context);
            // Sound, and close: an equal row's probabilities each round by less than 1/2.
            Assert.True(reached * 100 >= context * 90, $"the context bound {context} is far above the {reached} reached");
        }

        [Fact]
        public void AttentionScoresBeyondInt32AreRefusedAtTheHeadSizeWhereTheyStopFitting()
        {
            // (q - Z)(k - Z) <= 255^2 with Z = -128: 33,025 features fit (2,147,450,625), 33,026 do not.
            Assert.Empty(Attention(2, 33025, 1, -128).Problems.All);
            var (plan, problems) = Attention(2, 33026, 1, -128);
            Assert.Null(plan);
            var problem = Assert.Single(problems.All);
            Assert.Equal(ModelProblem.IntermediateOverflow, problem.Kind);
            Assert.Equal(7, problem.Origin);
            Assert.Equal("Attention of 'op': the INT32 score sum_e (q - Z_q)(k - Z_k) can reach 2,147,515,650 for some input, beyond 2^31 - 1; " +
                "use heads of fewer features.", problem.Message);
            Assert.Equal(new[] { "Attention of 'op'", "the INT32 score sum_e (q - Z_q)(k - Z_k)", "2,147,515,650", "2^31 - 1", "use heads of fewer features" },
                problem.Arguments.ToArray());
        }

        [Fact]
        public void AttentionContextBeyondInt32IsRefusedAtTheTokenCountWhereItStopsFitting()
        {
            // 255 (256 + N / 2): N = 16,842,496 gives 2,147,483,520, two more tokens 2,147,483,775.
            Assert.Empty(Attention(16842496, 1, 1, -128).Problems.All);
            var problem = Assert.Single(Attention(16842498, 1, 1, -128).Problems.All);
            Assert.Equal(ModelProblem.IntermediateOverflow, problem.Kind);
            Assert.Contains("the INT32 context sum_j (p_j + 128)(v_j - Z_v) can reach 2,147,483,775 for some input, beyond 2^31 - 1; use fewer tokens",
                problem.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(0.05f, true)]
        [InlineData(1e-5f, false)] // S_q S_k / sqrt(d) = 5e-11: -2^30 is about -0.05 in real terms
        public void AttentionPaddingTokensGetExpZeroOnlyWhereTheGeneratorProvesIt(float scale, bool vanishes)
        {
            // The generator's proof for its AVX-512 kernel, whose padding tokens score -2^30 (5 tokens: 11 of them) ...
            var b = new G.GraphBuilder();
            int input = b.Input("input", 5, 12);
            var graph = b.Build(G.AttentionOp.Attention(b, input, input, input, "op", 3, "op", 1));
            var quantized = G.QuantizedGraph.TryCreate(graph, GRuntime.SafeTensorsFile.Parse(NoWeights),
                n => new GRuntime.QuantizationParameters(n == "input" ? scale : 0.05f, 0), new G.ProblemList())!;
            var generatorPlan = quantized.Op<G.AttentionPlan>(0);
            long scores = (long)G.AttentionOp.ScoreBound(generatorPlan);
            long largest = AttentionEmitter.PaddingInput(generatorPlan.Softmax.Exp, scores);
            Assert.Equal(vanishes, largest < 0);

            // ... against the runtime's exp kernel at the largest padding input, -2^30 + max |score|, and below it.
            var plan = Attention(5, 12, 3, 0, scale).Plan!;
            Assert.Equal(scores, (long)AttentionOp.ScoreBound(plan));
            long x = -(1L << 30) + scores;
            if (vanishes)
            {
                Assert.Equal(x, largest);
                for (long below = x; below > x - 5_000_000; below -= 4999) Assert.Equal(0, IntExp.Exp(below, plan.Softmax.Exp));
            }
            else
            {
                Assert.True(IntExp.Exp(x, plan.Softmax.Exp) > 0); // the AVX-512 kernel would have counted the padding: it is not emitted
            }
        }

        // ---- Mean pooling --------------------------------------------------------------------------------------

        private static (QuantizedGraph? Graph, ProblemList Problems) MeanPool(int rows, int zeroPoint)
        {
            var b = new GraphBuilder();
            var graph = b.Build(b.MeanPool(b.Input("input", rows, 3), "op", 4));
            var problems = new ProblemList();
            return (Quantize(graph, Parameters(0.001f, zeroPoint, 0.01f, 0), problems), problems);
        }

        [Theory]
        [InlineData(13, -128)]
        [InlineData(200, 127)]
        [InlineData(7, 3)]
        public void MeanPoolSumIsReachedByTokensAtTheFarEnd(int rows, int zeroPoint)
        {
            var plan = MeanPool(rows, zeroPoint).Graph!.Op<MeanPoolPlan>(0);
            var bounds = MeanPoolOp.Bounds(plan);
            int far = 127 - zeroPoint >= 128 + zeroPoint ? 127 : -128;
            // The generated code starts from -T Z and adds each x; every partial sum is within the bound, the last reaches it.
            BigInteger partial = -(BigInteger)rows * zeroPoint, largest = BigInteger.Abs(partial);
            for (int t = 0; t < rows; t++) largest = BigInteger.Max(largest, BigInteger.Abs(partial += far));
            Assert.Equal(largest, Bound(bounds, "|sum|").Worst);
            Assert.Equal(largest * plan.Multiplier + (1L << 30), Bound(bounds, "|sum M0|").Worst);
        }

        [Fact]
        public void MeanPoolSumBeyondInt32IsRefusedAtTheTokenCountWhereItStopsFitting()
        {
            // 255 T: 8,421,504 tokens give 2,147,483,520; one more gives 2,147,483,775.
            Assert.Empty(MeanPool(8421504, -128).Problems.All);
            var problem = Assert.Single(MeanPool(8421505, -128).Problems.All);
            Assert.Equal(ModelProblem.IntermediateOverflow, problem.Kind);
            Assert.Equal(4, problem.Origin);
            Assert.Equal("Mean pooling: the INT32 sum of the tokens sum_t (x_t - Z_in) can reach 2,147,483,775 for some input, beyond 2^31 - 1; pool fewer tokens.",
                problem.Message);
        }

        // ---- Add -----------------------------------------------------------------------------------------------

        [Theory]
        [InlineData(0.05f, -20, 0.09f, 7, 0.1f)]
        [InlineData(0.011f, -128, 0.0057f, 127, 0.012f)]
        [InlineData(1e-3f, 5, 0.5f, -3, 0.4f)]
        public void AddSumIsReachedByTheEndsOfBothRanges(float scaleA, int zeroA, float scaleB, int zeroB, float scaleOut)
        {
            var plan = ResidualAddPlan.Create(new QuantizationParameters(scaleA, zeroA), new QuantizationParameters(scaleB, zeroB),
                new QuantizationParameters(scaleOut, 0));
            var bound = Bound(AddOp.Bounds(plan), "|a M_a + b M_b + offset|");
            Assert.True(bound.Holds);
            // Every pair of INT8 inputs, in the order the generated code forms the sum.
            BigInteger largest = 0;
            for (int a = -128; a <= 127; a++)
            {
                for (int b = -128; b <= 127; b++)
                {
                    BigInteger first = (BigInteger)a * plan.MultiplierA, second = first + (BigInteger)b * plan.MultiplierB, total = second + plan.Offset;
                    largest = BigInteger.Max(largest, BigInteger.Max(BigInteger.Abs(first), BigInteger.Max(BigInteger.Abs(second), BigInteger.Abs(total))));
                    Assert.Equal(plan.Apply(a, b), (sbyte)Math.Clamp((long)(total >> plan.Shift), -128, 127));
                }
            }

            Assert.Equal(largest, bound.Worst);
        }

        // ---- LayerNorm -----------------------------------------------------------------------------------------

        /// <summary>The integer LayerNorm's steps in BigInteger (IntLayerNorm's remarks), with the largest of each quantity.</summary>
        private sealed class LayerNormOracle
        {
            public BigInteger W, A, Product, Affine;

            public sbyte[] Run(sbyte[] row, LayerNormPlan plan)
            {
                int n = row.Length, shift = plan.OutputShift;
                BigInteger sum = row.Sum(q => (long)q);
                var d = row.Select(q => n * (BigInteger)q - sum).ToArray();
                var normalized = new BigInteger[n];
                BigInteger maxAbs = d.Max(BigInteger.Abs);
                if (maxAbs != 0)
                {
                    long limit = (1L << 31) / n;
                    int s = 0;
                    while ((maxAbs >> s) + 1 > limit) s++;
                    var e = d.Select(x => s == 0 ? x : (x + (BigInteger.One << (s - 1))) >> s).ToArray();
                    BigInteger w = n * e.Aggregate(BigInteger.Zero, (acc, x) => acc + x * x);
                    W = BigInteger.Max(W, w);
                    if (w != 0)
                    {
                        int bits = 0;
                        for (var rest = w; rest > 0; rest >>= 1) bits++;
                        int m = (62 - bits) / 2;
                        BigInteger root = BoundMath.FloorSqrt(w << (2 * m));
                        int c = LayerNormPlan.ReciprocalGuardBits(n), normalizedShift = 62 - c - LayerNormPlan.NormalizedFractionBits;
                        BigInteger f = (BigInteger.One << (62 - c)) / root;
                        if (LayerNormOp.IsExact(n))
                        {
                            // The AVX-512 kernel's products q N^2 2^m and sum N 2^m.
                            foreach (sbyte q in row) A = BigInteger.Max(A, BigInteger.Abs(q * (BigInteger)n * n << m));
                            A = BigInteger.Max(A, BigInteger.Abs(sum * n << m));
                        }

                        for (int i = 0; i < n; i++)
                        {
                            BigInteger a = e[i] * n << m, product = a * f + (BigInteger.One << (normalizedShift - 1));
                            A = BigInteger.Max(A, BigInteger.Abs(a));
                            Product = BigInteger.Max(Product, BigInteger.Abs(product));
                            normalized[i] = product >> normalizedShift;
                        }
                    }
                }

                var output = new sbyte[n];
                for (int i = 0; i < n; i++)
                {
                    BigInteger affine = normalized[i] * plan.GammaMultipliers[i] + plan.BetaOffsets[i] + (BigInteger.One << (shift - 1));
                    Affine = BigInteger.Max(Affine, BigInteger.Abs(affine));
                    output[i] = (sbyte)Math.Clamp((long)(affine >> shift) + plan.OutputZeroPoint, -128, 127);
                }

                return output;
            }
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(7)]
        [InlineData(64)]
        [InlineData(200)]
        [InlineData(3000)] // wider than the exact rows: E is rounded
        public void LayerNormSumOfSquaresIsReachedAndEveryProductStaysWithin(int width)
        {
            var rng = new Random(width);
            var gamma = Enumerable.Range(0, width).Select(_ => (float)(rng.NextDouble() * 3 - 1)).ToArray();
            var beta = Enumerable.Range(0, width).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            var plan = LayerNormPlan.Create(gamma, beta, 0.02, 0.03, -4);
            var bounds = LayerNormOp.Bounds(plan);
            Assert.Null(bounds.FirstViolation);

            var rows = new List<sbyte[]>
            {
                Enumerable.Range(0, width).Select(i => (sbyte)(i % 2 == 0 ? -128 : 127)).ToArray(), // the largest variance
                Enumerable.Range(0, width).Select(i => (sbyte)(i == 0 ? -127 : -128)).ToArray(), // the smallest non-zero one
                Enumerable.Repeat((sbyte)55, width).ToArray(), // none
            };
            for (int r = 0; r < 20; r++) rows.Add(Enumerable.Range(0, width).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray());
            var oracle = new LayerNormOracle();
            var kernel = new sbyte[width];
            foreach (var row in rows)
            {
                IntLayerNorm.LayerNorm(row, kernel, plan);
                Assert.Equal(kernel, oracle.Run(row, plan)); // the oracle is the kernel's arithmetic
            }

            Assert.True(oracle.W <= Bound(bounds, "W").Worst && oracle.A <= Bound(bounds, "|A|").Worst);
            Assert.True(oracle.Product <= Bound(bounds, "|A F|").Worst && oracle.Affine <= Bound(bounds, "|n G + B|").Worst);
            if (LayerNormOp.IsExact(width) && width >= 2)
            {
                // Half the row at each end reaches the sum of squares, one value off by one the AVX-512 kernel's products.
                Assert.Equal(Bound(bounds, "W").Worst, oracle.W);
                Assert.Equal(Bound(bounds, "|A|").Worst, oracle.A);
            }
            else if (!LayerNormOp.IsExact(width))
            {
                Assert.True(Bound(bounds, "W").Worst <= BigInteger.One << 62);
            }

            // The reciprocal's product is sound and within a factor of three: the bound takes |A| < sqrt(N) 2^31 and R >= 2^30,
            // where one value apart from the rest (normalized to sqrt(N - 1)) gives about half of it.
            if (width >= 2) Assert.True(oracle.Product * 3 >= Bound(bounds, "|A F|").Worst, $"{oracle.Product} reached of {Bound(bounds, "|A F|").Worst}");
        }

        // ---- GELU ----------------------------------------------------------------------------------------------

        [Theory]
        [InlineData(0.05, -20, 0.025, 3)]
        [InlineData(0.011089152, -113, 0.019, -119)] // scales like the MNIST ViT's
        [InlineData(1e-5, 127, 1e-3, 0)] // an input finer than the working scale: a rounding right shift
        [InlineData(0.08, 0, 2e-5, -128)] // an output finer than S_eff: the requantization shifts left
        public void GeluPolynomialAndRequantizationInputAreReached(double inputScale, int inputZero, double outputScale, int outputZero)
        {
            var plan = GeluPlan.CreateInt8(inputScale, inputZero, outputScale, outputZero);
            var bounds = GeluOp.Bounds(plan);
            BigInteger polynomial = 0, gated = 0, shifted = 0, product = 0;
            int leftShift = Math.Max(plan.RequantizeShift, 0), k = plan.InputShift;
            for (int q = -128; q <= 127; q++)
            {
                // IntGelu's steps in BigInteger.
                BigInteger x = q - inputZero, v, y;
                bool polynomialBranch = true;
                if (k >= 0 && BigInteger.Abs(x) > plan.ClampInt >> k)
                {
                    y = x <= 0 ? 0 : BigInteger.Min(x << k, int.MaxValue);
                    polynomialBranch = false;
                    v = 0;
                }
                else
                {
                    v = k >= 0 ? x << k : (x + (BigInteger.One << (-k - 1))) >> -k;
                    y = v > 0 ? v : 0;
                    if (BigInteger.Abs(v) >= plan.ClampInt) polynomialBranch = false;
                }

                if (polynomialBranch)
                {
                    BigInteger d = BigInteger.Abs(v) - plan.ClampInt;
                    BigInteger p = d * d * plan.PolynomialMultiplier + (BigInteger.One << (plan.PolynomialShift - 1));
                    polynomial = BigInteger.Max(polynomial, p);
                    BigInteger h = p >> plan.PolynomialShift, g = v >= 0 ? (BigInteger.One << GeluPlan.FractionBits) - h : h;
                    BigInteger gv = v * g + (BigInteger.One << (GeluPlan.FractionBits - 1));
                    gated = BigInteger.Max(gated, BigInteger.Abs(gv));
                    y = gv >> GeluPlan.FractionBits;
                }

                Assert.Equal(IntGelu.Gelu((int)x, plan), (int)y);
                shifted = BigInteger.Max(shifted, BigInteger.Abs(y << leftShift));
                product = BigInteger.Max(product, BigInteger.Abs(y << leftShift) * plan.RequantizeMultiplier + (1L << 30));
            }

            Assert.Equal(Bound(bounds, "|d^2 M|").Worst, polynomial); // at x = 0
            Assert.True(gated <= Bound(bounds, "|v g|").Worst);
            Assert.Equal(Bound(bounds, "|y 2^s|").Worst, shifted);
            Assert.Equal(Bound(bounds, "|y 2^s M0|").Worst, product);
            Assert.Equal(leftShift > 0, inputScale == 0.08);
        }

        [Fact]
        public void GeluRequantizationThatWouldOverflowIsRefused()
        {
            // An output scale of 1e-9: S_eff / S_out is about 2^15.6, so the requantization would shift the INT32 GELU left by 16
            // (FixedPoint.MultiplyByQuantizedMultiplier throws there: the kernel cannot run).
            var b = new GraphBuilder();
            var graph = b.Build(b.Gelu(b.Input("input", 2, 3), "op", "blocks.0", 3));
            var problems = new ProblemList();
            Assert.Null(Quantize(graph, Parameters(0.05f, -20, 1e-9f, 0), problems));
            var problem = Assert.Single(problems.All);
            Assert.Equal(ModelProblem.IntermediateOverflow, problem.Kind);
            Assert.Equal(3, problem.Origin);
            Assert.StartsWith("GELU of 'blocks.0': the INT32 GELU y shifted left for its requantization can reach ", problem.Message, StringComparison.Ordinal);
            Assert.Contains("beyond 2^31 - 1; raise the GELU's output scale", problem.Message, StringComparison.Ordinal);
            var plan = GeluPlan.CreateInt8(0.05f, -20, 1e-9f, 0);
            Assert.Throws<OverflowException>(() => IntGelu.GeluInt8(127, plan));
        }

        // ---- Embedding and im2col ------------------------------------------------------------------------------

        [Fact]
        public void EmbeddingAndIm2ColIndicesEndAtTheirLastValue()
        {
            var table = Enumerable.Range(0, 7 * 5).Select(i => (float)Math.Sin(i)).ToArray();
            var b = new GraphBuilder();
            var graph = b.Build(b.Embedding(b.TokenIds("ids", 3), "embed", 7, 5, 1));
            var problems = new ProblemList();
            var model = QuantizedGraph.TryCreate(graph, SafeTensorsFile.Parse(new SafeTensorsWriter().F32("embed.weight", table, 7, 5).ToBytes()),
                n => throw new InvalidOperationException(n), problems)!;
            Assert.Equal(new BigInteger(6 * 5 + 4), Bound(model.Bounds[0], "table index").Worst);

            var a = new Im2ColAttributes(2, 9, 9, 3, 2);
            Assert.Equal(new BigInteger(Math.Max(2 * 9 * 9, a.Windows * a.WindowValues) - 1), Bound(Im2ColOp.Bounds(a), "index").Worst);
        }

        // ---- Every node states its bounds ----------------------------------------------------------------------

        [Fact]
        public void EveryNodeOfATransformerStatesItsBounds()
        {
            var model = RandomTransformer.Create(new Random(61)).Reference.Model;
            Assert.Equal(model.Graph.Nodes.Count, model.Bounds.Count);
            for (int i = 0; i < model.Bounds.Count; i++)
            {
                Assert.True(model.Bounds[i].All.Count > 0, $"node {model.Graph.Nodes[i].Name} ({model.Graph.Nodes[i].Kind}) states no bound");
                Assert.Null(model.Bounds[i].FirstViolation);
                Assert.StartsWith("Bounds (proven at build time for any input): ", model.Bounds[i].CommentLines()[0], StringComparison.Ordinal);
            }
        }

        [Fact]
        public void BoundTextGivesTheWorstCaseTheLimitAndTheHeadroom()
        {
            var bound = new IntegerBound("|acc|", "the accumulator", 1234567, 31, "fix");
            Assert.Equal("|acc| <= 1,234,567 < 2^31 (headroom 2^10.7)", bound.Text); // 31 - log2(1234567) = 10.76
            Assert.Equal("|x| <= 2,147,483,647 < 2^31 (headroom 2^0.0)", new IntegerBound("|x|", "x", int.MaxValue, 31, "").Text);
            Assert.False(new IntegerBound("|x|", "x", 1L << 31, 31, "").Holds);
            Assert.Equal("|x| <= 0 < 2^15 (headroom 2^15.0)", new IntegerBound("|x|", "x", 0, 15, "").Text);
            var lines = new OpBounds(Enumerable.Range(0, 5).Select(i => new IntegerBound("|q" + i + "|", "q", BigInteger.Pow(10, 12 + i), 63, "")).ToArray())
                .CommentLines(100);
            Assert.True(lines.Count > 1 && lines.All(l => l.Length <= 100) && lines.Skip(1).All(l => l.StartsWith("  |q", StringComparison.Ordinal)));
            Assert.EndsWith("|q4| <= 10,000,000,000,000,000 < 2^63 (headroom 2^9.8).", lines[^1], StringComparison.Ordinal);
        }
    }
}
