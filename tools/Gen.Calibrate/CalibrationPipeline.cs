using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Spectre.Console;

namespace Gen.Calibrate
{
    /// <summary>
    /// The options every verb shares (data, methods, output), declared once; each verb adds the options that describe
    /// its model (an MLP's layers, a transformer's shape).
    /// </summary>
    internal sealed class PipelineOptions
    {
        public readonly Option<string> Weights, Data, ScaleBy, Offset, Method;
        public readonly Option<string?> InputMethod, Labels, Out, Report;
        public readonly Option<bool> Symmetric, Force;
        public readonly Option<int?> CalibrationRows;

        /// <param name="weights">What the weights file holds.</param>
        /// <param name="rows">What a data row is, plural ("rows", "images").</param>
        /// <param name="defaultMethod">The verb's default <c>--method</c>.</param>
        /// <param name="defaultInputMethod">The verb's default <c>--input-method</c>; null: the input gets each method's calibrator.</param>
        public PipelineOptions(string weights, string rows, string defaultMethod, string? defaultInputMethod)
        {
            Weights = new Option<string>("--weights") { Description = weights, Required = true };
            Data = new Option<string>("--data") { Description = $"Calibration {rows}: raw u8 rows (.u8, or gzip .gz) or little-endian float32 rows (.f32).", Required = true };
            ScaleBy = new Option<string>("--scale-by") { Description = "Multiply u8 values by this (a number or a fraction, e.g. 1/255).", DefaultValueFactory = _ => "1" };
            Offset = new Option<string>("--offset") { Description = "Subtract this from u8 values before scaling.", DefaultValueFactory = _ => "0" };
            Method = new Option<string>("--method")
            {
                Description = "max, max-ma, percentile[:P], mse, entropy, easyquant (a chain of dense layers only); several separated by commas, or all.",
                DefaultValueFactory = _ => defaultMethod,
            };
            InputMethod = new Option<string?>("--input-method")
            {
                Description = defaultInputMethod is null
                    ? "Calibrator of the input (default: each method's own)."
                    : "Calibrator of the input (max keeps [0, 1] as scale 1/255, zero point -128).",
                DefaultValueFactory = _ => defaultInputMethod,
            };
            Symmetric = new Option<bool>("--symmetric") { Description = "Symmetric activations (zero point 0) instead of asymmetric." };
            CalibrationRows = new Option<int?>("--calibration-rows") { Description = $"Calibrate on the first N {rows} (default: all); later {rows} are held out for --labels." };
            Labels = new Option<string?>("--labels") { Description = $"One u8 label per row: report the arg-max accuracy of float and INT8 on the held-out {rows} (or all {rows})." };
            Out = new Option<string?>("--out") { Description = "Output folder (default: the weights file's folder)." };
            Force = new Option<bool>("--force") { Description = "Overwrite files that exist; without --out, files beside the weights are never overwritten otherwise." };
            Report = new Option<string?>("--report")
            {
                Description = $"Also write this self-contained HTML page: per activation its range, parameters, clipped values and the cosine and SQNR against the float model on held-out {rows}; the error each layer adds; histograms with the thresholds; every method's held-out score.",
            };
        }

        public IEnumerable<Option> All => new Option[] { Weights, Data, ScaleBy, Offset, Method, InputMethod, Symmetric, CalibrationRows, Labels, Out, Force, Report };

        public PipelineSettings Read(ParseResult result)
        {
            string? input = result.GetValue(InputMethod);
            return new PipelineSettings
            {
                Weights = result.GetValue(Weights)!,
                Data = result.GetValue(Data)!,
                Scale = CalibrationData.ParseScale(result.GetValue(ScaleBy)!, "--scale-by"),
                Offset = CalibrationData.ParseNumber(result.GetValue(Offset)!, "--offset"),
                Methods = result.GetValue(Method)!,
                InputMethod = input is null ? null : CalibrationPipeline.Calibrator(input, "--input-method"),
                Mode = result.GetValue(Symmetric) ? RangeMode.Symmetric : RangeMode.Asymmetric,
                CalibrationRows = result.GetValue(CalibrationRows),
                Labels = result.GetValue(Labels),
                Out = result.GetValue(Out),
                Force = result.GetValue(Force),
                Report = result.GetValue(Report),
            };
        }
    }

    /// <summary>The shared options' values.</summary>
    internal sealed class PipelineSettings
    {
        public string Weights = "", Data = "", Methods = "";
        public double Scale, Offset;
        public ICalibrator? InputMethod;
        public RangeMode Mode;
        public int? CalibrationRows;
        public string? Labels, Out, Report;
        public bool Force;
        public int EasyQuantSamples = 512;
    }

