using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using Gen.Runtime.Calibration;

namespace Gen.Calibrate
{
    /// <summary>One calibration method's result as the report shows it.</summary>
    /// <param name="Label">The method's name.</param>
    /// <param name="Calibration">Its calibration (ranges, parameters, clipped fractions, statistics).</param>
    /// <param name="Accuracy">Held-out arg-max accuracy of its integer model in percent, or null without labels.</param>
    /// <param name="Errors">Per activation, its integer model's error against the float model on the evaluation rows.</param>
    internal sealed record ReportMethod(string Label, ActivationCalibration Calibration, double? Accuracy, IReadOnlyList<ActivationError> Errors)
    {
        /// <summary>The error each node adds.</summary>
        public IReadOnlyList<LayerError> Layers { get; } = LayerError.Of(Calibration.Graph, Errors);

        /// <summary>The error of the model's output.</summary>
        public ActivationError Output => Errors[Errors.Count - 1];
    }

    /// <summary>What the report is about: the model, the data and every method's result.</summary>
    /// <param name="Model">The model's description (its shape).</param>
    /// <param name="Weights">The weights file's name.</param>
    /// <param name="Data">The data file's name.</param>
    /// <param name="RowName">What a row is, plural ("data rows", "images").</param>
    /// <param name="CalibrationRows">Rows calibrated on.</param>
    /// <param name="EvaluationRows">Rows the activation errors were measured on.</param>
    /// <param name="HeldOut">Whether those rows are held out (false: no row was, and they are calibration rows).</param>
    /// <param name="AccuracyRows">Labelled rows the accuracy was measured on (0 without labels).</param>
    /// <param name="FloatAccuracy">The float model's accuracy on them, or null.</param>
    /// <param name="Methods">Every method's result, in the order they ran.</param>
    internal sealed record ReportInput(string Model, string Weights, string Data, string RowName, int CalibrationRows, int EvaluationRows,
        bool HeldOut, int AccuracyRows, double? FloatAccuracy, IReadOnlyList<ReportMethod> Methods);

    /// <summary>
    /// The quantization report: one self-contained HTML page (inline CSS, plots as inline SVG drawn by
    /// <see cref="Plots"/>, no script, nothing fetched) with a summary that names the layer adding the most error,
    /// every method's held-out score, the error each layer adds, per activation its range, parameters, clipped fraction
    /// and held-out cosine and SQNR, and each activation's histogram with the thresholds. The method detailed is the one
    /// with the best held-out accuracy (then the best output SQNR); the others' thresholds are drawn on the histograms.
    /// Every number a test may check carries its exact value in a <c>data-value</c> attribute next to its
    /// <c>data-key</c>, in rows marked <c>data-activation</c>, <c>data-layer</c> or <c>data-method</c>.
    /// </summary>
    internal static class QuantizationReport
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The method the report details: best accuracy, then best output SQNR, then the first.</summary>
        public static int Detailed(IReadOnlyList<ReportMethod> methods)
        {
            int best = 0;
            for (int i = 1; i < methods.Count; i++)
            {
                var m = methods[i];
                var b = methods[best];
                double ma = m.Accuracy ?? 0, ba = b.Accuracy ?? 0;
                if (ma > ba || (ma == ba && m.Output.Sqnr > b.Output.Sqnr)) best = i;
            }

            return best;
        }

