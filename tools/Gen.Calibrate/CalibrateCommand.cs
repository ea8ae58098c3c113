using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Interpreter;
using Spectre.Console;

namespace Gen.Calibrate
{
    /// <summary>
    /// The <c>gen-calibrate</c> command: runs the float model over calibration data, calibrates every activation
    /// with one or more methods, and writes the attribute lines, the calibration text file, a report and a
    /// histogram picture per activation. Exit codes: 0 success, 2 a usage or input error (one line on stderr),
    /// 1 an unexpected failure.
    /// </summary>
    public static class CalibrateCommand
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>Runs the command with the given arguments and writers; returns the exit code.</summary>
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            var weights = new Option<string>("--weights") { Description = "The float32 model (safetensors, PyTorch layout).", Required = true };
            var layers = new Option<string>("--layers") { Description = "Layers in order, name:outputs[:activation], e.g. fc1:128:relu,fc2:10.", Required = true };
            var data = new Option<string>("--data") { Description = "Calibration data: raw u8 rows (.u8, or gzip .gz) or little-endian float32 rows (.f32).", Required = true };
            var rowSize = new Option<int?>("--row-size") { Description = "Values per row (default: the model's input size)." };
            var scaleBy = new Option<string>("--scale-by") { Description = "Multiply u8 values by this (a number or a fraction, e.g. 1/255).", DefaultValueFactory = _ => "1" };
            var offset = new Option<string>("--offset") { Description = "Subtract this from u8 values before scaling.", DefaultValueFactory = _ => "0" };
            var method = new Option<string>("--method") { Description = "max, max-ma, percentile[:P], mse, entropy, easyquant; several separated by commas, or all.", DefaultValueFactory = _ => "mse" };
            var symmetric = new Option<bool>("--symmetric") { Description = "Symmetric activations (zero point 0) instead of asymmetric." };
            var perTensor = new Option<bool>("--per-tensor-weights") { Description = "One weight scale per tensor instead of per output channel." };
            var rows = new Option<int?>("--calibration-rows") { Description = "Calibrate on the first N rows (default: all); later rows are held out for --labels." };
            var labels = new Option<string?>("--labels") { Description = "One u8 label per row: report arg-max accuracy on the held-out rows (or all rows)." };
            var samples = new Option<int>("--easyquant-samples") { Description = "Rows EasyQuant searches on (spread over the calibration rows).", DefaultValueFactory = _ => 512 };
            var outDir = new Option<string?>("--out") { Description = "Output folder (default: the weights file's folder)." };
            var force = new Option<bool>("--force") { Description = "Overwrite files that exist; without --out, files beside the weights are never overwritten otherwise." };
            var root = new RootCommand("Post-training calibration for Gen: from a float model and sample inputs to the scales and zero points of its [ModelInput]/[Dense] attributes.")
            {
                weights, layers, data, rowSize, scaleBy, offset, method, symmetric, perTensor, rows, labels, samples, outDir, force,
                TransformerCommand.Create(output, error),
            };

            // The action is set before parsing: a root command with subcommands but no action would require one.
            root.SetAction(result =>
            {
                try
                {
                    var o = new Settings
                    {
                        Weights = result.GetValue(weights)!,
                        Layers = result.GetValue(layers)!,
                        Data = result.GetValue(data)!,
                        RowSize = result.GetValue(rowSize),
                        Scale = CalibrationData.ParseScale(result.GetValue(scaleBy)!, "--scale-by"),
                        Offset = CalibrationData.ParseNumber(result.GetValue(offset)!, "--offset"),
                        Methods = result.GetValue(method)!,
                        Mode = result.GetValue(symmetric) ? RangeMode.Symmetric : RangeMode.Asymmetric,
                        PerChannel = !result.GetValue(perTensor),
                        CalibrationRows = result.GetValue(rows),
                        Labels = result.GetValue(labels),
                        EasyQuantSamples = result.GetValue(samples),
                        Out = result.GetValue(outDir),
                        Force = result.GetValue(force),
                    };
                    return Execute(o, output);
                }
                catch (UsageException e)
                {
                    error.WriteLine("error: " + e.Message);
                    return 2;
                }
            });

