using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Interpreter;
using Gen.Tests.Calibration;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// The float32 vision transformer against PyTorch (the sample's reference logits and held-out accuracy) and
    /// against an independent double-precision forward pass on random weights.
    /// </summary>
    public class FloatTransformerTests
    {
        // train_vit.py prints the held-out accuracy of the checked-in weights: 1965 of the 2,000 held-out digits.
        private const int PyTorchHeldOutCorrect = 1965;
        private const int Pixels = 784, Training = 8000;

        private readonly ITestOutputHelper _output;

        public FloatTransformerTests(ITestOutputHelper output) => _output = output;

        // Two layers, a 2-channel 8 x 12 image cut into 6 patches (not a multiple of the 4-row kernel block), 2 heads of 4
        // features (narrower than a vector) and a two-layer head with a ReLU.
        private static readonly TransformerShape SmallShape = new(8, 12, 2, 4, 8, "patch",
            new[] { new EncoderLayerShape("enc.a", 2, 16), new EncoderLayerShape("enc.b", 2, 12) },
            "final", new[] { new HeadLayerShape("cls.0", 6, FusedActivation.Relu), new HeadLayerShape("cls.1", 3) });

        // The shape the brief of the random test names: 8x8x1 image, patch 4, width 8, 2 heads, 1 layer.
        private static readonly TransformerShape TinyShape = new(8, 8, 1, 4, 8, "embed",
            new[] { new EncoderLayerShape("blocks.0", 2, 16) }, "norm", new[] { new HeadLayerShape("head", 3) });

        [Fact]
        public void ReproducesThePyTorchLogitsOfTheSample()
        {
            var model = FloatModel.VisionTransformer(TransformerModels.MnistWeights(), TransformerModels.Mnist);
            var (images, labels) = MnistCalibrationTests.Load();
            var logits = new float[10];
            var reference = TransformerModels.ReferenceLogits();
            Assert.Equal(8, reference.Count);
            double worst = 0;
            foreach (var (index, label, expected) in reference)
            {
                Assert.Equal(labels[index], label);
                model.Run(images.AsSpan(index * Pixels, Pixels), logits);
                for (int j = 0; j < 10; j++)
                {
                    worst = Math.Max(worst, Math.Abs(logits[j] - expected[j]));
                    Assert.True(Math.Abs(logits[j] - expected[j]) <= 1e-4, $"digit {index} logit {j}: {logits[j]} vs PyTorch {expected[j]}");
                }
            }

            _output.WriteLine($"largest difference from PyTorch: {worst:E2}");
        }

        [Fact]
        public void HeldOutAccuracyEqualsPyTorch()
        {
            var model = FloatModel.VisionTransformer(TransformerModels.MnistWeights(), TransformerModels.Mnist);
            var (images, labels) = MnistCalibrationTests.Load();
            var logits = new float[10];
            int correct = 0, count = labels.Length - Training;
            for (int n = Training; n < labels.Length; n++)
            {
                model.Run(images.AsSpan(n * Pixels, Pixels), logits);
                correct += ArgMax(logits) == labels[n] ? 1 : 0;
            }

            _output.WriteLine($"C# float32 held-out accuracy: {correct} / {count} ({100.0 * correct / count:F2} %)");
            Assert.Equal(2000, count);
            Assert.InRange(correct, PyTorchHeldOutCorrect - 1, PyTorchHeldOutCorrect + 1);
        }

        [Fact]
        public void TraceReportsEveryActivationInOrderWithItsLength()
        {
            var shape = TransformerModels.Mnist;
            var model = FloatModel.VisionTransformer(TransformerModels.MnistWeights(), shape);
            var (images, _) = MnistCalibrationTests.Load();
            var seen = new List<(string Name, int Length)>();
            var logits = new float[10];
            float[]? head = null;
            model.Run(images.AsSpan(0, Pixels), logits, (name, values) =>
            {
                seen.Add((name, values.Length));
                if (name == "head") head = values.ToArray();
            });

            Assert.Equal(TransformerNames.Activations(shape), seen.Select(s => s.Name).ToArray());
            Assert.Equal(model.ActivationNames, seen.Select(s => s.Name).ToArray());
            foreach (var (name, length) in seen)
            {
                int expected = name switch
                {
                    "input" => 784,
                    "pool" => 64,
                    "head" => 10,
                    _ when name.EndsWith(".ffn.fc1", StringComparison.Ordinal) || name.EndsWith(".ffn.gelu", StringComparison.Ordinal) => 16 * 128,
                    _ => 16 * 64,
                };
                Assert.True(expected == length, $"{name}: {length} values, expected {expected}");
            }

            // The traced head is what Run returns, and tracing does not change the result.
            Assert.Equal(logits, head);
            var plain = new float[10];
            model.Run(images.AsSpan(0, Pixels), plain);
            Assert.Equal(logits, plain);
        }

        [Fact]
        public void TracedActivationsFollowTheFormulas()
        {
            // Spot checks between neighbouring activations: GELU of fc1, residual sums, pool = mean of the final norm.
            var shape = TransformerModels.Mnist;
            var model = FloatModel.VisionTransformer(TransformerModels.MnistWeights(), shape);
            var (images, _) = MnistCalibrationTests.Load();
            var values = new Dictionary<string, float[]>();
            model.Run(images.AsSpan(5 * Pixels, Pixels), new float[10], (name, v) => values[name] = v.ToArray());

            var fc1 = values["blocks.1.ffn.fc1"];
            var gelu = values["blocks.1.ffn.gelu"];
            for (int i = 0; i < fc1.Length; i++)
            {
                double x = fc1[i], expected = 0.5 * x * (1 + Gen.Tests.Nonlinear.NonlinearReference.Erf(x / Math.Sqrt(2)));
                Assert.True(Math.Abs(gelu[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(x)), $"GELU({x}) = {gelu[i]}, expected {expected}");
            }

            var before = values["blocks.0.attn.residual"];
            var fc2 = values["blocks.0.ffn.fc2"];
            var after = values["blocks.0.ffn.residual"];
            for (int i = 0; i < after.Length; i++) Assert.Equal(before[i] + fc2[i], after[i]);

            var norm = values["norm"];
            var pool = values["pool"];
            for (int f = 0; f < 64; f++)
            {
                double mean = 0;
                for (int t = 0; t < 16; t++) mean += norm[t * 64 + f] / 16.0;
                Assert.True(Math.Abs(pool[f] - mean) <= 1e-6, $"pool[{f}] = {pool[f]}, mean {mean}");
            }
        }

        [Theory]
        [InlineData(1, false, false)]
        [InlineData(2, true, true)]
        [InlineData(3, false, true)]
        public void MatchesANaiveDoublePrecisionForwardPassOnRandomWeights(int seed, bool linearPatch, bool batchedPosition)
        {
            foreach (var shape in new[] { TinyShape, SmallShape })
            {
                var (tensors, bytes) = TransformerModels.Random(shape, seed, linearPatch, batchedPosition);
                var model = FloatModel.VisionTransformer(SafeTensorsFile.Parse(bytes), shape);
                var rng = new Random(seed * 7 + 1);
                var logits = new float[shape.OutputSize];
                for (int n = 0; n < 20; n++)
                {
                    var image = TransformerModels.RandomImage(shape, rng);
                    model.Run(image, logits);
                    double[] expected = NaiveTransformer.Run(shape, tensors, image);
                    double scale = Math.Max(1e-3, expected.Max(Math.Abs));
                    for (int j = 0; j < expected.Length; j++)
                    {
                        Assert.True(Math.Abs(logits[j] - expected[j]) <= 1e-4 * scale,
                            $"{shape}, seed {seed}, image {n}, output {j}: {logits[j]} vs {expected[j]}");
                    }
                }
            }
        }

        [Fact]
        public void ErfIsWithinHalfAMillionthOfTheExactValue()
        {
            double worst = 0;
            for (int i = -60000; i <= 60000; i++)
            {
                float x = i / 10000f;
                worst = Math.Max(worst, Math.Abs(FloatModel.Erf(x) - Gen.Tests.Nonlinear.NonlinearReference.Erf(x)));
            }

            _output.WriteLine($"largest erf error on [-6, 6]: {worst:E2}");
            Assert.True(worst < 5e-7, $"erf error {worst}");
            Assert.Equal(0f, FloatModel.Gelu(0f));
            Assert.InRange(FloatModel.Gelu(-20f), -1e-5f, 0f);
            Assert.InRange(FloatModel.Gelu(20f), 20f - 1e-5f, 20f);
        }

        [Fact]
        public void WrongSpanLengthsThrowWithTheExpectedSizes()
        {
            var (_, bytes) = TransformerModels.Random(TinyShape, 5);
            var model = FloatModel.VisionTransformer(SafeTensorsFile.Parse(bytes), TinyShape);
            var image = new float[64];
            var e = Assert.Throws<ArgumentException>(() => model.Run(new float[63], new float[3]));
            Assert.Contains("63 values", e.Message);
            Assert.Contains("samples of 64", e.Message);
            Assert.Equal("input", e.ParamName);
            e = Assert.Throws<ArgumentException>(() => model.Run(image, new float[4]));
            Assert.Contains("4 values", e.Message);
            Assert.Contains("write 3", e.Message);
            Assert.Equal("output", e.ParamName);
        }

        [Fact]
        public void MissingOrMisShapedTensorsAreNamedWithTheShapeExpected()
        {
            var (_, missing) = TransformerModels.Random(TinyShape, 5, skip: "blocks.0.attn.k.weight");
            var e = Assert.ThrowsAny<ArgumentException>(() => FloatModel.VisionTransformer(SafeTensorsFile.Parse(missing), TinyShape));
            Assert.Contains("needs the tensor 'blocks.0.attn.k.weight'", e.Message);
            Assert.Contains("[8, 8]", e.Message);

            // The file is for a wider feed-forward block than the shape declares.
            var wide = new TransformerShape(8, 8, 1, 4, 8, "embed", new[] { new EncoderLayerShape("blocks.0", 2, 32) }, "norm",
                new[] { new HeadLayerShape("head", 3) });
            var (_, bytes) = TransformerModels.Random(TinyShape, 5);
            e = Assert.ThrowsAny<ArgumentException>(() => FloatModel.VisionTransformer(SafeTensorsFile.Parse(bytes), wide));
            Assert.Contains("'blocks.0.ffn.fc1.weight' has shape [16, 8]", e.Message);
            Assert.Contains("declares [32, 8]", e.Message);

            // A patch size that does not match the embedding weight names both accepted forms.
            var patch2 = new TransformerShape(8, 8, 1, 2, 8, "embed", TinyShape.Layers, "norm", TinyShape.Head);
            e = Assert.ThrowsAny<ArgumentException>(() => FloatModel.VisionTransformer(SafeTensorsFile.Parse(bytes), patch2));
            Assert.Contains("'embed.weight' has shape [8, 1, 4, 4]", e.Message);
            Assert.Contains("[8, 4] or [8, 1, 2, 2]", e.Message);

            // An inconsistent shape is reported before any tensor is read.
            var badHeads = new TransformerShape(8, 8, 1, 4, 8, "embed", new[] { new EncoderLayerShape("blocks.0", 3, 16) }, "norm", TinyShape.Head);
            e = Assert.ThrowsAny<ArgumentException>(() => FloatModel.VisionTransformer(SafeTensorsFile.Parse(bytes), badHeads));
            Assert.Contains("3 heads do not divide the width 8", e.Message);
        }

        [Fact]
        public void RunAllocatesNothing()
        {
            var model = FloatModel.VisionTransformer(TransformerModels.MnistWeights(), TransformerModels.Mnist);
            var image = new float[Pixels];
            var logits = new float[10];
            model.Run(image, logits);
            // A call that allocates shows in every window of 100 calls. The runtime itself can allocate once in a while
            // on this thread (when tiered compilation replaces a method under load), so one clean window out of five
            // is the proof; all five dirty fails.
            var windows = new List<long>();
            for (int window = 0; window < 5; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 100; i++) model.Run(image, logits);
                windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
                if (windows[^1] == 0) break;
            }

            Assert.True(windows[^1] == 0, "bytes allocated per window of 100 calls: " + string.Join(", ", windows));
        }

        private static int ArgMax(ReadOnlySpan<float> values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
            return best;
        }
    }
}