        /// <summary>The page.</summary>
        public static string Html(ReportInput input)
        {
            var methods = input.Methods;
            int detailedIndex = Detailed(methods);
            var detailed = methods[detailedIndex];
            var calibration = detailed.Calibration;
            var layers = detailed.Layers;
            int worst = LayerError.Worst(layers);
            string? worstActivation = worst >= 0 ? layers[worst].Output : null;
            string rows = FormattableString.Invariant($"{input.EvaluationRows} {(input.HeldOut ? "held-out" : "calibration")} {input.RowName}");

            var html = new StringBuilder();
            html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Quantization report: ").Append(E(input.Weights)).Append("</title>\n");
            html.Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
            html.Append("<header><h1>Quantization report: ").Append(E(input.Weights)).Append("</h1>\n<p class=\"meta\">")
                .Append(E(input.Model)).Append(Invariant, $"; calibrated on {input.CalibrationRows} {E(input.RowName)} of {E(input.Data)}; ")
                .Append("errors of the integer model (Gen's reference interpreter, which the generated code matches bit for bit) against the float model over ")
                .Append(E(rows)).Append(input.HeldOut ? "" : " (no row was held out: pass --calibration-rows to keep some apart)").Append(".</p></header>\n");

            // Summary: the worst layer first, in one sentence.
            html.Append("<section id=\"summary\">\n<h2>Summary</h2>\n");
            if (worst >= 0)
            {
                var w = layers[worst];
                string node = w.Layer == w.Output
                    ? FormattableString.Invariant($"this {E(w.Kind.ToString())} layer")
                    : FormattableString.Invariant($"the {E(w.Kind.ToString())} node <code>{E(w.Layer)}</code> that writes it");
                string from = w.Inputs.Count == 0 ? "exact inputs" : FormattableString.Invariant($"{Db(w.InputSqnr)} at {E(string.Join(", ", w.Inputs))}");
                html.Append("<p class=\"headline\" id=\"worst\" data-layer=\"").Append(E(w.Layer)).Append("\" data-activation=\"").Append(E(w.Output)).Append("\">")
                    .Append("<strong>").Append(E(w.Output)).Append("</strong> hurts most: ").Append(node)
                    .Append(Invariant, $" adds the most noise of any layer, {Percent(w.NoiseAdded)} of its output's energy: SQNR from {from} to {Db(w.OutputSqnr)}, cosine {w.InputCosine:F6} to {w.OutputCosine:F6}.</p>\n");
            }

            html.Append("<ul>\n");
            html.Append(Invariant, $"<li>Model output ({E(detailed.Output.Name)}): cosine {detailed.Output.Cosine:F6}, SQNR {Db(detailed.Output.Sqnr)} over {E(rows)}.</li>\n");
            if (detailed.Accuracy is double acc && input.FloatAccuracy is double fa)
            {
                html.Append(Invariant, $"<li>Held-out accuracy with <strong>{E(detailed.Label)}</strong>: {acc:F2} % against float {fa:F2} % ({acc - fa:+0.00;-0.00;0.00} points, {input.AccuracyRows} {E(input.RowName)}).</li>\n");
            }

            html.Append("<li>Detailed below: <strong>").Append(E(detailed.Label)).Append("</strong>")
                .Append(methods.Count > 1 ? FormattableString.Invariant($", the best of the {methods.Count} methods run (by held-out accuracy, then output SQNR); the other methods' thresholds are drawn on the histograms") : "")
                .Append(".</li>\n");
            var clipped = calibration.Tensors.OrderByDescending(t => t.ClippedFraction).First();
            html.Append(clipped.ClippedFraction > 0
                ? FormattableString.Invariant($"<li>Most clipped: {Clipped(clipped.ClippedFraction)} of the calibration values of {E(clipped.Name)} lie outside its range [{clipped.Range.Min:G5}, {clipped.Range.Max:G5}].</li>\n")
                : "<li>No calibration value of any activation is clipped.</li>\n");
            html.Append("</ul>\n</section>\n");

            // Every method's score on the evaluation rows.
            html.Append("<section id=\"methods\">\n<h2>Calibration methods on ").Append(E(rows)).Append("</h2>\n<table>\n<thead><tr><th>method</th>");
            if (input.FloatAccuracy != null) html.Append("<th>accuracy %</th><th>vs float</th>");
            html.Append("<th>output cosine</th><th>output SQNR dB</th><th>layer adding most noise</th><th>most clipped</th></tr></thead>\n<tbody>\n");
            if (input.FloatAccuracy is double floatAccuracy)
            {
                html.Append("<tr data-method=\"float32\"><td>float32</td>").Append(Cell("accuracy", floatAccuracy, "F2")).Append("<td></td><td></td><td></td><td></td><td></td></tr>\n");
            }

            for (int i = 0; i < methods.Count; i++)
            {
                var m = methods[i];
                int mw = LayerError.Worst(m.Layers);
                var mc = m.Calibration.Tensors.OrderByDescending(t => t.ClippedFraction).First();
                html.Append("<tr data-method=\"").Append(E(m.Label)).Append('"').Append(i == detailedIndex ? " class=\"chosen\"" : "").Append("><td>").Append(E(m.Label))
                    .Append(i == detailedIndex ? " <em>(detailed)</em>" : "").Append("</td>");
                if (input.FloatAccuracy is double f)
                {
                    html.Append(Cell("accuracy", m.Accuracy ?? double.NaN, "F2")).Append(Cell("vs-float", (m.Accuracy ?? double.NaN) - f, "+0.00;-0.00;0.00"));
                }

                html.Append(Cell("cosine", m.Output.Cosine, "F6")).Append(Cell("sqnr", m.Output.Sqnr, "F2"));
                html.Append("<td>").Append(mw >= 0 ? E(m.Layers[mw].Output) + " (" + Percent(m.Layers[mw].NoiseAdded) + ")" : "").Append("</td>");
                html.Append("<td data-key=\"most-clipped\" data-activation=\"").Append(E(mc.Name)).Append("\" data-value=\"").Append((100 * mc.ClippedFraction).ToString("R", Invariant))
                    .Append("\">").Append(mc.ClippedFraction > 0 ? E(mc.Name) + " (" + Clipped(mc.ClippedFraction) + ")" : "none").Append("</td></tr>\n");
            }

            html.Append("</tbody>\n</table>\n</section>\n");

            // Per layer: what it adds.
            html.Append("<section id=\"layers\">\n<h2>Error added per layer (").Append(E(detailed.Label)).Append(")</h2>\n")
                .Append("<p>What each node's integer kernel and its output's rounding and clipping add to the error that reached it: the noise added, as a share of the output's energy (the noise-to-signal ratio of its output less that of its worst input), and the SQNR and cosine from its inputs to its output. The layer that adds the most noise is in red; a negative share is a node whose output is cleaner than its inputs (a ReLU drops the noise of negative values; a mean, and often a projection, averages it out).</p>\n");
            var layerLabels = layers.Select(l => l.Output).ToList();
            html.Append("<figure class=\"chart\" id=\"layer-chart\">").Append(Plots.Inline(
                Plots.HorizontalBars(layerLabels, layers.Select(l => 100 * l.NoiseAdded).ToList(), worst, "Noise each layer adds, % of its output's energy (the most in red)", "noise added (% of signal energy)", 1200, "G3"),
                "layers-", "plot", "SQNR lost per layer")).Append("</figure>\n");
            html.Append("<table>\n<thead><tr><th>output (node)</th><th class=\"text\">op</th><th class=\"text\">inputs</th><th>noise added %</th><th>input SQNR dB</th><th>output SQNR dB</th><th>SQNR lost dB</th><th>output cosine</th><th>cosine lost</th></tr></thead>\n<tbody>\n");
            for (int i = 0; i < layers.Count; i++)
            {
                var l = layers[i];
                html.Append("<tr data-layer=\"").Append(E(l.Layer)).Append("\" data-activation=\"").Append(E(l.Output)).Append('"').Append(i == worst ? " class=\"worst\"" : "").Append('>')
                    .Append("<td>").Append(E(l.Output)).Append(l.Layer == l.Output ? "" : " <small>(" + E(l.Layer) + ")</small>").Append("</td><td class=\"text\">").Append(E(l.Kind.ToString())).Append("</td><td class=\"text\" data-key=\"inputs\">")
                    .Append(E(string.Join(", ", l.Inputs))).Append("</td>")
                    .Append(Cell("noise-added", 100 * l.NoiseAdded, "G3")).Append(Cell("input-sqnr", l.InputSqnr, "F2")).Append(Cell("sqnr", l.OutputSqnr, "F2")).Append(Cell("sqnr-drop", l.SqnrDrop, "F2"))
                    .Append(Cell("cosine", l.OutputCosine, "F6")).Append(Cell("cosine-drop", l.CosineDrop, "F6")).Append("</tr>\n");
            }

            html.Append("</tbody>\n</table>\n</section>\n");

            // Per activation.
            var names = calibration.Tensors.Select(t => t.Name).ToList();
            int worstIndex = worstActivation is null ? -1 : names.IndexOf(worstActivation);
            html.Append("<section id=\"activations\">\n<h2>Activations (").Append(E(detailed.Label)).Append(")</h2>\n")
                .Append("<p>Range seen and chosen, INT8 parameters, the calibration values clipped, the SQNR of the activation's own rounding and clipping (from its histogram), and the cosine and SQNR of the integer model's values against the float model's over ")
                .Append(E(rows)).Append(", errors of earlier nodes included (for the input, its INT8 round trip).</p>\n");
            html.Append("<figure class=\"chart\" id=\"activation-chart\">").Append(Plots.Inline(
                Plots.Profile(names, detailed.Errors.Select(e => e.Sqnr).ToList(), worstIndex, "SQNR of each activation against the float model (dB), in the order the model computes them", "SQNR dB", 1200, 300 + 6 * names.Max(n => n.Length)),
                "activations-", "plot", "SQNR per activation")).Append("</figure>\n");
            html.Append("<table>\n<thead><tr><th>activation</th><th>seen min</th><th>seen max</th><th>chosen min</th><th>chosen max</th><th>scale</th><th>zero point</th><th>clipped %</th><th>own SQNR dB</th><th>cosine</th><th>SQNR dB</th></tr></thead>\n<tbody>\n");
            for (int i = 0; i < calibration.Tensors.Count; i++)
            {
                var t = calibration.Tensors[i];
                var e = detailed.Errors[i];
                html.Append("<tr data-activation=\"").Append(E(t.Name)).Append('"').Append(i == worstIndex ? " class=\"worst\"" : "").Append("><td>").Append(E(t.Name)).Append("</td>")
                    .Append(Cell("min", t.Statistics.Min, "G5")).Append(Cell("max", t.Statistics.Max, "G5"))
                    .Append(Cell("range-min", t.Range.Min, "G5")).Append(Cell("range-max", t.Range.Max, "G5"))
                    .Append(Cell("scale", t.Parameters.Scale, "G7")).Append(Cell("zero-point", t.Parameters.ZeroPoint, "0"))
                    .Append(Cell("clipped", 100 * t.ClippedFraction, ClippedFormat(t.ClippedFraction))).Append(Cell("own-sqnr", t.Sqnr, "F2"))
                    .Append(Cell("cosine", e.Cosine, "F6")).Append(Cell("sqnr", e.Sqnr, "F2")).Append("</tr>\n");
            }

            html.Append("</tbody>\n</table>\n</section>\n");

            // Histograms with the thresholds.
            html.Append("<section id=\"histograms\">\n<h2>Histograms and clipping thresholds</h2>\n<p>Counts on a log scale over the calibration values; grey dashed: the smallest and largest value seen; red: the range ")
                .Append(E(detailed.Label)).Append(" chose").Append(methods.Count > 1 ? "; thinner dashed lines: the other methods' ranges" : "").Append(".</p>\n<div class=\"grid\">\n");
            for (int i = 0; i < calibration.Tensors.Count; i++)
            {
                var t = calibration.Tensors[i];
                var others = methods.Where((_, k) => k != detailedIndex).Select(m => new Plots.Thresholds(m.Label, m.Calibration.Tensors[i].Range)).ToList();
                string svg = Plots.Svg(t, others, 600, 300);
                html.Append("<figure class=\"histogram").Append(i == worstIndex ? " worst" : "").Append("\" id=\"histogram-").Append(i.ToString(Invariant)).Append("\" data-activation=\"").Append(E(t.Name))
                    .Append(Invariant, $"\" data-range-min=\"{t.Range.Min.ToString("R", Invariant)}\" data-range-max=\"{t.Range.Max.ToString("R", Invariant)}\">")
                    .Append(Plots.Inline(svg, "h" + i.ToString(Invariant) + "-", "plot", t.Name + " histogram"))
                    .Append("<figcaption>").Append(E(t.Name)).Append(Invariant, $": clipped {Clipped(t.ClippedFraction)}, SQNR {Db(detailed.Errors[i].Sqnr)}")
                    .Append(i == worstIndex ? " (the layer adding most error)" : "").Append("</figcaption></figure>\n");
            }

            html.Append("</div>\n</section>\n<footer>Written by gen-calibrate. Plots: ScottPlot 5.</footer>\n</body>\n</html>\n");
            return html.ToString();
        }

