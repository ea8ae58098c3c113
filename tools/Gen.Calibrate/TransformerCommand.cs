using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Interpreter;
using Spectre.Console;

namespace Gen.Calibrate
{
    /// <summary>
    /// <c>gen-calibrate transformer</c>: runs a float vision transformer (<see cref="TransformerShape"/>) over
    /// calibration images, calibrates every activation of <see cref="TransformerNames.Activations"/> and writes the
    /// quantization-parameter file <c>&lt;weights&gt;.calibration.txt</c> (<c>name scale zero_point min max</c>).
    /// </summary>
    public static class TransformerCommand
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The subcommand; its action writes to <paramref name="output"/> and reports usage errors on <paramref name="error"/>.</summary>
        public static Command Create(TextWriter output, TextWriter error)
        {
            var weights = new Option<string>("--weights") { Description = "The float32 transformer (safetensors, PyTorch names).", Required = true };
            var image = new Option<string>("--image") { Description = "Image rows x columns x channels, e.g. 28x28x1.", Required = true };
            var patch = new Option<int>("--patch") { Description = "Side of the square patches, in pixels.", Required = true };
            var width = new Option<int>("--width") { Description = "Features per token (the model width).", Required = true };
            var layers = new Option<string>("--layers") { Description = "Encoder layers in order, prefix:heads:feed-forward, e.g. blocks.0:4:128,blocks.1:4:128.", Required = true };
            var head = new Option<string>("--head") { Description = "Head layers in order, name:outputs[:activation], e.g. head:10.", Required = true };
            var embedding = new Option<string>("--embedding") { Description = "Tensor prefix of the patch projection and position embedding.", DefaultValueFactory = _ => "embed" };
            var norm = new Option<string>("--norm") { Description = "Tensor prefix of the final LayerNorm.", DefaultValueFactory = _ => "norm" };
            var data = new Option<string>("--data") { Description = "Calibration images: raw u8 rows (.u8, or gzip .gz, CHW) or little-endian float32 rows (.f32).", Required = true };
            var scaleBy = new Option<string>("--scale-by") { Description = "Multiply u8 values by this (a number or a fraction, e.g. 1/255).", DefaultValueFactory = _ => "1" };
            var offset = new Option<string>("--offset") { Description = "Subtract this from u8 values before scaling.", DefaultValueFactory = _ => "0" };
            var method = new Option<string>("--method") { Description = "Calibrator of the activations: max, max-ma, percentile[:P], mse, entropy.", DefaultValueFactory = _ => "percentile" };
            var inputMethod = new Option<string>("--input-method") { Description = "Calibrator of the input image (max keeps [0, 1] as scale 1/255, zero point -128).", DefaultValueFactory = _ => "max" };
            var symmetric = new Option<bool>("--symmetric") { Description = "Symmetric activations (zero point 0) instead of asymmetric." };
            var rows = new Option<int?>("--calibration-rows") { Description = "Calibrate on the first N images (default: all); later images are held out for --labels." };
            var labels = new Option<string?>("--labels") { Description = "One u8 label per image: report the float model's arg-max accuracy on the held-out images." };
            var outDir = new Option<string?>("--out") { Description = "Output folder (default: the weights file's folder)." };
            var force = new Option<bool>("--force") { Description = "Overwrite files that exist; without --out, files beside the weights are never overwritten otherwise." };
            var command = new Command("transformer", "Calibrate the activations of a vision transformer (patch embedding, pre-LayerNorm encoder layers, mean pooling, dense head).")
            {
                weights, image, patch, width, layers, head, embedding, norm, data, scaleBy, offset, method, inputMethod, symmetric, rows, labels, outDir, force,
            };

            command.SetAction(result =>
            {
                try
                {
                    var shape = ParseShape(result.GetValue(image)!, result.GetValue(patch), result.GetValue(width), result.GetValue(embedding)!,
                        result.GetValue(layers)!, result.GetValue(norm)!, result.GetValue(head)!);
                    return Execute(new Settings
                    {
                        Weights = result.GetValue(weights)!,
                        Shape = shape,
                        Data = result.GetValue(data)!,
                        Scale = CalibrationData.ParseScale(result.GetValue(scaleBy)!, "--scale-by"),
                        Offset = CalibrationData.ParseNumber(result.GetValue(offset)!, "--offset"),
                        Method = Calibrator(result.GetValue(method)!, "--method"),
                        InputMethod = Calibrator(result.GetValue(inputMethod)!, "--input-method"),
                        Mode = result.GetValue(symmetric) ? RangeMode.Symmetric : RangeMode.Asymmetric,
                        CalibrationRows = result.GetValue(rows),
                        Labels = result.GetValue(labels),
                        Out = result.GetValue(outDir),
                        Force = result.GetValue(force),
                    }, output);
                }
                catch (UsageException e)
                {
                    error.WriteLine("error: " + e.Message);
                    return 2;
                }
            });
            return command;
        }