    /// <summary>
    /// The one implementation behind every verb: given the float model a verb built from its graph, it collects the
    /// activation statistics once, calibrates every activation of the graph with each method, quantizes the graph with
    /// those parameters (<see cref="ActivationCalibration.Quantize"/>), runs the reference interpreter for the cosine
    /// similarity of every activation and the held-out accuracy, and writes the same files for every family:
    /// <c>&lt;stem&gt;.calibration.txt</c>, <c>&lt;stem&gt;.report.md</c>, one SVG histogram per activation, and, for a
    /// model declared by one attribute per activation (a chain of dense layers), <c>&lt;stem&gt;.attributes.txt</c>; with
    /// <c>--report</c>, the HTML quantization report (<see cref="QuantizationReport"/>).
    /// </summary>
    internal static class CalibrationPipeline
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>Reads the weights file, or a one-line usage error.</summary>
        public static SafeTensorsFile ReadWeights(string path)
        {
            if (!File.Exists(path)) throw new UsageException($"Weights file '{path}' not found.");
            try
            {
                return SafeTensorsFile.Parse(File.ReadAllBytes(path));
            }
            catch (FormatException e)
            {
                throw new UsageException($"'{path}' is not a readable safetensors file: {e.Message}");
            }
        }

        /// <summary>A calibrator by name, or a usage error naming the option.</summary>
        public static ICalibrator Calibrator(string name, string option)
        {
            try
            {
                return CalibrationMethods.Create(name);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(option + ": " + Message(e));
            }
        }

        /// <summary>An exception's message without the parameter name .NET appends.</summary>
        public static string Message(Exception e) => e.Message.Split(" (Parameter")[0];

        private sealed record Result(string Label, ActivationCalibration Calibration, QuantizedGraph Quantized, double[] Cosines, double? Accuracy,
            ActivationError[]? Errors);

