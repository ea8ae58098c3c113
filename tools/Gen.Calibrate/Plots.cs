using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Gen.Runtime.Calibration;
using ScottPlot;

namespace Gen.Calibrate
{
    /// <summary>
    /// The tool's plots, drawn with ScottPlot 5 and written as SVG (its SkiaSharp SVG canvas; SkiaSharp's native
    /// library comes with the ScottPlot package, nothing else is needed): an activation's histogram with the clipping
    /// thresholds of one or more calibration methods, and the bar and line charts of the quantization report. ScottPlot is
    /// a dependency of this tool only; the Gen package draws nothing.
    /// </summary>
    internal static class Plots
    {
        /// <summary>The colour of the thresholds of the method a plot is about (and of the worst layer in the report).</summary>
        public const string ChosenColour = "#D62728";

        private const string FontName = "DejaVu Sans";

        // Thresholds of the other methods on a histogram, in order.
        private static readonly string[] Palette = { "#1F77B4", "#2CA02C", "#9467BD", "#FF7F0E", "#8C564B", "#17BECF", "#E377C2" };

        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>One method's calibrated range, drawn as two vertical lines.</summary>
        public sealed record Thresholds(string Method, CalibrationRange Range);

        /// <summary>
        /// The histogram of one activation (log counts; bins merged to at most <paramref name="bars"/>), its observed
        /// minimum and maximum as grey dashed lines, <paramref name="calibration"/>'s range as red lines labelled with their
        /// values, and each of <paramref name="others"/> (other methods' ranges) as thinner lines of its own colour with a
        /// legend. The title names the method, the range and the clipped fraction. A standalone SVG document.
        /// </summary>
        public static string Svg(TensorCalibration calibration, IReadOnlyList<Thresholds>? others = null, int width = 720, int height = 320, int bars = 256)
        {
            var statistics = calibration.Statistics;
            using var plot = NewPlot();
            var (counts, lower, binWidth) = Merge(statistics, bars);
            // Bars of log10(1 + count): a spike of exact zeros (ReLU) and the thin tails are both visible.
            var columns = new List<Bar>();
            for (int i = 0; i < counts.Length; i++)
            {
                if (counts[i] == 0) continue;
                columns.Add(new Bar
                {
                    Position = lower + (i + 0.5) * binWidth,
                    Value = Math.Log10(1 + counts[i]),
                    Size = binWidth,
                    FillColor = Color.FromHex("#4878A8"),
                    LineWidth = 0,
                });
            }

            plot.Add.Bars(columns);
            double top = columns.Count == 0 ? 1 : columns.Max(b => b.Value);
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int k = 0; Math.Log10(1 + Math.Pow(10, k)) <= top * 1.15 || k == 0; k++)
            {
                ticks.AddMajor(Math.Log10(1 + Math.Pow(10, k)), CountLabel(Math.Pow(10, k)));
            }

            plot.Axes.Left.TickGenerator = ticks;
            Line(plot, statistics.Min, "#888888", 1.5f, LinePattern.Dashed, null, null);
            Line(plot, statistics.Max, "#888888", 1.5f, LinePattern.Dashed, null, null);
            int colour = 0;
            foreach (var other in others ?? Array.Empty<Thresholds>())
            {
                string c = Palette[colour++ % Palette.Length];
                Line(plot, other.Range.Min, c, 1.5f, LinePattern.DenselyDashed, null, null);
                Line(plot, other.Range.Max, c, 1.5f, LinePattern.DenselyDashed, null, other.Method);
            }

            var range = calibration.Range;
            Line(plot, range.Min, ChosenColour, 2.5f, LinePattern.Solid, range.Min < 0 ? range.Min.ToString("G4", Invariant) : null, null);
            Line(plot, range.Max, ChosenColour, 2.5f, LinePattern.Solid, range.Max > 0 ? range.Max.ToString("G4", Invariant) : null,
                others is { Count: > 0 } ? calibration.Method : null);
            // Beside the data, where it hides no threshold.
            if (others is { Count: > 0 }) plot.ShowLegend(Edge.Right);

            double lo = Math.Min(Math.Min(lower, statistics.Min), range.Min), hi = Math.Max(Math.Max(lower + counts.Length * binWidth, statistics.Max), range.Max);
            foreach (var other in others ?? Array.Empty<Thresholds>())
            {
                lo = Math.Min(lo, other.Range.Min);
                hi = Math.Max(hi, other.Range.Max);
            }

