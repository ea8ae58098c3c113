using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Nonlinear
{
    /// <summary>
    /// Gen's integer GELU, exp, Softmax and LayerNorm against the exact functions and against I-BERT's integer
    /// algorithms (<see cref="IBertReference"/>) at the same input scales: those of the MNIST vision transformer in
    /// samples/MnistVit (width 64, 16 tokens, head size 16), taken from its calibration file. Each test prints a
    /// table (run with <c>--logger "console;verbosity=detailed"</c>); docs/nonlinearities.md records the numbers.
    /// </summary>
    public class IBertComparisonTests
    {
        private const int Tokens = 16;
        private const int HeadSize = 16;
        private const int Width = 64;

        private readonly ITestOutputHelper _output;

        public IBertComparisonTests(ITestOutputHelper output) => _output = output;

        /// <summary>One fc1 -> GELU of the MNIST ViT: INT8 input and output quantization (mnist_vit.calibration.txt).</summary>
        private sealed record GeluSite(string Name, double InputScale, int InputZeroPoint, double OutputScale, int OutputZeroPoint);

        private static readonly GeluSite[] GeluSites =
        {
            new GeluSite("blocks.0", 0.030298779, 39, 0.011089152, -113),
            new GeluSite("blocks.1", 0.04705176, 26, 0.019270997, -119),
        };

        /// <summary>One attention of the MNIST ViT: q and k scales; scores are at S_q S_k / sqrt(16).</summary>
        private sealed record AttentionSite(string Name, double QueryScale, double KeyScale)
        {
            public double ScoreScale => QueryScale * KeyScale / Math.Sqrt(HeadSize);
        }

        private static readonly AttentionSite[] AttentionSites =
        {
            new AttentionSite("blocks.0", 0.020363469, 0.020829584),
            new AttentionSite("blocks.1", 0.025017437, 0.02503308),
        };

        /// <summary>A LayerNorm input of the MNIST ViT: its INT8 quantization and calibrated real range.</summary>
        private sealed record NormSite(string Name, double Scale, int ZeroPoint, double Min, double Max);

        private static readonly NormSite[] NormSites =
        {
            new NormSite("blocks.0.norm1 (embed)", 0.010852813, -6, -1.3264015, 1.4410659),
            new NormSite("blocks.1.norm1 (blocks.0.ffn.residual)", 0.012657978, 0, -1.6165107, 1.6112736),
            new NormSite("norm (blocks.1.ffn.residual)", 0.043781575, -12, -5.072665, 6.091637),
        };

        // ---------------------------------------------------------------------------------------------------------
        // GELU
        // ---------------------------------------------------------------------------------------------------------

        /// <summary>
        /// Every INT8 input (-128..127) at each fc1 -> GELU of the model, against x Phi(x) of the dequantized input:
        /// the real result before output rounding and the INT8 output after rounding to the GELU's calibrated output
        /// quantization. The I-BERT output is rounded to the same INT8 grid (round half to even, as torch.round; I-BERT
        /// itself is symmetric, so the zero point is a judgement call that gives both the same output grid).
        /// </summary>
        [Fact]
        public void GeluAtTheModelsScales()
        {
            _output.WriteLine("GELU, every INT8 input; errors against x Phi(x) (max / mean absolute)");
            _output.WriteLine($"{"site",-9} {"S_in",-11} {"method",-34} {"before rounding",-21} {"INT8 output",-21}");
            foreach (GeluSite site in GeluSites)
            {
                var gen = GeluPlan.CreateInt8(site.InputScale, site.InputZeroPoint, site.OutputScale, site.OutputZeroPoint);
                var genIBertCoefficients = GeluPlan.CreateInt8(site.InputScale, site.InputZeroPoint, site.OutputScale,
                    site.OutputZeroPoint, GeluPlan.IBertA, GeluPlan.IBertB);
                var ibert = new IBertReference.Gelu(site.InputScale);
                // Ablation: I-BERT's algorithm unchanged, but fed the input aligned to Gen's effective scale.
                int k = gen.InputShift;
                Assert.True(k >= 0);
                var ibertAligned = new IBertReference.Gelu(site.InputScale / (1L << k));

                var genStats = new GeluStats();
                var genIBertStats = new GeluStats();
                var ibertStats = new GeluStats();
                var alignedStats = new GeluStats();
                var exactRounded = new GeluStats();
                for (int q = -128; q <= 127; q++)
                {
                    int x = q - site.InputZeroPoint;
                    double exact = NonlinearReference.Gelu(site.InputScale * x);

                    genStats.Add(exact, gen.OutputScale * IntGelu.Gelu(x, gen),
                        site.OutputScale * (IntGelu.GeluInt8((sbyte)q, gen) - site.OutputZeroPoint));
                    genIBertStats.Add(exact, genIBertCoefficients.OutputScale * IntGelu.Gelu(x, genIBertCoefficients),
                        site.OutputScale * (IntGelu.GeluInt8((sbyte)q, genIBertCoefficients) - site.OutputZeroPoint));

                    double ibertReal = ibert.Real(x);
                    ibertStats.Add(exact, ibertReal, RoundToInt8(ibertReal, site));
                    double alignedReal = ibertAligned.Real((long)x << k);
                    alignedStats.Add(exact, alignedReal, RoundToInt8(alignedReal, site));
                    exactRounded.Add(exact, exact, RoundToInt8(exact, site));
                }

                Row(site, "Gen (refit a, b)", genStats);
                Row(site, "Gen with I-BERT's a, b", genIBertStats);
                Row(site, "I-BERT (published algorithm)", ibertStats);
                Row(site, $"I-BERT on input aligned by 2^{k}", alignedStats);
                Row(site, "exact GELU rounded to INT8", exactRounded);

                // Gen is far more accurate than I-BERT at these coarse INT8 input scales, before and after rounding.
                Assert.True(genStats.MaxBefore * 10 < ibertStats.MaxBefore, $"{site.Name}: {genStats.MaxBefore} vs {ibertStats.MaxBefore}");
                Assert.True(genStats.MaxAfter < ibertStats.MaxAfter, $"{site.Name}: {genStats.MaxAfter} vs {ibertStats.MaxAfter}");
                Assert.True(genStats.MeanAfter < ibertStats.MeanAfter, $"{site.Name}: {genStats.MeanAfter} vs {ibertStats.MeanAfter}");
                // The refit coefficients beat I-BERT's when both run on Gen's aligned integer path.
                Assert.True(genStats.MaxBefore < genIBertStats.MaxBefore, $"{site.Name}: {genStats.MaxBefore} vs {genIBertStats.MaxBefore}");
                // Alignment alone repairs I-BERT's algorithm: its error returns to the polynomial's own (~0.018).
                Assert.InRange(alignedStats.MaxBefore, 0.012, 0.0195);
                // Gen's requantization to INT8 adds at most half an output step to its INT32 error.
                Assert.True(genStats.MaxAfter <= genStats.MaxBefore + site.OutputScale / 2 + 1e-6, $"{site.Name}: {genStats.MaxAfter}");
            }
        }

        /// <summary>
        /// Checks that the I-BERT reference behaves as published where I-BERT was designed to run: at fine INT32 input
        /// scales (its GELU input is the fc1 accumulator) its error is the i-GELU polynomial's, published as 0.018
        /// (L-infinity), and its integer result follows the same polynomial evaluated in double. At 1e-3 the division
        /// by 2^14 leaves the erf in steps of about 0.0024 and "1" as 423 such steps (1.0008), which adds up to about
        /// 0.004 at |x| = 8 (measured 0.0218 over |x| &lt;= 8); at 1e-4 the steps are 100 times finer.
        /// </summary>
        [Theory]
        [InlineData(1e-4, 0.0180, 0.0186, 5e-4)]
        [InlineData(1e-3, 0.0180, 0.0230, 0.012)]
        public void IBertGeluReferenceMatchesItsPublishedErrorAtFineScales(double scale, double low, double high,
            double integerVsPolynomial)
        {
            var ibert = new IBertReference.Gelu(scale);
            var gen = GeluPlan.Create(scale);
            int limit = (int)Math.Round(8 / scale);
            double maxIBert = 0;
            double maxPolynomial = 0;
            double maxGen = 0;
            double maxIBertVsPolynomial = 0;
            for (int x = -limit; x <= limit; x++)
            {
                double real = scale * x;
                double exact = NonlinearReference.Gelu(real);
                double polynomial = IBertPolynomialGelu(real);
                double value = ibert.Real(x);
                maxIBert = Math.Max(maxIBert, Math.Abs(value - exact));
                maxPolynomial = Math.Max(maxPolynomial, Math.Abs(polynomial - exact));
                maxIBertVsPolynomial = Math.Max(maxIBertVsPolynomial, Math.Abs(value - polynomial));
                maxGen = Math.Max(maxGen, Math.Abs(gen.OutputScale * IntGelu.Gelu(x, gen) - exact));
            }

            _output.WriteLine($"GELU at S = {scale:G3}, |x| <= 8: I-BERT integer max {maxIBert:F5} " +
                $"(its polynomial in double {maxPolynomial:F5}, integer vs polynomial {maxIBertVsPolynomial:F5}); Gen {maxGen:F5}");
            Assert.InRange(maxPolynomial, 0.0180, 0.0183);
            Assert.InRange(maxIBert, low, high);
            Assert.True(maxIBertVsPolynomial < integerVsPolynomial, $"integer vs double polynomial {maxIBertVsPolynomial}");
            Assert.True(maxGen < maxIBert, $"Gen {maxGen} vs I-BERT {maxIBert}");
        }

        /// <summary>I-BERT's i-GELU in double: x/2 (1 + sign(t) [a (min(|t|, -b) + b)^2 + 1]), t = x / 1.4142.</summary>
        private static double IBertPolynomialGelu(double x)
        {
            double t = x / IBertReference.Gelu.K;
            double clipped = Math.Min(Math.Abs(t), -IBertReference.Gelu.B);
            double erf = Math.Sign(t) * (IBertReference.Gelu.A * (clipped + IBertReference.Gelu.B) * (clipped + IBertReference.Gelu.B) + 1);
            return x * (1 + erf) / 2;
        }

        private static double RoundToInt8(double real, GeluSite site)
        {
            double q = Math.Clamp(Math.Round(real / site.OutputScale) + site.OutputZeroPoint, -128, 127);
            return site.OutputScale * (q - site.OutputZeroPoint);
        }

        private void Row(GeluSite site, string method, GeluStats stats) =>
            _output.WriteLine($"{site.Name,-9} {site.InputScale,-11:G5} {method,-34} " +
                $"{stats.MaxBefore,9:F5} / {stats.MeanBefore,-9:F5} {stats.MaxAfter,9:F5} / {stats.MeanAfter,-9:F5}");

        private sealed class GeluStats
        {
            private int _count;
            private double _sumBefore;
            private double _sumAfter;

            public double MaxBefore { get; private set; }

            public double MaxAfter { get; private set; }

            public double MeanBefore => _sumBefore / _count;

            public double MeanAfter => _sumAfter / _count;

            public void Add(double exact, double before, double after)
            {
                double b = Math.Abs(before - exact);
                double a = Math.Abs(after - exact);
                MaxBefore = Math.Max(MaxBefore, b);
                MaxAfter = Math.Max(MaxAfter, a);
                _sumBefore += b;
                _sumAfter += a;
                _count++;
            }
        }

        // ---------------------------------------------------------------------------------------------------------
        // exp and Softmax
        // ---------------------------------------------------------------------------------------------------------

        /// <summary>
        /// The integer exp alone at the attention score scales, every integer input with real value in [-16, 0]:
        /// absolute error, and relative error for x &gt;= -5. I-BERT's value is its i-exp before the 16-bit
        /// requantization inside its Softmax.
        /// </summary>
        [Fact]
        public void ExpAtTheAttentionScales()
        {
            _output.WriteLine("exp, every integer input with S x in [-16, 0]: max absolute error / max relative error (x >= -5)");
            foreach (AttentionSite site in AttentionSites)
            {
                double scale = site.ScoreScale;
                var gen = ExpPlan.Create(scale);
                var ibert = new IBertReference.Exp(scale);
                long lowest = (long)Math.Floor(-16 / scale);
                double genAbs = 0, genRel = 0, ibertAbs = 0, ibertRel = 0;
                for (long x = 0; x >= lowest; x--)
                {
                    double exact = Math.Exp(scale * x);
                    double g = gen.OutputScale * IntExp.Exp(x, gen);
                    double i = ibert.OutputScale * ibert.Integer(x);
                    genAbs = Math.Max(genAbs, Math.Abs(g - exact));
                    ibertAbs = Math.Max(ibertAbs, Math.Abs(i - exact));
                    if (scale * x >= -5)
                    {
                        genRel = Math.Max(genRel, Math.Abs(g / exact - 1));
                        ibertRel = Math.Max(ibertRel, Math.Abs(i / exact - 1));
                    }
                }

                _output.WriteLine($"{site.Name,-9} S = {scale:G5}: Gen {genAbs:F5} / {genRel:P3}   I-BERT {ibertAbs:F5} / {ibertRel:P3}");
                // Both are their polynomials' own error at these fine scales (about 0.3% relative): I-BERT's fit,
                // exact at 0, has the smaller absolute error, Gen's the smaller relative error.
                Assert.True(genRel < 0.0033 && ibertRel < 0.0035, $"{genRel} {ibertRel}");
                Assert.True(ibertAbs < genAbs, $"I-BERT {ibertAbs} vs Gen {genAbs}");
                Assert.True(genRel < ibertRel, $"Gen {genRel} vs I-BERT {ibertRel}");
            }
        }

        /// <summary>
        /// Softmax over rows of 16 attention scores s (integers; real value S s with S = S_q S_k / sqrt(16)), the
        /// real logits drawn normal with the given standard deviation and rounded to the score grid; 10,000 rows per
        /// case, fixed seed. Both methods output probabilities at 1/256: Gen as INT8 with zero point -128
        /// (SoftmaxPlan), I-BERT with output_bit = 8. Errors are against the exact softmax of the dequantized scores.
        /// </summary>
        [Fact]
        public void SoftmaxAtTheModelsScales()
        {
            const int rows = 10_000;
            _output.WriteLine($"Softmax, {rows} rows of {Tokens} scores per case; probability errors against the exact softmax (max / mean absolute)");
            _output.WriteLine($"{"site",-9} {"S",-11} {"logit std",-9} {"Gen",-21} {"I-BERT",-21} {"exact rounded to 1/256",-21}");
            foreach (AttentionSite site in AttentionSites)
            {
                double scale = site.ScoreScale;
                var gen = SoftmaxPlan.Create(site.QueryScale * site.KeyScale, 1 / Math.Sqrt(HeadSize));
                Assert.Equal(scale, gen.Exp.InputScale, 12);
                var ibert = new IBertReference.Softmax(scale);
                foreach (double std in new[] { 1.0, 2.0, 3.0 })
                {
                    var random = new Random(1234 + (int)std);
                    var genStats = new ErrorStats();
                    var ibertStats = new ErrorStats();
                    var roundedStats = new ErrorStats();
                    var scores = new int[Tokens];
                    var wide = new long[Tokens];
                    var genOut = new sbyte[Tokens];
                    var ibertOut = new long[Tokens];
                    var real = new double[Tokens];
                    for (int row = 0; row < rows; row++)
                    {
                        for (int i = 0; i < Tokens; i++)
                        {
                            scores[i] = (int)Math.Round(std * NonlinearReference.NextNormal(random) / scale);
                            wide[i] = scores[i];
                            real[i] = scale * scores[i];
                        }

                        double[] exact = NonlinearReference.Softmax(real);
                        IntSoftmax.Softmax(scores, genOut, gen);
                        ibert.Integer(wide, ibertOut);
                        for (int i = 0; i < Tokens; i++)
                        {
                            genStats.Add(exact[i], (genOut[i] - SoftmaxPlan.OutputZeroPoint) / 256.0);
                            ibertStats.Add(exact[i], ibertOut[i] / 256.0);
                            roundedStats.Add(exact[i], Math.Min(Math.Round(exact[i] * 256), 255) / 256.0);
                        }
                    }

                    _output.WriteLine($"{site.Name,-9} {scale,-11:G5} {std,-9:F1} {genStats,-21} {ibertStats,-21} {roundedStats,-21}");
                    // Gen is at the 8-bit rounding floor; I-BERT's final floor (and its 16-bit exps) cost more.
                    Assert.True(genStats.Max < ibertStats.Max, $"{genStats} vs {ibertStats}");
                    Assert.True(genStats.Mean < ibertStats.Mean, $"{genStats} vs {ibertStats}");
                    Assert.True(genStats.Max <= roundedStats.Max + 0.001, $"{genStats} vs {roundedStats}");
                }
            }
        }

        /// <summary>
        /// Checks that the I-BERT Softmax reference behaves as published: i-exp(0) is 1 up to its constants' rounding,
        /// the polynomial part matches its double form, and its probabilities are floor(256 p) up to a unit.
        /// </summary>
        [Fact]
        public void IBertSoftmaxReferenceBehavesAsPublished()
        {
            const double scale = 1e-4;
            var exp = new IBertReference.Exp(scale);
            Assert.InRange(exp.OutputScale * exp.Integer(0), 0.9999, 1.0001);
            double maxPolynomial = 0;
            for (long x = 0; x >= (long)(-8 / scale); x -= 7)
            {
                double value = scale * x;
                int q = (int)Math.Floor(value / IBertReference.Exp.X0);
                double r = value - q * IBertReference.Exp.X0;
                double polynomial = (0.35815147 * r * r + 0.96963238 * r + 1) * Math.Pow(2, -q);
                maxPolynomial = Math.Max(maxPolynomial, Math.Abs(exp.OutputScale * exp.Integer(x) - polynomial));
            }

            _output.WriteLine($"I-BERT i-exp at S = {scale}: integer vs its polynomial in double, max {maxPolynomial:E2}");
            Assert.True(maxPolynomial < 1e-3, $"{maxPolynomial}");

            var softmax = new IBertReference.Softmax(scale);
            var random = new Random(5);
            var row = new long[Tokens];
            var output = new long[Tokens];
            var real = new double[Tokens];
            int maxFloorDifference = 0;
            for (int n = 0; n < 1000; n++)
            {
                for (int i = 0; i < Tokens; i++)
                {
                    row[i] = (long)Math.Round(2 * NonlinearReference.NextNormal(random) / scale);
                    real[i] = scale * row[i];
                }

                softmax.Integer(row, output);
                double[] exact = NonlinearReference.Softmax(real);
                long total = 0;
                for (int i = 0; i < Tokens; i++)
                {
                    total += output[i];
                    maxFloorDifference = Math.Max(maxFloorDifference, (int)Math.Abs(output[i] - Math.Floor(256 * exact[i])));
                }

                // Each probability floors, so the row sums to at most 256 and loses less than one unit per element.
                Assert.InRange(total, 256 - Tokens, 256);
            }

            _output.WriteLine($"I-BERT softmax at S = {scale}: max |out - floor(256 p)| = {maxFloorDifference}");
            Assert.True(maxFloorDifference <= 1);
        }

        private sealed class ErrorStats
        {
            private long _count;
            private double _sum;

            public double Max { get; private set; }

            public double Mean => _sum / _count;

            public void Add(double exact, double actual)
            {
                double error = Math.Abs(actual - exact);
                Max = Math.Max(Max, error);
                _sum += error;
                _count++;
            }

            public override string ToString() => $"{Max:G3} / {Mean:G3}";
        }

        // ---------------------------------------------------------------------------------------------------------
        // LayerNorm
        // ---------------------------------------------------------------------------------------------------------

        /// <summary>
        /// The normalized value (x - mean) / std of rows of 64 INT8 values against the exact value in double with no
        /// epsilon (neither integer algorithm has one; I-BERT's + 0.0001 on std_int only guards its division). Rows
        /// are drawn in real units from the calibrated range of each LayerNorm input: per-row mean N(0, 0.05 R) and
        /// std U(0.1, 0.35) R, with R = max(|min|, |max|), two outlier channels at 3x, then quantized and clamped to
        /// INT8. Both methods see the same INT8 rows; the reference is the exact normalization of the dequantized row.
        /// </summary>
        [Fact]
        public void LayerNormAtTheModelsScales()
        {
            const int rows = 2000;
            _output.WriteLine($"LayerNorm normalized value, {rows} rows of {Width}; errors against exact (x - mean) / std, eps = 0 (max / mean absolute)");
            _output.WriteLine($"{"input",-40} {"S",-11} {"Z",4} {"row std (units)",-16} {"Gen",-21} {"I-BERT",-21}");
            foreach (NormSite site in NormSites)
            {
                double range = Math.Max(Math.Abs(site.Min), Math.Abs(site.Max));
                var random = new Random(77);
                var (gen, ibert, stdLow, stdHigh) = MeasureLayerNorm(rows, site.Scale, site.ZeroPoint, random,
                    () => (0.05 * range * NonlinearReference.NextNormal(random), range * (0.1 + 0.25 * random.NextDouble())));
                _output.WriteLine($"{site.Name,-40} {site.Scale,-11:G5} {site.ZeroPoint,4} {$"{stdLow:F0} to {stdHigh:F0}",-16} {gen,-21} {ibert,-21}");
                Assert.True(gen.Max * 100 < ibert.Max, $"{site.Name}: Gen {gen} vs I-BERT {ibert}");
                Assert.True(gen.Max < 2e-5, $"{site.Name}: Gen {gen}");
            }

            // The error of both depends only on the integer rows (the scale cancels), so sweep the row spread in
            // INT8 units directly (blocks.0.norm1's quantization).
            _output.WriteLine("Row spread sweep at S = 0.010852813, Z = -6 (row std fixed, in INT8 units):");
            foreach (double units in new[] { 2.0, 4.0, 8.0, 16.0, 32.0, 64.0 })
            {
                var random = new Random(78);
                const double scale = 0.010852813;
                var (gen, ibert, _, _) = MeasureLayerNorm(rows, scale, -6, random,
                    () => (2 * scale * NonlinearReference.NextNormal(random), units * scale));
                _output.WriteLine($"{"  std " + units + " units",-40} {scale,-11:G5} {-6,4} {units,-16:F0} {gen,-21} {ibert,-21}");
                Assert.True(gen.Max < ibert.Max, $"{units} units: Gen {gen} vs I-BERT {ibert}");
            }
        }

        private (ErrorStats Gen, ErrorStats IBert, double StdLow, double StdHigh) MeasureLayerNorm(int rows,
            double scale, int zeroPoint, Random random, Func<(double Mean, double Std)> draw)
        {
            var gen = new ErrorStats();
            var ibert = new ErrorStats();
            var q = new sbyte[Width];
            var normalized = new int[Width];
            var wide = new long[Width];
            var ibertOut = new long[Width];
            var real = new double[Width];
            double stdLow = double.MaxValue, stdHigh = 0;
            double ibertScale = IBertReference.LayerNorm.OutputScale(Width);
            int maxIterations = 0;
            for (int row = 0; row < rows; row++)
            {
                var (mean, std) = draw();
                for (int i = 0; i < Width; i++)
                {
                    double x = mean + std * NonlinearReference.NextNormal(random) * (i == 5 || i == 37 ? 3 : 1);
                    q[i] = (sbyte)Math.Clamp(Math.Round(x / scale) + zeroPoint, -128, 127);
                    // I-BERT is symmetric: its integer is the dequantized value over the scale, q - Z.
                    wide[i] = q[i] - zeroPoint;
                    real[i] = scale * (q[i] - zeroPoint);
                }

                double[] exact = NonlinearReference.Normalize(real, 0);
                double rowStd = RowStd(wide);
                stdLow = Math.Min(stdLow, rowStd);
                stdHigh = Math.Max(stdHigh, rowStd);
                IntLayerNorm.Normalize(q, normalized);
                maxIterations = Math.Max(maxIterations, IBertReference.LayerNorm.Integer(wide, ibertOut));
                for (int i = 0; i < Width; i++)
                {
                    gen.Add(exact[i], normalized[i] / (double)(1 << LayerNormPlan.NormalizedFractionBits));
                    ibert.Add(exact[i], ibertOut[i] * ibertScale);
                }
            }

            Assert.True(maxIterations <= 6, $"I-BERT integer sqrt took {maxIterations} iterations");
            return (gen, ibert, stdLow, stdHigh);
        }

        private static double RowStd(long[] row)
        {
            double mean = 0;
            foreach (long v in row)
            {
                mean += v;
            }

            mean /= row.Length;
            double variance = 0;
            foreach (long v in row)
            {
                variance += (v - mean) * (v - mean);
            }

            return Math.Sqrt(variance / row.Length);
        }

        /// <summary>
        /// Checks the I-BERT LayerNorm reference: its integer square root is floor(sqrt(n)) (as its PyTorch code's
        /// floor(torch.sqrt) is), and with a wide integer spread (row std about 3000 units) its normalized values are
        /// within the budget of its own roundings: 0.5 / 3000 = 1.7e-4 from the rounded mean, plus |n| (up to about
        /// 3.5) times 1 / std_int (1 / 24000, the floored square root) and 1 / factor (1 / 89000, the floored
        /// reciprocal), about 3.6e-4 in all.
        /// </summary>
        [Fact]
        public void IBertLayerNormReferenceIsAccurateWhenRoundingIsNegligible()
        {
            var random = new Random(9);
            int maxIterations = 0;
            for (int i = 0; i < 200_000; i++)
            {
                long n = i < 100_000 ? i : (long)(random.NextDouble() * (1L << 32));
                long root = IBertReference.IntegerSqrt(n, out int iterations);
                maxIterations = Math.Max(maxIterations, iterations);
                Assert.True(root * root <= n && (root + 1) * (root + 1) > n, $"isqrt({n}) = {root}");
            }

            var row = new long[Width];
            var output = new long[Width];
            var real = new double[Width];
            double max = 0;
            for (int n = 0; n < 200; n++)
            {
                for (int i = 0; i < Width; i++)
                {
                    row[i] = (long)Math.Round(3000 * NonlinearReference.NextNormal(random)) + 1234;
                    real[i] = row[i];
                }

                IBertReference.LayerNorm.Integer(row, output);
                double[] exact = NonlinearReference.Normalize(real, 0);
                for (int i = 0; i < Width; i++)
                {
                    max = Math.Max(max, Math.Abs(output[i] * IBertReference.LayerNorm.OutputScale(Width) - exact[i]));
                }
            }

            _output.WriteLine($"I-BERT isqrt: up to {maxIterations} iterations below 2^32; LayerNorm with row std ~3000 units: max error {max:E2}");
            Assert.True(max < 3.6e-4, $"{max}");
        }
    }
}
