using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Gen.Benchmarks
{
    /// <summary>One measured kernel: nanoseconds per call, bytes allocated per call (-1 when not measured) and the
    /// standard deviation of the per-call time over the measured iterations or samples (-1 when not kept).</summary>
    public sealed record Measurement(string Shape, string Kernel, double NanosecondsPerCall, double BytesPerCall, double StdDevNanoseconds = -1);

    /// <summary>The compact Markdown tables RESULTS.md shows, built from either harness's measurements.</summary>
    public static class ResultsTable
    {
        public static readonly string[] Kernels = { "Generated", "NaiveScalar", "Float32" };

        public static string Format(IReadOnlyList<Measurement> gemm, IReadOnlyList<Measurement> probes)
        {
            var text = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            double peak = BestInt8Peak(probes);
            text.AppendLine("| M x K x N | Generated µs | Generated GMAC/s | Generated % of best INT8 peak | NaiveScalar µs | NaiveScalar GMAC/s | Float32 µs | Float32 GMAC/s | Speed-up vs NaiveScalar | Speed-up vs Float32 | Generated alloc |");
            text.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            foreach (string shape in GemmShape.All.Where(s => gemm.Any(m => m.Shape == s)))
            {
                long macs = GemmShape.Parse(shape).Macs;
                text.Append("| ").Append(shape).Append(' ');
                double? generated = null;
                foreach (string kernel in Kernels)
                {
                    var m = gemm.FirstOrDefault(x => x.Shape == shape && x.Kernel == kernel);
                    if (m == null)
                    {
                        text.Append(kernel == "Generated" ? "| - | - | - " : "| - | - ");
                        continue;
                    }

                    if (kernel == "Generated") generated = m.NanosecondsPerCall;
                    text.Append(inv, $"| {Micro(m.NanosecondsPerCall)} | {macs / m.NanosecondsPerCall:F2} ");
                    if (kernel == "Generated") text.Append(Percent(macs / m.NanosecondsPerCall, peak));
                }

                foreach (string other in new[] { "NaiveScalar", "Float32" })
                {
                    var m = gemm.FirstOrDefault(x => x.Shape == shape && x.Kernel == other);
                    text.Append(generated.HasValue && m != null ? string.Format(inv, "| {0:F2}x ", m.NanosecondsPerCall / generated.Value) : "| - ");
                }

                var g = gemm.FirstOrDefault(x => x.Shape == shape && x.Kernel == "Generated");
                text.Append(g == null || g.BytesPerCall < 0 ? "| - |" : string.Format(inv, "| {0:0} B |", g.BytesPerCall));
                text.AppendLine();
            }

            if (probes.Count > 0)
            {
                text.AppendLine();
                text.AppendLine("| Peak probe (one core, registers only) | µs per call | GMAC/s |");
                text.AppendLine("|---|--:|--:|");
                foreach (var p in probes)
                {
                    var probe = PeakProbes.Find(p.Kernel);
                    if (probe == null) continue;
                    long macs = probe.MacsPerCall;
                    string name = probe.Description;
                    text.Append(inv, $"| {name} | {Micro(p.NanosecondsPerCall)} | {macs / p.NanosecondsPerCall:F1} |").AppendLine();
                }
            }

            return text.ToString();
        }

        /// <summary>The fastest INT8 probe of a run, GMAC/s (0 without one): the ceiling of the best route that run has.</summary>
        public static double BestInt8Peak(IEnumerable<Measurement> probes) =>
            probes.Select(p => (Probe: PeakProbes.Find(p.Kernel), p.NanosecondsPerCall)).Where(p => p.Probe is { Int8: true })
                .Select(p => p.Probe!.MacsPerCall / p.NanosecondsPerCall).DefaultIfEmpty(0).Max();

        private static string Percent(double rate, double peak) =>
            peak > 0 ? string.Format(CultureInfo.InvariantCulture, "| {0:F0} % ", 100 * rate / peak) : "| - ";

        /// <summary>A run's measurements as tab-separated lines (shape, kernel, ns per call), for <see cref="SideBySide"/>.</summary>
        public static string Raw(IEnumerable<Measurement> gemm, IEnumerable<Measurement> probes) =>
            string.Concat(gemm.Concat(probes).Select(m => string.Format(CultureInfo.InvariantCulture, "{0}\t{1}\t{2:R}\n", m.Shape, m.Kernel, m.NanosecondsPerCall)));

        /// <summary>
        /// The generated kernels of several runs side by side (each a label and the text of <see cref="Raw"/>): per shape
        /// the time, GMAC/s and share of that run's best INT8 probe; then each run's probes.
        /// </summary>
        public static string SideBySide(IReadOnlyList<(string Label, string Raw)> runs)
        {
            var inv = CultureInfo.InvariantCulture;
            var parsed = runs.Select(r => (r.Label, All: r.Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t'))
                .Select(f => new Measurement(f[0], f[1], double.Parse(f[2], inv), -1)).ToList())).ToList();
            var text = new StringBuilder();
            text.Append("| M x K x N |");
            foreach (var r in parsed) text.Append(inv, $" {r.Label} µs | GMAC/s | % of peak |");
            text.AppendLine();
            text.Append("|---|").AppendLine(string.Concat(parsed.Select(_ => "--:|--:|--:|")));
            foreach (string shape in GemmShape.All.Where(s => parsed.Any(r => r.All.Any(m => m.Shape == s))))
            {
                long macs = GemmShape.Parse(shape).Macs;
                text.Append("| ").Append(shape).Append(' ');
                foreach (var r in parsed)
                {
                    var m = r.All.FirstOrDefault(x => x.Shape == shape && x.Kernel == "Generated");
                    double peak = BestInt8Peak(r.All.Where(x => x.Shape == "-"));
                    text.Append(m == null ? "| - | - | - " : string.Format(inv, "| {0} | {1:F2} ", Micro(m.NanosecondsPerCall), macs / m.NanosecondsPerCall) + Percent(macs / m.NanosecondsPerCall, peak));
                }

                text.AppendLine("|");
            }

            text.AppendLine();
            text.Append("| Peak probe, GMAC/s (one core, registers only) |").AppendLine(string.Concat(parsed.Select(r => $" {r.Label} |")));
            text.Append("|---|").AppendLine(string.Concat(parsed.Select(_ => "--:|")));
            foreach (var probe in PeakProbes.AllKnown)
            {
                text.Append("| ").Append(probe.Description).Append(' ');
                foreach (var r in parsed)
                {
                    var m = r.All.FirstOrDefault(x => x.Shape == "-" && x.Kernel == probe.Kernel);
                    text.Append(m == null ? "| - " : string.Format(inv, "| {0:F1} ", probe.MacsPerCall / m.NanosecondsPerCall));
                }

                text.AppendLine("|");
            }

            return text.ToString();
        }

        /// <summary>The transformer table: per model, the float32 and generated times (± their standard deviation over
        /// the iterations or samples), the speed-up and the GMAC/s.</summary>
        public static string FormatTransformers(IReadOnlyList<Measurement> results, IEnumerable<string> checks)
        {
            var text = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            text.AppendLine("| Model | MMAC per image | Float32 µs | Int8 µs | Int8 + QuantizeInput µs | Speed-up Int8 vs Float32 | Float32 GMAC/s | Int8 GMAC/s | Int8 alloc |");
            text.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
            foreach (string model in TransformerCase.All.Where(name => results.Any(m => m.Shape == name)))
            {
                long macs = TransformerCase.MacsOf(TransformerCase.ShapeOf(model));
                Measurement? Get(string kernel) => results.FirstOrDefault(x => x.Shape == model && x.Kernel == kernel);
                string Time(Measurement? m) => m == null ? "-"
                    : m.StdDevNanoseconds < 0 ? Micro(m.NanosecondsPerCall) : Micro(m.NanosecondsPerCall) + " ± " + Micro(m.StdDevNanoseconds);
                string Rate(Measurement? m) => m == null ? "-" : (macs / m.NanosecondsPerCall).ToString("F2", inv);
                var f = Get("Float32");
                var i = Get("Int8");
                var iq = Get("Int8WithQuantize");
                text.Append(inv, $"| {model} ({TransformerCase.Describe(model)}) | {macs / 1e6:F2} | {Time(f)} | {Time(i)} | {Time(iq)} | ");
                text.Append(f != null && i != null ? string.Format(inv, "{0:F2}x", f.NanosecondsPerCall / i.NanosecondsPerCall) : "-");
                text.Append(inv, $" | {Rate(f)} | {Rate(i)} | ");
                text.Append(i == null || i.BytesPerCall < 0 ? "-" : string.Format(inv, "{0:0} B", i.BytesPerCall));
                text.AppendLine(" |");
            }

            var lines = checks.ToList();
            if (lines.Count > 0)
            {
                text.AppendLine();
                text.AppendLine("Self-check before timing:");
                text.AppendLine();
                foreach (string line in lines) text.Append("- ").AppendLine(line);
            }

            return text.ToString();
        }

        private static string Micro(double nanoseconds)
        {
            double us = nanoseconds / 1000.0;
            return us.ToString(us < 10 ? "F3" : us < 1000 ? "F1" : "F0", CultureInfo.InvariantCulture);
        }
    }
}