            if (!(hi > lo)) hi = lo + 1;
            double pad = (hi - lo) * 0.03;
            plot.Axes.SetLimits(lo - pad, hi + pad, 0, top * 1.15);
            plot.Title(FormattableString.Invariant(
                $"{calibration.Name}: {calibration.Method} [{range.Min:G4}, {range.Max:G4}], clipped {100 * calibration.ClippedFraction:F3} %"), 13);
            plot.XLabel("value", 12);
            plot.YLabel("count (log scale)", 12);
            return plot.GetSvgXml(width, height);
        }

        /// <summary>
        /// Horizontal bars, one per label from the top down (the order of the graph), the bar at
        /// <paramref name="highlight"/> in red and the others blue, each labelled with its value.
        /// </summary>
        public static string HorizontalBars(IReadOnlyList<string> labels, IReadOnlyList<double> values, int highlight, string title, string axis,
            int width, string format)
        {
            using var plot = NewPlot();
            var bars = new List<Bar>();
            double cap = Cap(values);
            for (int i = 0; i < labels.Count; i++)
            {
                double v = Finite(values[i], cap);
                bars.Add(new Bar
                {
                    Position = labels.Count - 1 - i,
                    Value = v,
                    Size = 0.7,
                    FillColor = Color.FromHex(i == highlight ? ChosenColour : "#4878A8"),
                    LineWidth = 0,
                    Label = double.IsFinite(values[i]) ? values[i].ToString(format, Invariant) : "inf",
                });
            }

            var series = plot.Add.Bars(bars);
            series.Horizontal = true;
            series.ValueLabelStyle.FontSize = 11;
            series.ValueLabelStyle.FontName = FontName;
            plot.Axes.Left.SetTicks(Enumerable.Range(0, labels.Count).Select(i => (double)(labels.Count - 1 - i)).ToArray(), labels.ToArray());
            plot.Axes.Left.TickLabelStyle.FontSize = 11;
            double max = bars.Select(b => b.Value).DefaultIfEmpty(1).Max(), min = Math.Min(0, bars.Select(b => b.Value).DefaultIfEmpty(0).Min());
            if (!(max > min)) max = min + 1;
            plot.Axes.SetLimits(min - (max - min) * (min < 0 ? 0.1 : 0.02), max + (max - min) * 0.12, -0.6, labels.Count - 0.4);
            plot.Title(title, 13);
            plot.XLabel(axis, 12);
            return plot.GetSvgXml(width, 70 + 22 * Math.Max(labels.Count, 3));
        }