            var config = new InvocationConfiguration { Output = output, Error = error };
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                error.WriteLine("error: " + parse.Errors[0].Message);
                return 2;
            }

            return parse.Invoke(config);
        }

        private sealed class Settings
        {
            public string Weights = "", Layers = "", Data = "", Methods = "";
            public int? RowSize, CalibrationRows;
            public double Scale, Offset;
            public RangeMode Mode;
            public bool PerChannel;
            public string? Labels, Out;
            public int EasyQuantSamples;
            public bool Force;
        }

        private static int Execute(Settings o, TextWriter output)
        {
            // Inputs, each checked with a one-line message.
            if (!File.Exists(o.Weights)) throw new UsageException($"Weights file '{o.Weights}' not found.");
            SafeTensorsFile file;
            try
            {
                file = SafeTensorsFile.Parse(File.ReadAllBytes(o.Weights));
            }
            catch (FormatException e)
            {
                throw new UsageException($"'{o.Weights}' is not a readable safetensors file: {e.Message}");
            }

            IReadOnlyList<DenseLayerSpec> specs;
            FloatModel model;
            try
            {
                specs = DenseLayerSpec.ParseList(o.Layers);
                model = FloatModel.FromSafeTensors(file, specs);
            }
            catch (Exception e) when (e is FormatException || e is ArgumentException)
            {
                throw new UsageException(e.Message);
            }

            int rowSize = o.RowSize ?? model.InputSize;
            if (rowSize != model.InputSize)
            {
                throw new UsageException($"Shape mismatch: --row-size is {rowSize} but '{specs[0].Name}.weight' takes {model.InputSize} inputs.");
            }

            var methods = ParseMethods(o.Methods);
            if (o.EasyQuantSamples <= 0) throw new UsageException("--easyquant-samples must be positive.");
            var (all, total, calibrationRows, labelBytes) = CalibrationData.Load(o.Data, rowSize, o.Scale, o.Offset, o.CalibrationRows, o.Labels, "data rows");

            string outDir = o.Out ?? Path.GetDirectoryName(Path.GetFullPath(o.Weights))!;
            string stem = Path.GetFileNameWithoutExtension(o.Weights);
            // Before the long part: the files one method always writes (all of them are checked again before writing).
            if (methods.Count == 1)
            {
                RefuseToOverwrite(new[] { ".attributes.txt", ".report.md", methods[0] == "easyquant" ? ".int8.calibration.txt" : ".calibration.txt" }
                    .Select(e => Path.Combine(outDir, stem + e)), o.Out, o.Force);
            }

            Directory.CreateDirectory(outDir);
            var console = CreateConsole(output);
            var calibration = all.AsMemory(0, calibrationRows * rowSize);
            console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                $"Model {model.InputSize}-{string.Join("-", model.Layers.Select(l => l.Outputs))} from {Path.GetFileName(o.Weights)}; {calibrationRows} calibration rows of {total}.")));

            // Statistics: one pass of the float model over the calibration rows.
            ActivationStatistics? statistics = null;
            var results = new List<(CalibratedModel Model, double[] Cosines, double? Accuracy)>();
            float[] cosineRows = Subset(calibration.Span, rowSize, Math.Min(1000, calibrationRows));
            float[] easyQuantRows = Subset(calibration.Span, rowSize, Math.Min(o.EasyQuantSamples, calibrationRows));
            (float[] Rows, byte[] Labels)? heldOut = null;
            if (labelBytes != null)
            {
                int first = calibrationRows < total ? calibrationRows : 0;
                heldOut = (all.AsSpan(first * rowSize).ToArray(), labelBytes.AsSpan(first).ToArray());
            }

            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var collect = ctx.AddTask("float model over calibration rows", maxValue: calibrationRows);
                    statistics = ActivationStatistics.Collect(model, calibration.Span, 256, new Progress(v => collect.Value = v));
                    collect.Value = calibrationRows;
                    foreach (string m in methods)
                    {
                        var task = ctx.AddTask("calibrating: " + m, maxValue: model.Layers.Count + 1);
                        CalibratedModel calibrated = m == "easyquant"
                            ? EasyQuant.Calibrate(statistics, easyQuantRows, new EasyQuantOptions { PerChannelWeights = o.PerChannel },
                                new Progress(v => task.Value = v))
                            : ModelCalibrator.Calibrate(statistics, ModelCalibrator.CreateCalibrator(m), o.Mode, o.PerChannel);
                        var cosines = calibrated.LayerCosineSimilarities(cosineRows);
                        double? accuracy = heldOut is { } h ? calibrated.Accuracy(h.Rows, h.Labels) : null;
                        results.Add((calibrated, cosines, accuracy));
                        task.Value = task.MaxValue;
                    }
                });

            double? floatAccuracy = heldOut is { } ho ? CalibratedModel.FloatAccuracy(model, ho.Rows, ho.Labels) : null;
            // Every file first, so that nothing is written when one of them may not be overwritten.
            var files = new List<(string Path, Action Write)>();
            foreach (var (calibrated, cosines, accuracy) in results)
            {
                string prefix = Path.Combine(outDir, methods.Count == 1 ? stem : stem + "." + FileSafe(calibrated.Method));
                string weightsRef = Path.GetFileName(o.Weights);
                // The parameter file is named after the weights it belongs to (model.safetensors ->
                // model.calibration.txt), which is where the generator looks for it by default.
                string parameters = prefix + ".calibration.txt";
                if (!calibrated.UsesGeneratorWeightScales)
                {
                    files.Add((prefix + ".int8.safetensors", () => File.WriteAllBytes(prefix + ".int8.safetensors", CalibrationWriters.WriteQuantizedWeights(calibrated))));
                    weightsRef = Path.GetFileName(prefix + ".int8.safetensors");
                    parameters = prefix + ".int8.calibration.txt";
                }

                files.Add((prefix + ".attributes.txt", () => File.WriteAllText(prefix + ".attributes.txt", CalibrationWriters.AttributeText(calibrated, weightsRef))));
                files.Add((parameters, () => File.WriteAllText(parameters, CalibrationWriters.CalibrationText(calibrated))));
                var report = new StringBuilder();
                report.Append("# Calibration of ").Append(Path.GetFileName(o.Weights)).Append(": ").Append(calibrated.Method).Append("\n\n");
                if (accuracy is double a) report.Append(Invariant, $"Held-out accuracy: INT8 {a:F2} %, float {floatAccuracy:F2} %.\n\n");
                report.Append(CalibrationWriters.MarkdownReport(calibrated, cosines));
                report.Append("\nCosine: float vs dequantized INT8 output of each layer over ").Append(cosineRows.Length / rowSize).Append(" calibration rows, errors of earlier layers included.\n");
                files.Add((prefix + ".report.md", () => File.WriteAllText(prefix + ".report.md", report.ToString())));
                foreach (var t in calibrated.Tensors)
                {
                    string svg = prefix + "." + FileSafe(t.Name) + ".svg";
                    files.Add((svg, () => File.WriteAllText(svg, SvgHistogramWriter.Write(t))));
                }
            }

            RefuseToOverwrite(files.Select(f => f.Path), o.Out, o.Force);
            var written = new List<string>();
            foreach (var (path, write) in files)
            {
                write();
                written.Add(path);
            }

            // The report on the console.
            foreach (var (calibrated, cosines, _) in results)
            {
                var table = new Table().Title(Markup.Escape(calibrated.Method + " (" + (o.Mode == RangeMode.Symmetric ? "symmetric" : "asymmetric") + ")"));
                foreach (string c in new[] { "tensor", "observed", "chosen", "scale", "zero point", "clipped %", "SQNR dB", "cosine" }) table.AddColumn(c);
                int i = -1;
                foreach (var t in calibrated.Tensors)
                {
                    AddRow(table, t.Name,
                        FormattableString.Invariant($"[{t.Statistics.Min:G5}, {t.Statistics.Max:G5}]"),
                        FormattableString.Invariant($"[{t.Range.Min:G5}, {t.Range.Max:G5}]"),
                        t.Parameters.Scale.ToString("G7", Invariant), t.Parameters.ZeroPoint.ToString(Invariant),
                        (100 * t.ClippedFraction).ToString("F4", Invariant), t.Sqnr.ToString("F2", Invariant),
                        i >= 0 ? cosines[i].ToString("F6", Invariant) : "");
                    i++;
                }

                console.Write(table);
            }

            if (floatAccuracy is double fa)
            {
                var summary = new Table().Title("held-out accuracy");
                summary.AddColumn("method");
                summary.AddColumn("accuracy %");
                summary.AddColumn("vs float");
                AddRow(summary, "float32", fa.ToString("F2", Invariant), "");
                foreach (var (calibrated, _, accuracy) in results)
                {
                    AddRow(summary, calibrated.Method, accuracy!.Value.ToString("F2", Invariant), (accuracy.Value - fa).ToString("+0.00;-0.00;0.00", Invariant));
                }

                console.Write(summary);
            }

            var first1 = results[0].Model;
            output.WriteLine();
            output.WriteLine("Attributes (" + first1.Method + "):");
            output.Write(CalibrationWriters.AttributeText(first1, first1.UsesGeneratorWeightScales ? Path.GetFileName(o.Weights) : stem + (methods.Count == 1 ? "" : "." + FileSafe(first1.Method)) + ".int8.safetensors"));
            output.WriteLine($"Wrote {written.Count} files to {outDir}.");
            return 0;
        }

        /// <summary>
        /// Without <c>--out</c> the files go beside the weights, where a calibration file is often tracked: refuses (a
        /// usage error, exit code 2) to overwrite any that exists, unless <c>--force</c>. With <c>--out</c> the folder
        /// was chosen, and its files are replaced.
        /// </summary>
        internal static void RefuseToOverwrite(IEnumerable<string> paths, string? outDir, bool force)
        {
            if (outDir != null || force) return;
            var existing = paths.Where(File.Exists).ToList();
            if (existing.Count == 0) return;
            throw new UsageException($"'{existing[0]}' exists{(existing.Count > 1 ? $" (and {existing.Count - 1} more of the files to write)" : "")}; " +
                "without --out, gen-calibrate writes beside the weights only where that overwrites nothing: pass --out <folder> to write elsewhere, or --force to overwrite.");
        }

        /// <summary>
        /// A Spectre console on <paramref name="output"/>: colours, live progress and the terminal's width on a real
        /// terminal; plain text 160 columns wide when the output is redirected or captured (tests).
        /// </summary>
        internal static IAnsiConsole CreateConsole(TextWriter output)
        {
            bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            });
            if (!terminal) console.Profile.Width = 160;
            return console;
        }

        private static void AddRow(Table table, params string[] cells) =>
            table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)).ToArray());

        private static List<string> ParseMethods(string text)
        {
            var methods = new List<string>();
            foreach (string raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string m = raw.ToLowerInvariant();
                if (m == "all")
                {
                    methods.AddRange(ModelCalibrator.MethodNames);
                    continue;
                }

                if (m != "easyquant")
                {
                    try
                    {
                        ModelCalibrator.CreateCalibrator(m);
                    }
                    catch (ArgumentException e)
                    {
                        throw new UsageException(e.Message.Split(" (Parameter")[0]);
                    }
                }

                methods.Add(m);
            }

            if (methods.Count == 0) throw new UsageException("--method names no method.");
            return methods.Distinct().ToList();
        }

        // Up to n rows spread evenly over the data.
        private static float[] Subset(ReadOnlySpan<float> data, int rowSize, int n)
        {
            int rows = data.Length / rowSize;
            var result = new float[n * rowSize];
            for (int i = 0; i < n; i++) data.Slice((int)((long)i * rows / n) * rowSize, rowSize).CopyTo(result.AsSpan(i * rowSize));
            return result;
        }

        private static string FileSafe(string name)
        {
            var sb = new StringBuilder();
            foreach (char c in name) sb.Append(char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_' ? c : '-');
            return sb.ToString().Replace("--", "-").Trim('-');
        }

        private sealed class Progress : IProgress<long>, IProgress<int>
        {
            private readonly Action<double> _report;

            public Progress(Action<double> report) => _report = report;

            public void Report(long value) => _report(value);

            public void Report(int value) => _report(value);
        }
    }
}