        /// <summary>Builds the shape from the options; every malformed value is a <see cref="UsageException"/> naming it.</summary>
        public static TransformerShape ParseShape(string image, int patch, int width, string embedding, string layers, string norm, string head)
        {
            string[] sides = image.Split('x', 'X');
            var dims = new int[3];
            bool valid = sides.Length == 3;
            for (int i = 0; valid && i < 3; i++) valid = int.TryParse(sides[i], NumberStyles.None, Invariant, out dims[i]) && dims[i] > 0;
            if (!valid) throw new UsageException($"--image '{image}' is not rows x columns x channels, e.g. 28x28x1.");

            var encoder = new List<EncoderLayerShape>();
            foreach (string raw in layers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = raw.Split(':');
                if (parts.Length != 3 || parts[0].Length == 0
                    || !int.TryParse(parts[1], NumberStyles.None, Invariant, out int heads) || heads <= 0
                    || !int.TryParse(parts[2], NumberStyles.None, Invariant, out int feedForward) || feedForward <= 0)
                {
                    throw new UsageException($"--layers: '{raw}' is not prefix:heads:feed-forward, e.g. blocks.0:4:128.");
                }

                encoder.Add(new EncoderLayerShape(parts[0], heads, feedForward));
            }

            IReadOnlyList<DenseLayerSpec> dense;
            try
            {
                dense = DenseLayerSpec.ParseList(head);
            }
            catch (FormatException e)
            {
                throw new UsageException("--head: " + e.Message);
            }

            var shape = new TransformerShape(dims[0], dims[1], dims[2], patch, width, embedding, encoder, norm,
                dense.Select(d => new HeadLayerShape(d.Name, d.Outputs, d.Activation)).ToArray());
            string? problem = shape.Validate();
            if (problem != null) throw new UsageException(problem);
            return shape;
        }

        private sealed class Settings
        {
            public string Weights = "", Data = "";
            public TransformerShape Shape = null!;
            public double Scale, Offset;
            public ICalibrator Method = null!, InputMethod = null!;
            public RangeMode Mode;
            public int? CalibrationRows;
            public string? Labels, Out;
            public bool Force;
        }

        private static ICalibrator Calibrator(string name, string option)
        {
            try
            {
                return ModelCalibrator.CreateCalibrator(name);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(option + ": " + e.Message.Split(" (Parameter")[0]);
            }
        }

        private static int Execute(Settings o, TextWriter output)
        {
            if (!File.Exists(o.Weights)) throw new UsageException($"Weights file '{o.Weights}' not found.");
            FloatModel model;
            try
            {
                model = FloatModel.VisionTransformer(SafeTensorsFile.Parse(File.ReadAllBytes(o.Weights)), o.Shape);
            }
            catch (FormatException e)
            {
                throw new UsageException($"'{o.Weights}' is not a readable safetensors file: {e.Message}");
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message.Split(" (Parameter")[0]);
            }

            int size = model.InputSize;
            var (all, total, calibrationRows, labelBytes) = CalibrationData.Load(o.Data, size, o.Scale, o.Offset, o.CalibrationRows, o.Labels, "images");

            string outDir = o.Out ?? Path.GetDirectoryName(Path.GetFullPath(o.Weights))!;
            string path = Path.Combine(outDir, Path.GetFileNameWithoutExtension(o.Weights) + ".calibration.txt");
            CalibrateCommand.RefuseToOverwrite(new[] { path }, o.Out, o.Force);
            Directory.CreateDirectory(outDir);
            var console = CalibrateCommand.CreateConsole(output);
            console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                $"{o.Shape} from {Path.GetFileName(o.Weights)}; {calibrationRows} calibration images of {total}.")));

            ActivationCalibration calibration = null!;
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("float transformer over calibration images", maxValue: calibrationRows);
                    var statistics = ActivationStatistics.Collect(model, all.AsSpan(0, calibrationRows * size), 256, new Progress(v => task.Value = v));
                    calibration = ActivationCalibration.Calibrate(statistics, o.Method, o.InputMethod, o.Mode);
                    task.Value = calibrationRows;
                });

            File.WriteAllText(path, calibration.ToText());

            var table = new Table().Title(Markup.Escape(calibration.Method + " (" + (o.Mode == RangeMode.Symmetric ? "symmetric" : "asymmetric") + ")"));
            foreach (string c in new[] { "activation", "observed", "chosen", "scale", "zero point", "clipped %", "SQNR dB" }) table.AddColumn(c);
            foreach (var t in calibration.Tensors)
            {
                table.AddRow(new[]
                {
                    t.Name,
                    FormattableString.Invariant($"[{t.Statistics.Min:G5}, {t.Statistics.Max:G5}]"),
                    FormattableString.Invariant($"[{t.Range.Min:G5}, {t.Range.Max:G5}]"),
                    t.Parameters.Scale.ToString("G7", Invariant), t.Parameters.ZeroPoint.ToString(Invariant),
                    (100 * t.ClippedFraction).ToString("F4", Invariant), t.Sqnr.ToString("F2", Invariant),
                }.Select(text => (Spectre.Console.Rendering.IRenderable)new Text(text)).ToArray());
            }

            console.Write(table);
            if (labelBytes != null)
            {
                int first = calibrationRows < total ? calibrationRows : 0, correct = 0;
                var logits = new float[model.OutputSize];
                for (int n = first; n < total; n++)
                {
                    model.Run(all.AsSpan(n * size, size), logits);
                    int best = 0;
                    for (int j = 1; j < logits.Length; j++) if (logits[j] > logits[best]) best = j;
                    correct += best == labelBytes[n] ? 1 : 0;
                }

                output.WriteLine(FormattableString.Invariant(
                    $"Float accuracy on {(first > 0 ? "the held-out" : "all")} {total - first} images: {100.0 * correct / (total - first):F2} % ({correct} / {total - first})."));
            }

            output.WriteLine($"Wrote {path}.");
            return 0;
        }

        private sealed class Progress : IProgress<long>
        {
            private readonly Action<double> _report;

            public Progress(Action<double> report) => _report = report;

            public void Report(long value) => _report(value);
        }
    }
}
