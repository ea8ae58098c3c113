using System;
using System.IO;
using System.Linq;
using Gen.Calibrate;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using Gen.Tests.Transformer;
using Xunit;

namespace Gen.Tests.Calibration
{
    /// <summary>
    /// One pipeline for every model family: the transformer verb writes the MLP verb's files and report (every
    /// activation with its cosine similarity, a histogram each, INT8 accuracy), EasyQuant is refused with a reason where
    /// the graph is not a chain of dense layers, and the calibration of any graph quantizes as the generator does.
    /// </summary>
    public sealed class CalibrationPipelineTests : IDisposable
    {
        private static readonly TransformerShape Tiny = new(8, 8, 1, 4, 8, "embed",
            new[] { new EncoderLayerShape("blocks.0", 2, 16) }, "norm", new[] { new HeadLayerShape("head", 3) });

        private readonly string _dir = Path.Combine(Path.GetTempPath(), "gen-calibrate-pipeline-" + Guid.NewGuid().ToString("N"));

        public CalibrationPipelineTests() => Directory.CreateDirectory(_dir);

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private (string Weights, string Data, string Labels, byte[] Bytes) TinyTransformer(int images = 40)
        {
            var (_, bytes) = TransformerModels.Random(Tiny, 3);
            string weights = Path.Combine(_dir, "tiny.safetensors");
            File.WriteAllBytes(weights, bytes);
            var pixels = new byte[64 * images];
            new Random(4).NextBytes(pixels);
            string data = Path.Combine(_dir, "images.u8");
            File.WriteAllBytes(data, pixels);
            var labels = new byte[images];
            for (int i = 0; i < images; i++) labels[i] = (byte)(i % 3);
            string labelsPath = Path.Combine(_dir, "labels.u8");
            File.WriteAllBytes(labelsPath, labels);
            return (weights, data, labelsPath, bytes);
        }

        private static (int Code, string Out, string Err) Run(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = CalibrateCommand.Run(args, output, error);
            return (code, output.ToString(), error.ToString());
        }

        private static string[] ShapeOptions => new[] { "--image", "8x8x1", "--patch", "4", "--width", "8", "--layers", "blocks.0:2:16", "--head", "head:3" };

        [Fact]
        public void TheTransformerVerbWritesTheReportHistogramsAndAccuracyOfTheMlpVerb()
        {
            var m = TinyTransformer();
            var (code, output, err) = Run(new[] { "transformer", "--weights", m.Weights, "--data", m.Data, "--scale-by", "1/255",
                "--calibration-rows", "30", "--labels", m.Labels, "--method", "max", "--out", _dir }.Concat(ShapeOptions).ToArray());
            Assert.True(code == 0, output + err);

            var activations = TransformerNames.Activations(Tiny);
            Assert.Equal(activations.Count, File.ReadAllLines(Path.Combine(_dir, "tiny.calibration.txt")).Length);
            foreach (string name in activations) Assert.True(File.Exists(Path.Combine(_dir, "tiny." + name + ".svg")), name);
            // Attribute lines belong to models declared per activation (the MLP); a transformer reads the parameter file.
            Assert.False(File.Exists(Path.Combine(_dir, "tiny.attributes.txt")));

            // The report: one row per activation, each with the cosine of float and INT8 values, and the INT8 accuracy.
            string[] report = File.ReadAllLines(Path.Combine(_dir, "tiny.report.md"));
            Assert.Contains(report, l => l.StartsWith("Held-out accuracy: INT8 ", StringComparison.Ordinal));
            foreach (string name in activations)
            {
                // The activation table comes first (a dense layer also has a row, in the weights table after it).
                string row = report.First(l => l.StartsWith("| " + name + " |", StringComparison.Ordinal));
                string cosine = row.Split('|', StringSplitOptions.TrimEntries)[11];
                Assert.InRange(double.Parse(cosine, System.Globalization.CultureInfo.InvariantCulture), -1, 1);
            }

            Assert.Contains(report, l => l.StartsWith("| blocks.0.attn.q | per channel |", StringComparison.Ordinal));
            Assert.Contains("held-out accuracy", output, StringComparison.Ordinal);
            Assert.Contains("Float accuracy on the held-out 10 images: ", output, StringComparison.Ordinal);
        }

