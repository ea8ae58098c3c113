using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Gen.Calibrate;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Calibration
{
    /// <summary>
    /// The gen-calibrate command run in process: its error paths, and a new model going from float weights and
    /// sample inputs through calibration to generated integer-only code without a hand-typed scale.
    /// </summary>
    public sealed class CalibrateCommandTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "gen-calibrate-" + Guid.NewGuid().ToString("N"));

        public CalibrateCommandTests() => Directory.CreateDirectory(_dir);

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        public delegate void RunRow(ReadOnlySpan<sbyte> input, Span<sbyte> output);

        public delegate void QuantizeInput(ReadOnlySpan<float> input, Span<sbyte> output);

        private static (int Code, string Out, string Err) Run(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = CalibrateCommand.Run(args, output, error);
            return (code, output.ToString(), error.ToString());
        }

        // A new model: 12 inputs, 24 hidden (ReLU), 3 classes; the label is a known function of the input so that
        // the float model, built by hand, classifies well.
        private (string Weights, string Data, string Labels, float[] Rows, byte[] LabelBytes) NewModel(int rows = 600)
        {
            var rng = new Random(11);
            int k = 12, h = 24, c = 3;
            var w1 = new float[h * k];
            var b1 = new float[h];
            var w2 = new float[c * h];
            for (int i = 0; i < w1.Length; i++) w1[i] = (float)(rng.NextDouble() - 0.5);
            for (int i = 0; i < b1.Length; i++) b1[i] = (float)(rng.NextDouble() * 0.1);
            for (int i = 0; i < w2.Length; i++) w2[i] = (float)(rng.NextDouble() - 0.5);
            byte[] weights = new SafeTensorsWriter().F32("fc1.weight", w1, h, k).F32("fc1.bias", b1, h).F32("fc2.weight", w2, c, h).ToBytes();
            string weightsPath = Path.Combine(_dir, "tiny.safetensors");
            File.WriteAllBytes(weightsPath, weights);

            var data = new byte[rows * k];
            rng.NextBytes(data);
            var floats = data.Select(b => b / 255f).ToArray();
            var model = Gen.Runtime.Interpreter.FloatModel.FromSafeTensors(Gen.Runtime.SafeTensorsFile.Parse(weights),
                Gen.Runtime.Interpreter.DenseLayerSpec.ParseList("fc1:24:relu,fc2:3"));
            var logits = model.Run(floats);
            var labels = new byte[rows];
            for (int r = 0; r < rows; r++) labels[r] = (byte)Enumerable.Range(0, c).OrderByDescending(j => logits[r * c + j]).First();
            string dataPath = Path.Combine(_dir, "rows.u8");
            File.WriteAllBytes(dataPath, data);
            string labelsPath = Path.Combine(_dir, "labels.u8");
            File.WriteAllBytes(labelsPath, labels);
            return (weightsPath, dataPath, labelsPath, floats, labels);
        }

        [Fact]
        public void MissingFilesTensorsAndBadOptionsAreOneLineErrors()
        {
            var m = NewModel(50);
            var common = new[] { "--data", m.Data, "--scale-by", "1/255", "--out", _dir };
            void Fails(string expected, params string[] args)
            {
                var (code, _, err) = Run(args);
                Assert.Equal(2, code);
                Assert.StartsWith("error: ", err, StringComparison.Ordinal);
                Assert.Single(err.TrimEnd().Split('\n'));
                Assert.Contains(expected, err, StringComparison.Ordinal);
            }

            Fails("not found", new[] { "--weights", Path.Combine(_dir, "nope.safetensors"), "--layers", "fc1:24:relu,fc2:3" }.Concat(common).ToArray());
            Fails("needs the tensor 'fc3.weight'", new[] { "--weights", m.Weights, "--layers", "fc1:24:relu,fc3:3" }.Concat(common).ToArray());
            Fails("has shape [3, 24]; the model declares [4, 24]", new[] { "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:4" }.Concat(common).ToArray());
            Fails("--row-size is 10", new[] { "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--row-size", "10" }.Concat(common).ToArray());
            Fails("Unknown calibration method 'best'", new[] { "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--method", "best" }.Concat(common).ToArray());
            Fails("activation 'tanh'", new[] { "--weights", m.Weights, "--layers", "fc1:24:tanh,fc2:3" }.Concat(common).ToArray());
            Fails("'x/0' is not a finite number or a fraction", "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", m.Data, "--scale-by", "x/0");
            Fails("--weights", "--layers", "fc1:24:relu,fc2:3", "--data", m.Data);
            Fails("Data file", "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", Path.Combine(_dir, "none.u8"));
            File.WriteAllBytes(Path.Combine(_dir, "odd.u8"), new byte[13]);
            Fails("not a whole number of rows of 12", "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", Path.Combine(_dir, "odd.u8"));
            File.WriteAllBytes(Path.Combine(_dir, "short.labels"), new byte[3]);
            Fails("3 labels for 50 data rows", new[] { "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--labels", Path.Combine(_dir, "short.labels") }.Concat(common).ToArray());
        }

        [Theory]
        [InlineData("0")]
        [InlineData("-1")]
        [InlineData("1e30")]
        [InlineData("1/1e9")]
        [InlineData("NaN")]
        [InlineData("1e400")]
        public void ScaleByMustBeAPositiveNumberInASaneRange(string value)
        {
            var m = NewModel(50);
            var (code, _, err) = Run("--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", m.Data, "--scale-by", value, "--out", _dir);
            Assert.Equal(2, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            string expected = value is "NaN" or "1e400"
                ? $"error: --scale-by: '{value}' is not a finite number or a fraction like 1/255."
                : $"error: --scale-by is {value}; it must be a positive number from 1E-06 to 1000000, as u8 values times it are the model's real inputs (e.g. 1/255).";
            Assert.Equal(expected, err.TrimEnd());
            Assert.False(File.Exists(Path.Combine(_dir, "tiny.calibration.txt")));
        }

        [Fact]
        public void WithoutOutItDoesNotOverwriteFilesBesideTheWeights()
        {
            var m = NewModel(50);
            string tracked = Path.Combine(_dir, "tiny.calibration.txt");
            File.WriteAllText(tracked, "input 0.5 0\n");
            string[] args = { "--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", m.Data, "--scale-by", "1/255" };

            var (code, _, err) = Run(args);
            Assert.Equal(2, code);
            Assert.Equal($"error: '{tracked}' exists; without --out, gen-calibrate writes beside the weights only where that overwrites nothing: " +
                "pass --out <folder> to write elsewhere, or --force to overwrite.", err.TrimEnd());
            Assert.Equal("input 0.5 0\n", File.ReadAllText(tracked));
            Assert.False(File.Exists(Path.Combine(_dir, "tiny.attributes.txt")), "nothing is written");

            // A file only the full list names (a histogram): refused too, still before anything is written.
            File.Delete(tracked);
            File.WriteAllText(Path.Combine(_dir, "tiny.fc1.svg"), "<svg/>");
            (code, _, err) = Run(args);
            Assert.Equal(2, code);
            Assert.StartsWith($"error: '{Path.Combine(_dir, "tiny.fc1.svg")}' exists; without --out", err, StringComparison.Ordinal);
            Assert.False(File.Exists(tracked));
            Assert.False(File.Exists(Path.Combine(_dir, "tiny.attributes.txt")));

            // --force overwrites; so does naming the folder with --out.
            File.WriteAllText(tracked, "input 0.5 0\n");
            (code, _, err) = Run(args.Concat(new[] { "--force" }).ToArray());
            Assert.True(code == 0, err);
            Assert.Equal(3, File.ReadAllLines(tracked).Length);
            Assert.NotEqual("input 0.5 0\n", File.ReadAllText(tracked));
            (code, _, err) = Run(args.Concat(new[] { "--out", _dir }).ToArray());
            Assert.True(code == 0, err);
        }

        [Theory]
        [InlineData("mse")]
        [InlineData("easyquant")]
        public void NewModelGoesFromFloatWeightsToGeneratedIntegerCode(string method)
        {
            var m = NewModel();
            var (code, output, err) = Run("--weights", m.Weights, "--layers", "fc1:24:relu,fc2:3", "--data", m.Data, "--scale-by", "1/255",
                "--method", method, "--calibration-rows", "400", "--labels", m.Labels, "--out", _dir, "--easyquant-samples", "200");
            Assert.True(code == 0, output + err);
            Assert.Contains("held-out accuracy", output, StringComparison.Ordinal);
            string weightsFile = method == "easyquant" ? "tiny.int8.safetensors" : "tiny.safetensors";
            // The parameter file is named after the weights the attributes point at, where the generator looks for it.
            string parametersFile = method == "easyquant" ? "tiny.int8.calibration.txt" : "tiny.calibration.txt";
            foreach (string file in new[] { "tiny.attributes.txt", parametersFile, "tiny.report.md", "tiny.input.svg", "tiny.fc1.svg", "tiny.fc2.svg" })
            {
                Assert.True(File.Exists(Path.Combine(_dir, file)), file);
            }

            Assert.Equal(3, File.ReadAllLines(Path.Combine(_dir, parametersFile)).Length);
            string attributes = File.ReadAllText(Path.Combine(_dir, "tiny.attributes.txt"));
            Assert.Contains($"[QuantizedModel(\"{weightsFile}\")]", attributes, StringComparison.Ordinal);

            // The attribute lines, pasted as written, above a partial class; the generator does the rest.
            string source = "using Gen;\nnamespace Calibrated;\n" + attributes + "public static partial class Tiny { }\n";
            var run = GeneratorHarness.Run(source, ("/project/" + weightsFile, File.ReadAllBytes(Path.Combine(_dir, weightsFile))));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("Calibrated.Tiny")!;
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<RunRow>();
            var quantize = type.GetMethod("QuantizeInput", new[] { typeof(ReadOnlySpan<float>), typeof(Span<sbyte>) })!.CreateDelegate<QuantizeInput>();

            // Held-out rows: the generated model agrees with the float model it came from.
            int agree = 0, rows = 0;
            var x = new sbyte[12];
            var y = new sbyte[3];
            for (int r = 400; r < 600; r++, rows++)
            {
                quantize(m.Rows.AsSpan(r * 12, 12), x);
                single(x, y);
                int predicted = y[0] >= y[1] && y[0] >= y[2] ? 0 : y[1] >= y[2] ? 1 : 2;
                agree += predicted == m.LabelBytes[r] ? 1 : 0;
            }

            Assert.True(agree >= rows * 0.95, $"generated INT8 model agrees with float on {agree} of {rows} rows");

            // The other route: attributes without any scale, the parameter file beside the weights. Same model, same bits.
            string bare = "using Gen;\nnamespace FromFile;\n" + $"[QuantizedModel(\"{weightsFile}\")]\n[ModelInput(12)]\n" +
                "[Dense(\"fc1\", 24, Activation = Activation.Relu)]\n[Dense(\"fc2\", 3)]\npublic static partial class Tiny { }\n";
            var fromFile = GeneratorHarness.Run(bare, new[] { ("/project/" + parametersFile, File.ReadAllText(Path.Combine(_dir, parametersFile))) },
                ("/project/" + weightsFile, File.ReadAllBytes(Path.Combine(_dir, weightsFile))));
            Assert.Empty(fromFile.Errors);
            var bareRun = fromFile.Load().GetType("FromFile.Tiny")!.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!
                .CreateDelegate<RunRow>();
            var y2 = new sbyte[3];
            for (int r = 400; r < 600; r++)
            {
                quantize(m.Rows.AsSpan(r * 12, 12), x);
                single(x, y);
                bareRun(x, y2);
                Assert.Equal(y, y2);
            }
        }
    }
}
