using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Gen.Samples.Mnist;

namespace Gen.Benchmarks
{
    /// <summary>
    /// Throughput of the two sample models at 1 and 2 threads, without BenchmarkDotNet (<c>--throughput</c>): the MNIST
    /// MLP (samples/Mnist/MnistMlp.cs, compiled here as it is) and the MNIST ViT (<see cref="MnistVit"/>, the
    /// declaration of samples/MnistVit on the same weights and calibration file). Each thread runs the 2,000 held-out
    /// digits in turn, one image per call, from its own starting digit, and checks every output against the
    /// single-threaded result; a run with any difference fails the program. Per model, overload and thread count:
    /// 3 runs of <c>--seconds</c> (default 3) each, released together at a barrier; the median is reported.
    /// The tests check the same outputs under load (tests/Gen.Tests/Concurrency) but never time them.
    /// </summary>
    public static class ThroughputHarness
    {
        private const int FirstHeldOut = 8000, Runs = 3;

        private delegate void Call(ReadOnlySpan<sbyte> input, Span<sbyte> output, byte[] workspace);

        private sealed record Model(string Name, int InputSize, int OutputSize, int WorkspaceSize, string ActivePath,
            Action<ReadOnlySpan<float>, Span<sbyte>> Quantize, Call Stack, Call Workspace);

        private static readonly Model[] Models =
        {
            new("MNIST MLP 784-128-10", MnistMlp.InputSize, MnistMlp.OutputSize, MnistMlp.WorkspaceSize, MnistMlp.ActivePath.ToString(),
                (v, d) => MnistMlp.QuantizeInput(v, d), (i, o, _) => MnistMlp.Run(i, o), (i, o, w) => MnistMlp.Run(i, o, w)),
            new("MNIST ViT (16 tokens, width 64, 2 layers)", MnistVit.InputSize, MnistVit.OutputSize, MnistVit.WorkspaceSize, MnistVit.ActivePath.ToString(),
                (v, d) => MnistVit.QuantizeInput(v, d), (i, o, _) => MnistVit.Run(i, o), (i, o, w) => MnistVit.Run(i, o, w)),
        };

        /// <summary>Measures, prints the Markdown section, and writes it into <paramref name="resultsFile"/> if given.</summary>
        public static int Run(double seconds, string? resultsFile)
        {
            string loadStart = LoadAverage();
            var digits = MnistDigits.Load();
            int count = digits.Count - FirstHeldOut;
            var rows = new List<string>();
            bool allEqual = true;
            foreach (var model in Models)
            {
                var floats = new float[count * model.InputSize];
                for (int n = 0; n < count; n++) digits.Image(FirstHeldOut + n).CopyTo(floats, n * model.InputSize);
                var inputs = new sbyte[floats.Length];
                model.Quantize(floats, inputs);
                var expected = new sbyte[count * model.OutputSize];
                var workspace = new byte[model.WorkspaceSize];
                for (int n = 0; n < count; n++) model.Stack(inputs.AsSpan(n * model.InputSize, model.InputSize), expected.AsSpan(n * model.OutputSize, model.OutputSize), workspace);

                foreach (var (overload, call) in new[] { ("Run(input, output)", model.Stack), ("Run(input, output, workspace)", model.Workspace) })
                {
                    // Tiered compilation settles within the first half second.
                    Measure(model, call, inputs, expected, 1, 0.5);
                    var perThreads = new Dictionary<int, double>();
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var samples = new List<(double Rate, double Cores)>();
                        for (int r = 0; r < Runs; r++)
                        {
                            var (rate, cores, equal) = Measure(model, call, inputs, expected, threads, seconds);
                            allEqual &= equal;
                            samples.Add((rate, cores));
                        }

                        samples.Sort();
                        double median = samples[Runs / 2].Rate, obtained = samples[Runs / 2].Cores;
                        perThreads[threads] = median;
                        string scaling = threads == 1 ? "1.00x" : F($"{median / perThreads[1]:F2}x");
                        rows.Add(F($"| {model.Name} | `{overload}` | {threads} | {median:N0} | {samples[0].Rate:N0} to {samples[Runs - 1].Rate:N0} | {1e6 * threads / median:F2} | {scaling} | {obtained:F2} |"));
                        Console.Error.WriteLine(rows[rows.Count - 1]);
                    }
                }
            }

            string section = Section(rows, seconds, loadStart, LoadAverage(), allEqual);
            Console.WriteLine(section);
            if (resultsFile != null) WriteSection(resultsFile, section);
            if (!allEqual) Console.Error.WriteLine("Outputs differed from the single-threaded run.");
            return allEqual ? 0 : 1;
        }

