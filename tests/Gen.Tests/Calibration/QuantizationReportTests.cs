using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using Gen.Calibrate;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Calibration
{
    /// <summary>
    /// <c>gen-calibrate --report</c> on the MNIST MLP and the MNIST vision transformer: the page, opened in headless
    /// Chromium, renders every section (a plot per activation with its thresholds, the layer and activation charts, the
    /// tables); a screenshot of it is kept in <c>artifacts/quantization-report/</c> (gitignored); and its numbers are the
    /// models' own: every activation's cosine and SQNR recomputed here from the float model's and the reference
    /// interpreter's values on the held-out rows, the noise each layer adds and the worst layer from those, the clipped
    /// percentages from the float model's values on the calibration rows, and the accuracy from the interpreter's outputs.
    /// </summary>
    public sealed class QuantizationReportTests : IDisposable
    {
        private const int Pixels = 784;
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "gen-report-" + Guid.NewGuid().ToString("N"));
        private readonly ITestOutputHelper _output;

        public QuantizationReportTests(ITestOutputHelper output)
        {
            _output = output;
            Directory.CreateDirectory(_dir);
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        /// <summary>Where the reports and their screenshots are kept (docs/calibration.md says so; .gitignore has it).</summary>
        public static string Artifacts => Path.Combine(Repository.Root, "artifacts", "quantization-report");

        private static string MnistData => Path.Combine(Repository.Root, "samples", "Mnist", "Data");

        [ChromiumFact]
        public void TheMlpReportRendersEverySectionAndItsNumbersAreTheModelsOwn()
        {
            Chromium.Require();
            string report = Path.Combine(Artifacts, "mnist-mlp.html");
            string images = Path.Combine(MnistData, "mnist-images.u8.gz"), labels = Path.Combine(MnistData, "mnist-labels.u8");
            string weights = Path.Combine(MnistData, "mnist_mlp.safetensors");
            // 9,000 digits calibrate, the last 1,000 are held out (all of them are the report's evaluation rows).
            var (code, output, err) = Run("--weights", weights, "--layers", "fc1:128:relu,fc2:10", "--data", images, "--scale-by", "1/255",
                "--calibration-rows", "9000", "--labels", labels, "--method", "max,mse,entropy", "--out", _dir, "--report", report);
            Assert.True(code == 0, output + err);
            Assert.Contains("Wrote the quantization report to " + report, output, StringComparison.Ordinal);

            string dom = Chromium.DumpDom(report);
            var model = FloatModel.FromSafeTensors(SafeTensorsFile.Parse(File.ReadAllBytes(weights)), DenseLayerSpec.ParseList("fc1:128:relu,fc2:10"));
            AssertRendersEverySection(dom, new[] { "input", "fc1", "fc2" }, new[] { "max", "mse", "entropy" });
            Screenshot(report, "mnist-mlp.png");

            float[] rows = CalibrationData.Read(images, Pixels, CalibrationData.ParseScale("1/255", "--scale-by"), 0);
            byte[] labelBytes = File.ReadAllBytes(labels);
            AssertNumbersAreTheModelsOwn(dom, model, rows, labelBytes, 9000, "mnist_mlp");

            // Entropy clips fc1's ReLU outputs (docs/calibration.md): its percentage is recomputed from the float values.
            var entropyClip = Cells(Section(dom, "methods"), "data-method", "entropy")["most-clipped"];
            Assert.Equal("fc1", entropyClip.Activation);
            double exactEntropy = AssertClippedAsRecomputed(Trace(model, rows.AsSpan(0, 9000 * Pixels))["fc1"], "fc1",
                Parameters(Path.Combine(_dir, "mnist_mlp.entropy.calibration.txt"))["fc1"], entropyClip.Value);
            Assert.InRange(exactEntropy, 1, 20);
        }

        [ChromiumFact]
        public void TheTransformerReportNamesTheLayerThatAddsTheMostNoise()
        {
            Chromium.Require();
            // The MNIST ViT on the first 300 digits: 200 calibrate, 100 are held out (seconds, not minutes).
            const int count = 300, calibrationRows = 200;
            byte[] pixels;
            using (var gzip = new GZipStream(File.OpenRead(Path.Combine(MnistData, "mnist-images.u8.gz")), CompressionMode.Decompress))
            {
                pixels = new byte[count * Pixels];
                gzip.ReadExactly(pixels);
            }

            string images = Path.Combine(_dir, "digits.u8"), labels = Path.Combine(_dir, "labels.u8");
            File.WriteAllBytes(images, pixels);
            byte[] labelBytes = File.ReadAllBytes(Path.Combine(MnistData, "mnist-labels.u8")).AsSpan(0, count).ToArray();
            File.WriteAllBytes(labels, labelBytes);
            string weights = Path.Combine(Repository.Root, "samples", "MnistVit", "Data", "mnist_vit.safetensors");
            string[] shapeOptions = { "--image", "28x28x1", "--patch", "7", "--width", "64", "--layers", "blocks.0:4:128,blocks.1:4:128", "--head", "head:10" };
            string report = Path.Combine(Artifacts, "mnist-vit.html");
            var (code, output, err) = Run(new[] { "transformer", "--weights", weights, "--data", images, "--scale-by", "1/255",
                "--calibration-rows", calibrationRows.ToString(CultureInfo.InvariantCulture), "--labels", labels, "--method", "percentile:99.99",
                "--out", _dir, "--report", report }.Concat(shapeOptions).ToArray());
            Assert.True(code == 0, output + err);

            string dom = Chromium.DumpDom(report);
            var shape = TransformerCommand.ParseShape("28x28x1", 7, 64, "embed", "blocks.0:4:128,blocks.1:4:128", "norm", "head:10");
            var model = new FloatModel(VisionTransformerFrontend.Build(shape), SafeTensorsFile.Parse(File.ReadAllBytes(weights)));
            AssertRendersEverySection(dom, TransformerNames.Activations(shape).ToArray(), new[] { "percentile 99.99" });
            Screenshot(report, "mnist-vit.png");

            float[] rows = CalibrationData.Read(images, Pixels, CalibrationData.ParseScale("1/255", "--scale-by"), 0);
            AssertNumbersAreTheModelsOwn(dom, model, rows, labelBytes, calibrationRows, "mnist_vit");
            // The patches (an im2col) are no activation of their own: the patch projection reads the image's error.
            Assert.Contains("<td class=\"text\" data-key=\"inputs\">input</td>", Row(Section(dom, "layers"), "data-activation", "embed.patch"), StringComparison.Ordinal);
            Assert.True(double.IsFinite(Cells(Section(dom, "layers"), "data-activation", "embed.patch")["noise-added"].Value));
        }

        [Fact]
        public void WithoutHeldOutRowsOrLabelsTheReportSaysSoAndMeasuresOnCalibrationRows()
        {
            // 200 digits, all calibrating, no labels: the errors are measured on the calibration rows, as the page says,
            // and no accuracy is shown (the page is read as written here; the Chromium tests above render it).
            byte[] pixels;
            using (var gzip = new GZipStream(File.OpenRead(Path.Combine(MnistData, "mnist-images.u8.gz")), CompressionMode.Decompress))
            {
                pixels = new byte[200 * Pixels];
                gzip.ReadExactly(pixels);
            }

            string images = Path.Combine(_dir, "digits.u8"), report = Path.Combine(_dir, "nested", "report.html");
            File.WriteAllBytes(images, pixels);
            var (code, output, err) = Run("--weights", Path.Combine(MnistData, "mnist_mlp.safetensors"), "--layers", "fc1:128:relu,fc2:10",
                "--data", images, "--scale-by", "1/255", "--method", "mse", "--out", _dir, "--report", report);
            Assert.True(code == 0, output + err);
            string page = File.ReadAllText(report);
            Assert.Contains("over 200 calibration data rows (no row was held out: pass --calibration-rows to keep some apart)", page, StringComparison.Ordinal);
            Assert.DoesNotContain("accuracy", Section(page, "methods"), StringComparison.Ordinal);
            Assert.DoesNotContain("Held-out accuracy", Section(page, "summary"), StringComparison.Ordinal);
            foreach (string name in new[] { "input", "fc1", "fc2" })
            {
                var cells = Cells(Section(page, "activations"), "data-activation", name);
                Assert.InRange(cells["cosine"].Value, 0.99, 1 + 1e-12);
                Assert.InRange(cells["sqnr"].Value, 20, 200);
            }
        }

        [Fact]
        public void AHistogramDrawsItsThresholdsInsideTheDataItClips()
        {
            // The 99th percentile of a Gaussian clips both tails: the red lines lie inside the bars' extent, and the
            // other method's lines and the legend are drawn too.
            var rng = new Random(9);
            var values = new float[20000];
            for (int i = 0; i < values.Length; i++) values[i] = CalibratorTests.Gaussian(rng);
            var h = new HistogramCollector("t");
            h.Add(values);
            var t = TensorCalibration.Create(new PercentileCalibrator(99), h, RangeMode.Asymmetric);
            var svg = System.Xml.Linq.XDocument.Parse(Plots.Svg(t, new[] { new Plots.Thresholds("max", new CalibrationRange(h.Min, h.Max)) }));
            System.Xml.Linq.XNamespace ns = "http://www.w3.org/2000/svg";
            var bars = svg.Descendants(ns + "rect").Where(r => (string?)r.Attribute("fill") == "#4878A8").ToList();
            Assert.True(bars.Count > 100, $"{bars.Count} bars");
            double left = bars.Min(r => X(r, "x")), right = bars.Max(r => X(r, "x") + X(r, "width"));
            var red = VerticalLines(svg.ToString(), Plots.ChosenColour);
            Assert.Equal(2, red.Count);
            Assert.True(red[0] > left && red[1] < right, $"thresholds at {red[0]} and {red[1]}, bars from {left} to {right}");
            Assert.Contains(svg.Descendants(ns + "text"), e => e.Value.Contains("max", StringComparison.Ordinal));
            Assert.Contains(svg.Descendants(ns + "text"), e => e.Value.Contains("percentile 99", StringComparison.Ordinal));
        }

        private static double X(System.Xml.Linq.XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

        private static (int Code, string Out, string Err) Run(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = CalibrateCommand.Run(args, output, error);
            return (code, output.ToString(), error.ToString());
        }

        // Every section is in the rendered DOM with its content: the summary's headline, a row per method, the layer
        // chart and table, the activation chart and table, and one histogram per activation with its two red thresholds.
        private static void AssertRendersEverySection(string dom, string[] activations, string[] methods)
        {
            foreach (string id in new[] { "summary", "methods", "layers", "activations", "histograms" })
            {
                Assert.True(Regex.IsMatch(Section(dom, id), "<h2>[^<]+"), $"section {id} has no heading");
            }

            Assert.Matches("<p class=\"headline\" id=\"worst\"", Section(dom, "summary"));
            foreach (string m in methods) Assert.Contains($"<tr data-method=\"{m}\"", Section(dom, "methods"), StringComparison.Ordinal);
            Assert.Single(Regex.Matches(Section(dom, "methods"), "class=\"chosen\""));
            Assert.Matches("<figure class=\"chart\" id=\"layer-chart\"><svg", Section(dom, "layers"));
            Assert.Matches("<figure class=\"chart\" id=\"activation-chart\"><svg", Section(dom, "activations"));
            string histograms = Section(dom, "histograms");
            var figures = Regex.Matches(histograms, "<figure class=\"histogram[^\"]*\"[^>]*data-activation=\"([^\"]+)\"[^>]*>(.*?)</figure>", RegexOptions.Singleline);
            Assert.Equal(activations, figures.Select(f => f.Groups[1].Value).ToArray());
            foreach (Match f in figures)
            {
                string figure = f.Groups[2].Value;
                Assert.True(Regex.Matches(figure, "<rect fill=\"#4878A8\"").Count > 10, f.Groups[1].Value + ": no bars");
                Assert.True(VerticalLines(figure, Plots.ChosenColour).Count == 2, f.Groups[1].Value + ": not two red thresholds");
            }

            foreach (string id in new[] { "activations", "layers" })
            {
                var rows = Regex.Matches(Section(dom, id), "<tr data-(?:layer=\"[^\"]+\" data-)?activation=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToArray();
                Assert.Equal(id == "activations" ? activations : activations.Skip(1).ToArray(), rows);
            }

            // Self-contained: nothing to fetch, no script.
            Assert.DoesNotMatch("(?i)<(script|link|img|iframe)\\b", dom);
            Assert.DoesNotMatch("(?i)\\s(src|href)=", dom);
            Assert.DoesNotMatch("url\\((?!#)", dom);
        }

        // Recomputes every activation's cosine and SQNR on the held-out rows from the float model's and the reference
        // interpreter's values, one row at a time, with the detailed method's parameter file; then the layers' noise,
        // the worst layer, the held-out accuracy and the clipped percentages, and compares them with the page's.
        private void AssertNumbersAreTheModelsOwn(string dom, FloatModel model, float[] rows, byte[] labels, int calibrationRows, string stem)
        {
            string methods = Section(dom, "methods");
            string chosen = Regex.Match(methods, "<tr data-method=\"([^\"]+)\" class=\"chosen\"").Groups[1].Value;
            // The tool names its files after the method when several ran.
            bool several = Regex.Matches(methods, "<tr data-method=\"(?!float32\")").Count > 1;
            var parameters = Parameters(Path.Combine(_dir, stem + (several ? "." + FileSafe(chosen) : "") + ".calibration.txt"));
            var quantized = QuantizedGraph.Create(model.Graph, model.Weights, name => parameters[name]);
            var interpreter = new ReferenceInterpreter(quantized);
            var names = model.Graph.Activations();
            var sums = names.ToDictionary(n => n, _ => new double[4]); // f.q, f.f, q.q, (q - f)^2
            int heldOut = rows.Length / Pixels - calibrationRows, correct = 0;
            var floats = new Dictionary<string, float[]>();
            var logits = new float[model.OutputSize];
            var q = new sbyte[Pixels];
            var outputs = new sbyte[model.OutputSize];
            for (int r = calibrationRows; r < calibrationRows + heldOut; r++)
            {
                var row = rows.AsSpan(r * Pixels, Pixels);
                model.Run(row, logits, (name, values) => floats[name] = values.ToArray());
                QuantizationMath.Quantize(row, q, quantized.Input);
                interpreter.Run(q, outputs, (name, values, p) =>
                {
                    var f = floats[name];
                    var s = sums[name];
                    for (int i = 0; i < values.Length; i++)
                    {
                        double d = (double)p.Scale * (values[i] - p.ZeroPoint);
                        s[0] += f[i] * d;
                        s[1] += (double)f[i] * f[i];
                        s[2] += d * d;
                        s[3] += (d - f[i]) * (d - f[i]);
                    }
                });
                int best = 0;
                for (int i = 1; i < outputs.Length; i++) if (outputs[i] > outputs[best]) best = i;
                if (best == labels[r]) correct++;
            }

            string activations = Section(dom, "activations");
            var sqnr = new Dictionary<string, double>();
            var cosine = new Dictionary<string, double>();
            foreach (string name in names)
            {
                var s = sums[name];
                cosine[name] = s[0] / Math.Sqrt(s[1] * s[2]);
                sqnr[name] = s[3] == 0 ? double.PositiveInfinity : 10 * Math.Log10(s[1] / s[3]);
                var cells = Cells(activations, "data-activation", name);
                Assert.True(Math.Abs(cells["cosine"].Value - cosine[name]) < 1e-7, $"{name}: cosine {cells["cosine"].Value} in the report, {cosine[name]} recomputed");
                Assert.True(Math.Abs(cells["sqnr"].Value - sqnr[name]) < 1e-3, $"{name}: SQNR {cells["sqnr"].Value} in the report, {sqnr[name]} recomputed");
                Assert.Equal(parameters[name].Scale, (float)cells["scale"].Value);
                Assert.Equal(parameters[name].ZeroPoint, (int)cells["zero-point"].Value);
                _output.WriteLine(FormattableString.Invariant($"{name}: cosine {cosine[name]:F6}, SQNR {sqnr[name]:F2} dB"));
            }

            // The layers: noise added from the recomputed SQNRs (the output's less the worst input's), and the worst.
            string layers = Section(dom, "layers");
            var added = new Dictionary<string, double>();
            foreach (Match m in Regex.Matches(layers, "<tr data-layer=\"[^\"]+\" data-activation=\"([^\"]+)\"[^>]*>(.*?)</tr>", RegexOptions.Singleline))
            {
                string output = m.Groups[1].Value;
                var inputs = Regex.Match(m.Groups[2].Value, "<td class=\"text\" data-key=\"inputs\">([^<]*)</td>").Groups[1].Value.Split(", ");
                double inputRatio = inputs.Max(i => Math.Pow(10, -sqnr[i] / 10));
                added[output] = 100 * (Math.Pow(10, -sqnr[output] / 10) - inputRatio);
                double reported = Cells(layers, "data-activation", output)["noise-added"].Value;
                Assert.True(Math.Abs(reported - added[output]) <= 1e-4 * Math.Abs(added[output]) + 1e-9, $"{output}: noise added {reported} % in the report, {added[output]} % recomputed");
            }

            string worst = added.OrderByDescending(p => p.Value).First().Key;
            Assert.Matches($"<p class=\"headline\" id=\"worst\" data-layer=\"[^\"]+\" data-activation=\"{Regex.Escape(worst)}\"><strong>{Regex.Escape(worst)}</strong> hurts most", Section(dom, "summary"));
            Assert.Matches($"<tr data-layer=\"[^\"]+\" data-activation=\"{Regex.Escape(worst)}\" class=\"worst\"", layers);
            _output.WriteLine($"worst layer: {worst}, {added[worst]:G3} % of its output's energy");

            double accuracy = 100.0 * correct / heldOut;
            Assert.Equal(accuracy, Cells(methods, "data-method", chosen)["accuracy"].Value, 9);

            // Clipped percentages, from the float model's values on the calibration rows.
            var calibrationValues = Trace(model, rows.AsSpan(0, calibrationRows * Pixels));
            foreach (string name in names)
            {
                AssertClippedAsRecomputed(calibrationValues[name], name, parameters[name], Cells(activations, "data-activation", name)["clipped"].Value);
            }
        }

        // Every activation's float values over `rows`, in one pass of the float model.
        private static Dictionary<string, List<float>> Trace(FloatModel model, ReadOnlySpan<float> rows)
        {
            var values = model.Graph.Activations().ToDictionary(n => n, _ => new List<float>());
            model.Run(rows, new float[rows.Length / Pixels * model.OutputSize], (name, v) =>
            {
                var list = values[name];
                foreach (float x in v) list.Add(x);
            });
            return values;
        }

        // The percentage of an activation's float values that the INT8 clamp changes, against the report's estimate from
        // the histogram (bin centres): they may differ only by the values within a bin of a clipping bound (bins are at
        // most 1/512 of the range wide; exact zeros are counted apart and never clipped). Returns the exact percentage.
        private double AssertClippedAsRecomputed(List<float> values, string name, QuantizationParameters p, double reported)
        {
            double lo = (double)p.Scale * (-128 - p.ZeroPoint) - 0.5 * p.Scale, hi = (double)p.Scale * (127 - p.ZeroPoint) + 0.5 * p.Scale;
            double min = values.Min(), max = values.Max(), window = (Math.Max(max, 0) - Math.Min(min, 0)) / 512;
            int clipped = 0, near = 0;
            foreach (float v in values)
            {
                double q = Math.Round(v / (double)p.Scale, MidpointRounding.AwayFromZero) + p.ZeroPoint;
                if (q < -128 || q > 127) clipped++;
                if (v != 0 && (Math.Abs(v - lo) <= window || Math.Abs(v - hi) <= window)) near++;
            }

            double exact = 100.0 * clipped / values.Count, tolerance = 100.0 * near / values.Count;
            _output.WriteLine(FormattableString.Invariant($"{name}: clipped {exact:F4} % recomputed, {reported:F4} % reported (tolerance {tolerance:F4})"));
            Assert.True(Math.Abs(exact - reported) <= tolerance + 1e-9, $"{name}: clipped {reported} % in the report, {exact} % recomputed (within {tolerance})");
            return exact;
        }

        // The screenshot the test keeps: 1280 x 4000, and the summary's red headline is drawn in it.
        private void Screenshot(string report, string name)
        {
            string png = Path.Combine(Artifacts, name);
            Chromium.Screenshot(report, png, 1280, 4000);
            using var bitmap = SKBitmap.Decode(png);
            Assert.Equal(1280, bitmap.Width);
            Assert.Equal(4000, bitmap.Height);
            int red = 0;
            for (int y = 0; y < 400; y++)
            {
                for (int x = 0; x < 200; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    if (c.Red == 0xD6 && c.Green == 0x27 && c.Blue == 0x28) red++;
                }
            }

            Assert.True(red > 150, $"the summary's red headline border is not in the top of the screenshot ({red} pixels)");
            _output.WriteLine("screenshot: " + png);
        }

        private static IReadOnlyDictionary<string, QuantizationParameters> Parameters(string path) => QuantizationParameterFile.Parse(File.ReadAllText(path));

        private static List<double> VerticalLines(string svg, string colour) =>
            Regex.Matches(svg, $"<path[^>]*stroke=\"{colour}\"[^>]*d=\"M([0-9.]+) [0-9.]+L([0-9.]+) [0-9.]+\"")
                .Where(m => m.Groups[1].Value == m.Groups[2].Value)
                .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).OrderBy(x => x).ToList();

        private static string Section(string dom, string id)
        {
            var m = Regex.Match(dom, $"<section id=\"{id}\">(.*?)</section>", RegexOptions.Singleline);
            Assert.True(m.Success, $"the rendered page has no section '{id}'");
            return m.Groups[1].Value;
        }

        private static string Row(string section, string attribute, string value)
        {
            var m = Regex.Match(section, $"<tr[^>]*\\s{attribute}=\"{Regex.Escape(value)}\"[^>]*>(.*?)</tr>", RegexOptions.Singleline);
            Assert.True(m.Success, $"no row {attribute}={value}");
            return m.Groups[1].Value;
        }

        // The numeric cells of a row by their data-key: the exact value and, where the cell names one, its activation.
        private static Dictionary<string, (double Value, string? Activation)> Cells(string section, string attribute, string value)
        {
            var cells = new Dictionary<string, (double, string?)>();
            foreach (Match c in Regex.Matches(Row(section, attribute, value), "<td data-key=\"([^\"]+)\"(?: data-activation=\"([^\"]+)\")? data-value=\"([^\"]+)\""))
            {
                cells[c.Groups[1].Value] = (double.Parse(c.Groups[3].Value, CultureInfo.InvariantCulture), c.Groups[2].Success ? c.Groups[2].Value : null);
            }

            return cells;
        }

        // The tool's file name of a method (CalibrationPipeline: letters, digits, '.', '-', '_' kept, others '-').
        private static string FileSafe(string name) =>
            new string(name.Select(c => char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_' ? c : '-').ToArray()).Replace("--", "-").Trim('-');
    }
}