        [Fact]
        public void EasyQuantIsRefusedWithTheReasonWhereTheGraphIsNoDenseChain()
        {
            var m = TinyTransformer();
            var (code, _, err) = Run(new[] { "transformer", "--weights", m.Weights, "--data", m.Data, "--method", "easyquant", "--out", _dir }
                .Concat(ShapeOptions).ToArray());
            Assert.Equal(2, code);
            Assert.Equal("error: --method: easyquant searches the weight scales of a chain of dense layers (an MLP), and in this graph " +
                "node 'embed.patches' is Im2Col, not Dense; use max, max-ma, percentile[:P], mse or entropy.", err.TrimEnd());

            // The library says the same.
            var model = new FloatModel(VisionTransformerFrontend.Build(Tiny), SafeTensorsFile.Parse(m.Bytes));
            var statistics = ActivationStatistics.Collect(model, new float[64 * 2]);
            var e = Assert.Throws<ArgumentException>(() => EasyQuant.Calibrate(statistics, new float[64 * 2]));
            Assert.StartsWith("easyquant searches the weight scales of a chain of dense layers (an MLP)", e.Message, StringComparison.Ordinal);
            Assert.False(CalibrationMethods.AppliesTo(CalibrationMethods.EasyQuant, model.Graph, out _));
            Assert.True(CalibrationMethods.AppliesTo("mse", model.Graph, out _));
        }

        [Fact]
        public void AllMeansEveryMethodThatAppliesToTheGraph()
        {
            var m = TinyTransformer();
            var (code, output, err) = Run(new[] { "transformer", "--weights", m.Weights, "--data", m.Data, "--method", "all", "--out", _dir }
                .Concat(ShapeOptions).ToArray());
            Assert.True(code == 0, output + err);
            foreach (string method in new[] { "max", "max-moving-average", "percentile-99.99", "mse", "entropy" })
            {
                Assert.True(File.Exists(Path.Combine(_dir, "tiny." + method + ".calibration.txt")), method);
                Assert.True(File.Exists(Path.Combine(_dir, "tiny." + method + ".report.md")), method);
            }

            Assert.Empty(Directory.GetFiles(_dir, "*easyquant*"));
        }

        [Fact]
        public void TheCalibratedGraphIsQuantizedAsTheGeneratorQuantizesIt()
        {
            // A transformer's calibration quantizes to the graph QuantizedGraph.Create makes from its parameter file's values.
            var m = TinyTransformer();
            var model = new FloatModel(VisionTransformerFrontend.Build(Tiny), SafeTensorsFile.Parse(m.Bytes));
            var rng = new Random(5);
            var images = new float[64 * 8];
            for (int i = 0; i < images.Length; i++) images[i] = (float)rng.NextDouble();
            var calibration = ActivationCalibration.Calibrate(model, images, new MseCalibrator());
            var quantized = calibration.Quantize(model);
            var direct = QuantizedGraph.Create(model.Graph, model.Weights, name => calibration[name].Parameters);
            Assert.Equal(direct.Quantization, quantized.Quantization);
            var cosines = CalibrationMetrics.CosineSimilarities(model, quantized, images);
            Assert.Equal(calibration.Tensors.Count, cosines.Length);
            Assert.All(cosines, c => Assert.InRange(c, 0.5, 1.0 + 1e-12));

            // EasyQuant's searched weight scales reach the integer model through the INT8 weights file.
            var mlp = FloatModel.FromSafeTensors(SafeTensorsFile.Parse(new SafeTensorsWriter()
                .F32("a.weight", Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i)).ToArray(), 4, 6)
                .F32("b.weight", Enumerable.Range(0, 8).Select(i => (float)Math.Cos(i)).ToArray(), 2, 4).ToBytes()),
                DenseLayerSpec.ParseList("a:4:relu,b:2"));
            var rows = new float[6 * 50];
            for (int i = 0; i < rows.Length; i++) rows[i] = (float)rng.NextDouble();
            var eq = EasyQuant.Calibrate(ActivationStatistics.Collect(mlp, rows), rows);
            Assert.False(eq.UsesGeneratorWeightScales);
            var q = eq.Quantize(mlp);
            Assert.Equal(eq.WeightScales!["a"], q.Op<QuantizedDense>(0).WeightScales);
            Assert.Equal(eq.WeightScales!["b"], q.Op<QuantizedDense>(1).WeightScales);
        }
    }
}