        /// <summary>One run: <paramref name="threads"/> threads for <paramref name="seconds"/>; inferences per second in all, and whether every output was right.</summary>
        private static (double Rate, double Cores, bool Equal) Measure(Model model, Call call, sbyte[] inputs, sbyte[] expected, int threads, double seconds)
        {
            int count = inputs.Length / model.InputSize;
            var calls = new long[threads];
            var wrong = new long[threads];
            using var start = new Barrier(threads + 1);
            using var stop = new ManualResetEventSlim();
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var output = new sbyte[model.OutputSize];
                var workspace = new byte[model.WorkspaceSize];
                int n = t * count / threads;
                long made = 0, bad = 0;
                start.SignalAndWait();
                while (!stop.IsSet)
                {
                    call(inputs.AsSpan(n * model.InputSize, model.InputSize), output, workspace);
                    if (!output.AsSpan().SequenceEqual(expected.AsSpan(n * model.OutputSize, model.OutputSize))) bad++;
                    made++;
                    if (++n == count) n = 0;
                }

                calls[t] = made;
                wrong[t] = bad;
            }) { IsBackground = true }).ToList();

            foreach (var worker in workers) worker.Start();
            using var process = Process.GetCurrentProcess();
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            stop.Set();
            foreach (var worker in workers) worker.Join();
            clock.Stop();
            process.Refresh();
            // The CPU time this process got per second of the run: what the machine's other jobs left to the threads.
            double cores = (process.TotalProcessorTime - cpuBefore).TotalSeconds / clock.Elapsed.TotalSeconds;
            return (calls.Sum() / clock.Elapsed.TotalSeconds, cores, wrong.Sum() == 0);
        }

        private static string Section(List<string> rows, double seconds, string loadStart, string loadEnd, bool allEqual)
        {
            var s = new StringBuilder();
            s.AppendLine("## Throughput at 1 and 2 threads");
            s.AppendLine();
            s.AppendLine("The two sample models, one held-out MNIST digit per call, from 1 and then 2 threads at once (each thread its own");
            s.AppendLine("output buffer and, for the workspace overload, its own workspace; every output checked against the single-threaded");
            s.AppendLine(F($"result: {(allEqual ? "all equal" : "SOME DIFFERED")}). Inferences per second in all threads together, the median of {Runs} runs of"));
            s.AppendLine(F($"{seconds:0.##} s (range: slowest to fastest run); us per inference per thread = threads / rate; scaling = the 2-thread rate over"));
            s.AppendLine("the 1-thread rate; CPU = the process's CPU time per second of that (median) run, the cores the threads really got.");
            s.AppendLine("Each call reads another digit (the 2,000 of them are 1.5 MB of INT8 inputs) and its output is compared, so a call");
            s.AppendLine("takes longer here than in the single-image timings of the other sections. Not measured by BenchmarkDotNet: `dotnet run -c Release --project benchmarks/Gen.Benchmarks -- --throughput`");
            s.AppendLine("(`--seconds N`, `--results benchmarks/RESULTS.md` rewrites this section).");
            s.AppendLine();
            s.AppendLine(F($"- Machine: {Cpu()}, {Environment.ProcessorCount} cores; load average at start: {loadStart}, at end: {loadEnd}"));
            s.AppendLine("  (a shared machine: other builds and tests may run at the same time, so the 2-thread numbers in particular are noisy;");
            s.AppendLine("  where CPU is well below 2, the threads did not get two cores and the scaling says more about the neighbours than the models)");
            s.AppendLine(F($"- Runtime: {RuntimeInformation.FrameworkDescription}, {(Program.IsNativeAot ? "NativeAOT" : "JIT (tiered, net9.0 build rolled forward)")}, kernels {string.Join(" / ", Models.Select(m => m.ActivePath).Distinct())}"));
            s.AppendLine(F($"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
            s.AppendLine();
            s.AppendLine("| Model | Overload | Threads | Inferences/s | Range | us per inference per thread | Scaling | CPU |");
            s.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|");
            foreach (string row in rows) s.AppendLine(row);
            return s.ToString();
        }

        /// <summary>Replaces the section in <paramref name="path"/>, or puts it before "## Transformer" (the file's last section).</summary>
        private static void WriteSection(string path, string section)
        {
            string text = File.Exists(path) ? File.ReadAllText(path).Replace("\r\n", "\n") : "";
            const string heading = "## Throughput at 1 and 2 threads";
            int at = text.IndexOf(heading + "\n", StringComparison.Ordinal);
            if (at >= 0)
            {
                int next = text.IndexOf("\n## ", at + heading.Length, StringComparison.Ordinal);
                text = text.Substring(0, at) + section + (next >= 0 ? text.Substring(next) : "");
            }
            else
            {
                int transformer = text.IndexOf("\n## Transformer\n", StringComparison.Ordinal);
                text = transformer >= 0 ? text.Substring(0, transformer + 1) + section + "\n" + text.Substring(transformer + 1) : text.TrimEnd('\n') + "\n\n" + section;
            }

            File.WriteAllText(path, text);
            Console.Error.WriteLine($"wrote the throughput section of {path}");
        }

        private static string LoadAverage()
        {
            try
            {
                return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
            }
            catch (IOException)
            {
                return "unknown";
            }
        }

        /// <summary>The CPU as lscpu names it (model name, CPU family and model, from /proc/cpuinfo).</summary>
        private static string Cpu()
        {
            try
            {
                var fields = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).Select(l => l.Split(':', 2))
                    .Where(p => p.Length == 2).GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
                string Field(string name) => fields.TryGetValue(name, out var v) ? v : "?";
                return $"{Field("model name")} (CPU family {Field("cpu family")}, model {Field("model")})";
            }
            catch (IOException)
            {
                return RuntimeInformation.ProcessArchitecture.ToString();
            }
        }

        private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }
}