        /// <summary>
        /// A line with markers over the activations in the order the model computes them (x is the index, labelled
        /// below by name, rotated), the point at <paramref name="highlight"/> red.
        /// </summary>
        public static string Profile(IReadOnlyList<string> labels, IReadOnlyList<double> values, int highlight, string title, string axis, int width, int height)
        {
            using var plot = NewPlot();
            double[] xs = Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray();
            double cap = Cap(values);
            double[] ys = values.Select(v => Finite(v, cap)).ToArray();
            // A point far above all others (an input of exact u8 pixels, at 145 dB) would squash the rest: it is drawn at
            // the top edge as a triangle, named with its value.
            var sorted = ys.OrderByDescending(v => v).ToArray();
            double lo = sorted.Length == 0 ? 0 : sorted[^1], hi = sorted.Length == 0 ? 1 : sorted[0];
            int outlier = -1;
            if (sorted.Length > 2 && sorted[0] - sorted[1] > 20)
            {
                hi = sorted[1] + Math.Max(3, (sorted[1] - lo) * 0.25);
                outlier = Array.IndexOf(ys, sorted[0]);
                ys[outlier] = hi;
            }

            var line = plot.Add.Scatter(xs, ys, Color.FromHex("#4878A8"));
            line.LineWidth = 2;
            line.MarkerSize = 7;
            if (outlier >= 0)
            {
                var top = plot.Add.ScatterPoints(new[] { xs[outlier] }, new[] { hi }, Color.FromHex("#4878A8"));
                top.MarkerShape = MarkerShape.FilledTriangleUp;
                top.MarkerSize = 12;
                var note = plot.Add.Text(FormattableString.Invariant($"{labels[outlier]}: {values[outlier]:F1} (above the chart)"), xs[outlier], hi);
                note.LabelStyle.FontSize = 11;
                note.LabelStyle.FontName = FontName;
                note.Alignment = Alignment.UpperLeft;
                note.OffsetX = 10;
                note.OffsetY = 4;
            }

            if (highlight >= 0 && highlight < xs.Length)
            {
                var worst = plot.Add.ScatterPoints(new[] { xs[highlight] }, new[] { ys[highlight] }, Color.FromHex(ChosenColour));
                worst.MarkerSize = 13;
            }

            plot.Axes.Bottom.SetTicks(xs, labels.ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
            plot.Axes.Bottom.TickLabelStyle.OffsetY = 6;
            // Room for the longest rotated name.
            plot.Axes.Bottom.MinimumSize = 16 + 5.5f * labels.Select(l => l.Length).DefaultIfEmpty(4).Max();
            double margin = Math.Max(1, (hi - lo) * 0.08);
            plot.Axes.SetLimits(-0.5, Math.Max(0.5, xs.Length - 0.5), lo - margin, hi + margin);
            plot.Title(title, 13);
            plot.YLabel(axis, 12);
            return plot.GetSvgXml(width, height);
        }

        /// <summary>
        /// An SVG document ready to sit inline in an HTML page: without its XML declaration, scalable (a view box, width
        /// 100 %), and with its ids (ScottPlot numbers its clip paths from 1 in every plot) prefixed so that several plots
        /// on one page never point at each other's clip paths.
        /// </summary>
        public static string Inline(string svg, string idPrefix, string cssClass, string label)
        {
            string body = Regex.Replace(svg, @"^\s*<\?xml[^>]*\?>\s*", "");
            body = body.Replace("id=\"", "id=\"" + idPrefix).Replace("url(#", "url(#" + idPrefix);
            var root = Regex.Match(body, "<svg([^>]*)>");
            string attributes = root.Groups[1].Value;
            string w = Regex.Match(attributes, "width=\"([0-9.]+)\"").Groups[1].Value, h = Regex.Match(attributes, "height=\"([0-9.]+)\"").Groups[1].Value;
            string rewritten = Regex.Replace(attributes, "\\s(width|height)=\"[0-9.]+\"", "");
            string opening = $"<svg{rewritten} viewBox=\"0 0 {w} {h}\" class=\"{cssClass}\" role=\"img\" aria-label=\"{System.Net.WebUtility.HtmlEncode(label)}\">";
            return body.Substring(0, root.Index) + opening + body.Substring(root.Index + root.Length);
        }

        private static Plot NewPlot()
        {
            var plot = new Plot();
            // One font on every machine that has it (Debian's fonts-dejavu-core, present wherever Chromium is), so that
            // the SVG's per-glyph positions match what the browser draws.
            plot.Font.Set(FontName);
            return plot;
        }

        private static void Line(Plot plot, double x, string colour, float width, LinePattern pattern, string? label, string? legend)
        {
            var line = plot.Add.VerticalLine(x, width, Color.FromHex(colour), pattern);
            if (label != null)
            {
                line.Text = label;
                line.LabelOppositeAxis = true;
                line.LabelFontSize = 11;
                line.LabelFontName = FontName;
            }

            if (legend != null) line.LegendText = legend;
        }

        // The collector's bins from the first to the last that holds a value, merged to at most `bars`.
        private static (double[] Counts, double Lower, double Width) Merge(HistogramCollector h, int bars)
        {
            if (h.BinWidth == 0 || h.Count == 0) return (new double[] { h.Count }, -0.5, 1);
            int first = 0, last = h.BinCount - 1;
            while (first < last && h[first] == 0) first++;
            while (last > first && h[last] == 0) last--;
            int occupied = last - first + 1;
            int group = (occupied + bars - 1) / bars;
            var counts = new double[(occupied + group - 1) / group];
            for (int i = first; i <= last; i++) counts[(i - first) / group] += h[i];
            return (counts, h.BinLower(first), h.BinWidth * group);
        }

        private static string CountLabel(double v) => v >= 1e6 ? (v / 1e6).ToString("0", Invariant) + "M" : v >= 1e3 ? (v / 1e3).ToString("0", Invariant) + "k" : v.ToString("0", Invariant);

        // An infinite SQNR (no error at all) is drawn a little beyond the largest finite value rather than off the chart.
        private static double Cap(IReadOnlyList<double> values)
        {
            double max = values.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(1).Max();
            return max > 0 ? max * 1.1 : 1;
        }

        private static double Finite(double v, double cap) => double.IsPositiveInfinity(v) ? cap : double.IsNegativeInfinity(v) ? -cap : v;
    }
}