        private const string Css = @"body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; margin: 24px auto; max-width: 1240px; padding: 0 16px; color: #222; font-size: 14px; line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
.meta { color: #555; margin-top: 0; }
.headline { font-size: 17px; background: #fdecea; border-left: 6px solid #d62728; padding: 10px 14px; margin: 8px 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin-top: 10px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f2f2f2; position: sticky; top: 0; }
td:first-child, th:first-child, td.text, th.text { text-align: left; }
td.text { white-space: normal; }
tbody tr:nth-child(even) { background: #fafafa; }
tr.worst, tr.worst:nth-child(even) { background: #fdecea; font-weight: bold; }
tr.worst td:first-child { border-left: 5px solid #d62728; }
tr.chosen { background: #eaf2fb; }
td { font-variant-numeric: tabular-nums; }
figure { margin: 10px 0; }
svg.plot { width: 100%; height: auto; display: block; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
figure.histogram { border: 1px solid #ddd; padding: 4px; margin: 0; }
figure.histogram.worst { border: 3px solid #d62728; }
figcaption { font-size: 12.5px; color: #444; padding: 2px 4px; }
footer { color: #888; margin: 24px 0; font-size: 12px; }
";

        private static string Cell(string key, double value, string format) =>
            "<td data-key=\"" + key + "\" data-value=\"" + value.ToString("R", Invariant) + "\">" + Number(value, format) + "</td>";

        private static string Number(double value, string format) =>
            double.IsNaN(value) ? "" : double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString(format, Invariant);

        private static string Db(double value) => Number(value, "F2") + " dB";

        // Three decimals, or two significant digits for a share too small for them (so that 0.00004 % is not shown as 0).
        private static string ClippedFormat(double fraction) => fraction > 0 && fraction < 1e-5 ? "G2" : "F3";

        private static string Clipped(double fraction) => (100 * fraction).ToString(ClippedFormat(fraction), Invariant) + " %";

        private static string Percent(double fraction) => (100 * fraction).ToString("G3", Invariant) + " %";

        private static string E(string text) => WebUtility.HtmlEncode(text);
    }
}