        /// <summary>Runs the pipeline on <paramref name="model"/>; <paramref name="description"/> names the model on the console.</summary>
        public static int Run(PipelineSettings o, FloatModel model, string description, string rowName, TextWriter output)
        {
            var graph = model.Graph;
            bool attributes = DenseChain.Is(graph);
            var methods = ParseMethods(o.Methods, graph);
            if (o.EasyQuantSamples <= 0) throw new UsageException("--easyquant-samples must be positive.");
            int rowSize = model.InputSize;
            var (all, total, calibrationRows, labelBytes) = CalibrationData.Load(o.Data, rowSize, o.Scale, o.Offset, o.CalibrationRows, o.Labels, rowName);

            string outDir = o.Out ?? Path.GetDirectoryName(Path.GetFullPath(o.Weights))!;
            string stem = Path.GetFileNameWithoutExtension(o.Weights);
            // Before the long part: the files one method always writes (all of them are checked again before writing).
            if (methods.Count == 1)
            {
                var first = new List<string> { methods[0] == CalibrationMethods.EasyQuant ? ".int8.calibration.txt" : ".calibration.txt" };
                if (attributes) first.Add(".attributes.txt");
                first.Add(".report.md");
                RefuseToOverwrite(first.Select(e => Path.Combine(outDir, stem + e)), o.Out, o.Force);
            }

            Directory.CreateDirectory(outDir);
            var console = CreateConsole(output);
            var calibration = all.AsMemory(0, calibrationRows * rowSize);
            console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                $"{description} from {Path.GetFileName(o.Weights)}; {calibrationRows} calibration {rowName} of {total}.")));

            float[] cosineRows = Subset(calibration.Span, rowSize, Math.Min(1000, calibrationRows));
            float[] easyQuantRows = Subset(calibration.Span, rowSize, Math.Min(o.EasyQuantSamples, calibrationRows));
            // The report's activation errors: up to 1,000 rows after the calibration rows, or calibration rows when none is held out.
            bool evaluationHeldOut = calibrationRows < total;
            float[]? evaluationRows = o.Report is null ? null
                : evaluationHeldOut ? Subset(all.AsSpan(calibrationRows * rowSize), rowSize, Math.Min(1000, total - calibrationRows)) : cosineRows;
            (float[] Rows, byte[] Labels)? heldOut = null;
            if (labelBytes != null)
            {
                int first = calibrationRows < total ? calibrationRows : 0;
                heldOut = (all.AsSpan(first * rowSize).ToArray(), labelBytes.AsSpan(first).ToArray());
            }

            // Statistics: one pass of the float model over the calibration rows; then each method on them.
            var results = new List<Result>();
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var collect = ctx.AddTask($"float model over calibration {rowName}", maxValue: calibrationRows);
                    var statistics = ActivationStatistics.Collect(model, calibration.Span, 256, new Progress(v => collect.Value = v));
                    collect.Value = calibrationRows;
                    foreach (string m in methods)
                    {
                        var task = ctx.AddTask("calibrating: " + m, maxValue: 5);
                        var calibrated = Calibrate(statistics, m, o, easyQuantRows, new Progress(v => task.Value = v / (model.DenseLayers.Count + 1.0)));
                        task.Value = 1;
                        string label = m == CalibrationMethods.EasyQuant ? m : CalibrationMethods.Create(m).Name;
                        QuantizedGraph quantized;
                        try
                        {
                            quantized = calibrated.Quantize(model);
                        }
                        catch (ModelDefinitionException e)
                        {
                            throw new UsageException($"{label}: the calibrated parameters do not make an integer model: {Message(e)}");
                        }

                        task.Value = 2;
                        var cosines = CalibrationMetrics.CosineSimilarities(model, quantized, cosineRows);
                        task.Value = 3;
                        double? accuracy = heldOut is { } h ? CalibrationMetrics.Accuracy(quantized, h.Rows, h.Labels) : null;
                        task.Value = 4;
                        var errors = evaluationRows is null ? null : CalibrationMetrics.ActivationErrors(model, quantized, evaluationRows);
                        results.Add(new Result(label, calibrated, quantized, cosines, accuracy, errors));
                        task.Value = 5;
                    }
                });

            double? floatAccuracy = heldOut is { } ho ? CalibrationMetrics.FloatAccuracy(model, ho.Rows, ho.Labels) : null;
            // Every file first, so that nothing is written when one of them may not be overwritten.
            var files = new List<(string Path, Action Write)>();
            var weightsRefs = new List<string>();
            foreach (var r in results)
            {
                var calibrated = r.Calibration;
                string prefix = Path.Combine(outDir, methods.Count == 1 ? stem : stem + "." + FileSafe(r.Label));
                string weightsRef = Path.GetFileName(o.Weights);
                // The parameter file is named after the weights it belongs to (model.safetensors ->
                // model.calibration.txt), which is where the generator looks for it by default.
                string parameters = prefix + ".calibration.txt";
                if (!calibrated.UsesGeneratorWeightScales)
                {
                    files.Add((prefix + ".int8.safetensors", () => File.WriteAllBytes(prefix + ".int8.safetensors", CalibrationWriters.WriteQuantizedWeights(calibrated, model))));
                    weightsRef = Path.GetFileName(prefix + ".int8.safetensors");
                    parameters = prefix + ".int8.calibration.txt";
                }

                weightsRefs.Add(weightsRef);
                files.Add((parameters, () => File.WriteAllText(parameters, CalibrationWriters.CalibrationText(calibrated))));
                if (attributes) files.Add((prefix + ".attributes.txt", () => File.WriteAllText(prefix + ".attributes.txt", CalibrationWriters.AttributeText(calibrated, weightsRef))));
                var report = new StringBuilder();
                report.Append("# Calibration of ").Append(Path.GetFileName(o.Weights)).Append(": ").Append(calibrated.Method).Append("\n\n");
                if (r.Accuracy is double a) report.Append(Invariant, $"Held-out accuracy: INT8 {a:F2} %, float {floatAccuracy:F2} %.\n\n");
                report.Append(CalibrationWriters.MarkdownReport(calibrated, r.Quantized, r.Cosines));
                report.Append("\nCosine: float vs dequantized INT8 values of each activation over ").Append(cosineRows.Length / rowSize)
                      .Append(" calibration ").Append(rowName).Append(", errors of earlier nodes included (for the input, its INT8 round trip).\n");
                files.Add((prefix + ".report.md", () => File.WriteAllText(prefix + ".report.md", report.ToString())));
                foreach (var t in calibrated.Tensors)
                {
                    string svg = prefix + "." + FileSafe(t.Name) + ".svg";
                    files.Add((svg, () => File.WriteAllText(svg, Plots.Svg(t))));
                }
            }

            // The report's path was named: it is written (over an older report) wherever it points.
            if (o.Report is string reportPath)
            {
                var page = new ReportInput(description, Path.GetFileName(o.Weights), Path.GetFileName(o.Data), rowName, calibrationRows,
                    evaluationRows!.Length / rowSize, evaluationHeldOut, heldOut?.Labels.Length ?? 0, floatAccuracy,
                    results.Select(r => new ReportMethod(r.Label, r.Calibration, r.Accuracy, r.Errors!)).ToList());
                files.Add((Path.GetFullPath(reportPath), () =>
                {
                    string full = Path.GetFullPath(reportPath);
                    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                    File.WriteAllText(full, QuantizationReport.Html(page));
                }));
            }

            RefuseToOverwrite(files.Select(f => f.Path).Where(p => o.Report is null || p != Path.GetFullPath(o.Report)), o.Out, o.Force);
            foreach (var (_, write) in files) write();

            // The report on the console.
            foreach (var r in results)
            {
                var table = new Table().Title(Markup.Escape(r.Calibration.Method + " (" + (r.Calibration.Mode == RangeMode.Symmetric ? "symmetric" : "asymmetric") + ")"));
                foreach (string c in new[] { "activation", "observed", "chosen", "scale", "zero point", "clipped %", "SQNR dB", "cosine" }) table.AddColumn(c);
                for (int i = 0; i < r.Calibration.Tensors.Count; i++)
                {
                    var t = r.Calibration.Tensors[i];
                    AddRow(table, t.Name,
                        FormattableString.Invariant($"[{t.Statistics.Min:G5}, {t.Statistics.Max:G5}]"),
                        FormattableString.Invariant($"[{t.Range.Min:G5}, {t.Range.Max:G5}]"),
                        t.Parameters.Scale.ToString("G7", Invariant), t.Parameters.ZeroPoint.ToString(Invariant),
                        (100 * t.ClippedFraction).ToString("F4", Invariant), t.Sqnr.ToString("F2", Invariant),
                        r.Cosines[i].ToString("F6", Invariant));
                }

                console.Write(table);
            }

            if (floatAccuracy is double fa && heldOut is { } held)
            {
                var summary = new Table().Title("held-out accuracy");
                summary.AddColumn("method");
                summary.AddColumn("accuracy %");
                summary.AddColumn("vs float");
                AddRow(summary, "float32", fa.ToString("F2", Invariant), "");
                foreach (var r in results)
                {
                    AddRow(summary, r.Calibration.Method, r.Accuracy!.Value.ToString("F2", Invariant), (r.Accuracy.Value - fa).ToString("+0.00;-0.00;0.00", Invariant));
                }

                console.Write(summary);
                int count = held.Labels.Length, correct = (int)Math.Round(fa * count / 100);
                output.WriteLine(FormattableString.Invariant(
                    $"Float accuracy on {(calibrationRows < total ? "the held-out" : "all")} {count} {rowName}: {fa:F2} % ({correct} / {count})."));
            }

            if (attributes)
            {
                output.WriteLine();
                output.WriteLine("Attributes (" + results[0].Calibration.Method + "):");
                output.Write(CalibrationWriters.AttributeText(results[0].Calibration, weightsRefs[0]));
            }

            output.WriteLine($"Wrote {files.Count - (o.Report is null ? 0 : 1)} files to {outDir}.");
            if (o.Report != null) output.WriteLine($"Wrote the quantization report to {Path.GetFullPath(o.Report)}.");
            return 0;
        }

        private static ActivationCalibration Calibrate(ActivationStatistics statistics, string method, PipelineSettings o, float[] easyQuantRows,
            IProgress<int> progress)
        {
            if (method == CalibrationMethods.EasyQuant) return EasyQuant.Calibrate(statistics, easyQuantRows, new EasyQuantOptions(), progress);
            var calibrator = CalibrationMethods.Create(method);
            return ActivationCalibration.Calibrate(statistics, calibrator, o.InputMethod ?? calibrator, o.Mode);
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

        // The methods named, checked against the graph: "all" is every method that applies to it; easyquant named for a
        // graph it does not cover is a usage error that says why.
        private static List<string> ParseMethods(string text, ModelGraph graph)
        {
            var methods = new List<string>();
            foreach (string raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string m = raw.ToLowerInvariant();
                if (m == "all")
                {
                    methods.AddRange(CalibrationMethods.Names.Where(n => CalibrationMethods.AppliesTo(n, graph, out _)));
                    continue;
                }

                if (m == CalibrationMethods.EasyQuant)
                {
                    if (!CalibrationMethods.AppliesTo(m, graph, out string? problem)) throw new UsageException("--method: " + problem);
                }
                else
                {
                    Calibrator(m, "--method");
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
