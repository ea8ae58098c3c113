using System;
using System.Globalization;
using System.Security;
using System.Text;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Draws a tensor's histogram as a standalone SVG (no dependencies): bars on a log count axis, the observed
    /// minimum and maximum as grey dashed lines, the calibrated range as red lines labelled with the threshold,
    /// and the clipped fraction and SQNR in the title.
    /// </summary>
    public static class SvgHistogramWriter
    {
        private const int Width = 720, Height = 360, Left = 60, Right = 20, Top = 40, Bottom = 50;
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The SVG document for one calibrated tensor.</summary>
        /// <param name="calibration">The tensor's calibration and statistics.</param>
        /// <param name="bars">Bars drawn (bins are merged to at most this many).</param>
        public static string Write(TensorCalibration calibration, int bars = 256)
        {
            var view = HistogramView.Signed(calibration.Statistics);
            var counts = (double[])view.Counts.Clone();
            if (view.ZeroBin < counts.Length) counts[view.ZeroBin] += view.Zeros;
            double lo = Math.Min(view.Edge(0), calibration.Range.Min), hi = Math.Max(view.Edge(counts.Length), calibration.Range.Max);
            if (!(hi > lo)) hi = lo + 1;
            int groups = Math.Min(bars, counts.Length);
            var merged = new double[groups];
            for (int i = 0; i < counts.Length; i++) merged[(int)((long)i * groups / counts.Length)] += counts[i];
            double maxLog = 0;
            foreach (double c in merged) maxLog = Math.Max(maxLog, Math.Log10(1 + c));
            if (maxLog == 0) maxLog = 1;
            double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
            double X(double v) => Left + (v - lo) / (hi - lo) * plotW;

            var sb = new StringBuilder();
            sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            sb.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
            sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
            string title = FormattableString.Invariant($"{calibration.Name}: {calibration.Method}, range [{calibration.Range.Min:G5}, {calibration.Range.Max:G5}], clipped {100 * calibration.ClippedFraction:F3} %, SQNR {calibration.Sqnr:F1} dB");
            sb.Append(Invariant, $"<text x=\"{Left}\" y=\"20\" font-size=\"13\">{Escape(title)}</text>\n");
            sb.Append("<g id=\"bars\" fill=\"#4878a8\">\n");
            double edge0 = view.Edge(0), span = view.Edge(counts.Length) - edge0;
            for (int g = 0; g < groups; g++)
            {
                if (merged[g] == 0) continue;
                double a = edge0 + span * g / groups, b = edge0 + span * (g + 1) / groups;
                double h = Math.Log10(1 + merged[g]) / maxLog * plotH;
                sb.Append(Invariant, $"<rect x=\"{X(a):F2}\" y=\"{Top + plotH - h:F2}\" width=\"{Math.Max(0.5, X(b) - X(a)):F2}\" height=\"{h:F2}\"/>\n");
            }

            sb.Append("</g>\n");
            // Axes and ticks.
            sb.Append(Invariant, $"<line x1=\"{Left}\" y1=\"{Top + plotH}\" x2=\"{Left + plotW}\" y2=\"{Top + plotH}\" stroke=\"black\"/>\n");
            sb.Append(Invariant, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotH}\" stroke=\"black\"/>\n");
            for (int t = 0; t <= 4; t++)
            {
                double v = lo + (hi - lo) * t / 4;
                sb.Append(Invariant, $"<text x=\"{X(v):F2}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{v:G4}</text>\n");
            }

            sb.Append(Invariant, $"<text x=\"{Left + plotW / 2:F0}\" y=\"{Height - 8}\" text-anchor=\"middle\">value</text>\n");
            sb.Append(Invariant, $"<text x=\"14\" y=\"{Top + plotH / 2:F0}\" transform=\"rotate(-90 14 {Top + plotH / 2:F0})\" text-anchor=\"middle\">log10(1 + count)</text>\n");
            Marker(sb, "observed-min", X(view.Min), Top, plotH, "#888888", "4 3", null);
            Marker(sb, "observed-max", X(view.Max), Top, plotH, "#888888", "4 3", null);
            Marker(sb, "threshold-min", X(calibration.Range.Min), Top, plotH, "#d62728", null, calibration.Range.Min < 0 ? calibration.Range.Min.ToString("G5", Invariant) : null);
            Marker(sb, "threshold-max", X(calibration.Range.Max), Top, plotH, "#d62728", null, calibration.Range.Max > 0 ? calibration.Range.Max.ToString("G5", Invariant) : null);
            sb.Append("</svg>\n");
            return sb.ToString();
        }

        private static void Marker(StringBuilder sb, string id, double x, double top, double h, string colour, string? dash, string? label)
        {
            sb.Append(Invariant, $"<line id=\"{id}\" x1=\"{x:F2}\" y1=\"{top}\" x2=\"{x:F2}\" y2=\"{top + h}\" stroke=\"{colour}\" stroke-width=\"2\"");
            if (dash != null) sb.Append(" stroke-dasharray=\"").Append(dash).Append('"');
            sb.Append("/>\n");
            if (label != null) sb.Append(Invariant, $"<text x=\"{x + 3:F2}\" y=\"{top + 12}\" fill=\"{colour}\">{Escape(label)}</text>\n");
        }

        private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
    }
}
