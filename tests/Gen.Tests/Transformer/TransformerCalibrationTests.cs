using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Gen.Calibrate;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Interpreter;
using Gen.Tests.Calibration;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// Calibration of the transformer's activations: statistics from the traced float pass, parameters as the MLP's,
    /// the parameter file in the MLP's format, and the <c>gen-calibrate transformer</c> command that wrote the sample's.
    /// </summary>
    public sealed class TransformerCalibrationTests : IDisposable
    {
        private const int Pixels = 784;
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "gen-vit-calibrate-" + Guid.NewGuid().ToString("N"));

        public TransformerCalibrationTests() => Directory.CreateDirectory(_dir);

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static FloatModel MnistModel() => FloatModel.VisionTransformer(TransformerModels.MnistWeights(), TransformerModels.Mnist);

        [Fact]
        public void EveryActivationGetsParametersThatReconstructItsRange()
        {
            var model = MnistModel();
            var (images, _) = MnistCalibrationTests.Load();
            var calibration = ActivationCalibration.Calibrate(model, images.AsSpan(0, 300 * Pixels), new PercentileCalibrator(99.99));

            Assert.Equal(300, calibration.Samples);
            Assert.Equal(TransformerNames.Activations(TransformerModels.Mnist), calibration.Tensors.Select(t => t.Name).ToArray());
            foreach (var t in calibration.Tensors)
            {
                // The chosen range contains 0 (widened as the MLP's), lies within what was observed (or 0), and the
                // INT8 grid of the scale and zero point spans it.
                Assert.True(t.Range.Min <= 0 && t.Range.Max >= 0, $"{t.Name}: {t.Range}");
                Assert.True(t.Range.Min >= Math.Min(0, t.Statistics.Min) && t.Range.Max <= Math.Max(0, t.Statistics.Max), $"{t.Name}: {t.Range} vs observed [{t.Statistics.Min}, {t.Statistics.Max}]");
                var p = t.Parameters;
                Assert.Equal((float)((t.Range.Max - t.Range.Min) / 255), p.Scale);
                Assert.InRange(p.ZeroPoint, -128, 127);
                double low = p.Scale * (-128 - p.ZeroPoint), high = p.Scale * (127 - p.ZeroPoint);
                Assert.True(Math.Abs(low - t.Range.Min) <= p.Scale && Math.Abs(high - t.Range.Max) <= p.Scale,
                    $"{t.Name}: grid [{low}, {high}] vs range {t.Range}");
                Assert.True(t.Statistics.Min < t.Statistics.Max, t.Name);
            }

            // The input is calibrated as the MLP's: max calibration of [0, 1], scale 1/255, zero point -128.
            var input = calibration["input"];
            Assert.Equal(0.003921569f, input.Parameters.Scale);
            Assert.Equal(-128, input.Parameters.ZeroPoint);
            Assert.Equal((0.0, 1.0), (input.Range.Min, input.Range.Max));

            // GELU's output is bounded below by GELU's minimum, about -0.17.
            Assert.InRange(calibration["blocks.0.ffn.gelu"].Statistics.Min, -0.1701, -0.1);
            Assert.Equal("percentile 99.99; input max", calibration.Method);
        }

        [Fact]
        public void StatisticsSeeExactlyTheTracedValues()
        {
            var model = MnistModel();
            var (images, _) = MnistCalibrationTests.Load();
            var statistics = ActivationStatistics.Collect(model, images.AsSpan(0, 10 * Pixels), batchSize: 4);
            double min = double.PositiveInfinity, max = double.NegativeInfinity;
            long count = 0;
            for (int n = 0; n < 10; n++)
            {
                model.Run(images.AsSpan(n * Pixels, Pixels), new float[10], (name, values) =>
                {
                    if (name != "blocks.1.attn.context") return;
                    foreach (float v in values)
                    {
                        min = Math.Min(min, v);
                        max = Math.Max(max, v);
                        count++;
                    }
                });
            }

            var context = statistics["blocks.1.attn.context"];
            Assert.Equal(10 * 16 * 64, context.Count);
            Assert.Equal(count, context.Count);
            Assert.Equal(min, context.Min);
            Assert.Equal(max, context.Max);
            Assert.Equal(3, context.BatchCount); // batches of 4, 4 and 2 images
            Assert.Equal(10 * 784, statistics["input"].Count);
        }

        [Fact]
        public void TextHasTheFormatOfTheMlpCalibrationFile()
        {
            var model = MnistModel();
            var (images, _) = MnistCalibrationTests.Load();
            var calibration = ActivationCalibration.Calibrate(model, images.AsSpan(0, 50 * Pixels), new MaxCalibrator());
            string[] lines = calibration.ToText().TrimEnd('\n').Split('\n');
            Assert.Equal(calibration.Tensors.Count, lines.Length);
            Assert.Equal("input 0.003921569 -128 0 1", lines[0]);
            for (int i = 0; i < lines.Length; i++)
            {
                string[] f = lines[i].Split(' ');
                var t = calibration.Tensors[i];
                Assert.Equal(5, f.Length);
                Assert.Equal(t.Name, f[0]);
                Assert.Equal(t.Parameters.Scale, float.Parse(f[1], CultureInfo.InvariantCulture));
                Assert.Equal(t.Parameters.ZeroPoint, int.Parse(f[2], CultureInfo.InvariantCulture));
                // Max calibration: the range written is the observed one, widened to contain 0.
                Assert.Equal((float)Math.Min(0, t.Statistics.Min), float.Parse(f[3], CultureInfo.InvariantCulture));
                Assert.Equal((float)Math.Max(0, t.Statistics.Max), float.Parse(f[4], CultureInfo.InvariantCulture));
            }

            // The MLP's writer and the transformer's agree on the format: the MLP file reads back the same way.
            var mlp = File.ReadAllLines(Path.Combine(Repository.Root, "samples", "Mnist", "Data", "mnist_mlp.calibration.txt"));
            Assert.All(mlp, l => Assert.Equal(5, l.Split(' ').Length));
        }

        [Fact]
        public void CommandReproducesTheSampleCalibrationFile()
        {
            // The command documented in samples/MnistVit/Data/README.md, writing into a scratch folder.
            string mnist = Path.Combine(Repository.Root, "samples", "Mnist", "Data");
            var output = new StringWriter();
            var error = new StringWriter();
            int code = CalibrateCommand.Run(new[]
            {
                "transformer", "--weights", Path.Combine(TransformerModels.DataDirectory, "mnist_vit.safetensors"),
                "--image", "28x28x1", "--patch", "7", "--width", "64", "--layers", "blocks.0:4:128,blocks.1:4:128", "--head", "head:10",
                "--data", Path.Combine(mnist, "mnist-images.u8.gz"), "--scale-by", "1/255", "--calibration-rows", "8000",
                "--labels", Path.Combine(mnist, "mnist-labels.u8"), "--method", "percentile:99.99", "--out", _dir,
            }, output, error);
            Assert.True(code == 0, output.ToString() + error);
            Assert.Contains("Float accuracy on the held-out 2000 images: 98.25 % (1965 / 2000)", output.ToString(), StringComparison.Ordinal);

            // Byte for byte on the SIMD kernels this was written with; the scalar kernels sum in another order, which
            // moves the last digits, so compare numbers to float noise.
            var expected = File.ReadAllLines(Path.Combine(TransformerModels.DataDirectory, "mnist_vit.calibration.txt"));
            var actual = File.ReadAllLines(Path.Combine(_dir, "mnist_vit.calibration.txt"));
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                string[] e = expected[i].Split(' '), a = actual[i].Split(' ');
                Assert.Equal(e[0], a[0]);
                Assert.InRange(int.Parse(a[2], CultureInfo.InvariantCulture), int.Parse(e[2], CultureInfo.InvariantCulture) - 1, int.Parse(e[2], CultureInfo.InvariantCulture) + 1);
                foreach (int c in new[] { 1, 3, 4 })
                {
                    double ev = double.Parse(e[c], CultureInfo.InvariantCulture), av = double.Parse(a[c], CultureInfo.InvariantCulture);
                    Assert.True(Math.Abs(ev - av) <= 1e-5 * Math.Max(1e-3, Math.Abs(ev)), $"{e[0]} column {c}: {ev} in the sample file, {av} now");
                }
            }
        }

        [Fact]
        public void CommandReportsBadShapesAndMissingTensorsOnOneLine()
        {
            var (_, bytes) = TransformerModels.Random(new TransformerShape(8, 8, 1, 4, 8, "embed",
                new[] { new EncoderLayerShape("blocks.0", 2, 16) }, "norm", new[] { new HeadLayerShape("head", 3) }), 3);
            string weights = Path.Combine(_dir, "tiny.safetensors");
            File.WriteAllBytes(weights, bytes);
            string data = Path.Combine(_dir, "images.u8");
            var pixels = new byte[64 * 5];
            new Random(4).NextBytes(pixels);
            File.WriteAllBytes(data, pixels);
            void Fails(string expected, params string[] options)
            {
                var output = new StringWriter();
                var error = new StringWriter();
                var args = new[] { "transformer", "--weights", weights, "--data", data, "--out", _dir }.Concat(options).ToArray();
                Assert.Equal(2, CalibrateCommand.Run(args, output, error));
                Assert.Single(error.ToString().TrimEnd().Split('\n'));
                Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
            }

            string[] good = { "--image", "8x8x1", "--patch", "4", "--width", "8", "--layers", "blocks.0:2:16", "--head", "head:3" };
            string[] With(string option, string value)
            {
                var copy = (string[])good.Clone();
                copy[Array.IndexOf(copy, option) + 1] = value;
                return copy;
            }

            Fails("--image '8x8' is not rows x columns x channels", With("--image", "8x8"));
            Fails("--layers: 'blocks.0:2' is not prefix:heads:feed-forward", With("--layers", "blocks.0:2"));
            Fails("3 heads do not divide the width 8", With("--layers", "blocks.0:3:16"));
            Fails("'blocks.0.ffn.fc1.weight' has shape [16, 8]; the model declares [32, 8]", With("--layers", "blocks.0:2:32"));
            Fails("needs the tensor 'blocks.1.norm1.weight' of shape [8], which the weights file does not have", With("--layers", "blocks.0:2:16,blocks.1:2:16"));
            Fails("--method: Unknown calibration method 'best'", good.Concat(new[] { "--method", "best" }).ToArray());

            Fails("--scale-by is 0; it must be a positive number from 1E-06 to 1000000", good.Concat(new[] { "--scale-by", "0" }).ToArray());
            Fails("--scale-by is -1;", good.Concat(new[] { "--scale-by", "-1" }).ToArray());
            Fails("--scale-by is 1e30;", good.Concat(new[] { "--scale-by", "1e30" }).ToArray());

            var ok = new StringWriter();
            Assert.Equal(0, CalibrateCommand.Run(new[] { "transformer", "--weights", weights, "--data", data, "--out", _dir }.Concat(good).ToArray(), ok, new StringWriter()));
            string written = Path.Combine(_dir, "tiny.calibration.txt");
            Assert.Equal(TransformerNames.Activations(new TransformerShape(8, 8, 1, 4, 8, "embed",
                new[] { new EncoderLayerShape("blocks.0", 2, 16) }, "norm", new[] { new HeadLayerShape("head", 3) })).Count,
                File.ReadAllLines(written).Length);

            // Without --out the file beside the weights exists now: refused before any work, unless --force.
            File.WriteAllText(written, "kept\n");
            var error = new StringWriter();
            Assert.Equal(2, CalibrateCommand.Run(new[] { "transformer", "--weights", weights, "--data", data }.Concat(good).ToArray(), new StringWriter(), error));
            // The report beside it exists too: the verb writes the same files as the MLP's.
            Assert.Equal($"error: '{written}' exists (and 1 more of the files to write); without --out, gen-calibrate writes beside the weights only where that overwrites nothing: " +
                "pass --out <folder> to write elsewhere, or --force to overwrite.", error.ToString().TrimEnd());
            Assert.Equal("kept\n", File.ReadAllText(written));
            Assert.Equal(0, CalibrateCommand.Run(new[] { "transformer", "--weights", weights, "--data", data, "--force" }.Concat(good).ToArray(), new StringWriter(), new StringWriter()));
            Assert.NotEqual("kept\n", File.ReadAllText(written));
        }
    }
}
