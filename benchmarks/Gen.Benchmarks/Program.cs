using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Running;

namespace Gen.Benchmarks
{
    /// <summary>
    /// Usage:
    ///   dotnet run -c Release -- --filter '*'                 the whole BenchmarkDotNet suite (JIT)
    ///   dotnet run -c Release -- --quick                      three small shapes and the probes
    ///   dotnet run -c Release -- --stopwatch [--quick]        the simple Stopwatch harness (what the NativeAOT binary runs)
    ///   dotnet run -c Release -- --check                      correctness checks only
    ///   dotnet run -c Release -- --nativeaot --filter '*'     the suite under BenchmarkDotNet's NativeAOT toolchain (ILCompiler 10)
    ///   dotnet run -c Release -- --stopwatch --raw-out FILE    also writes the dense layers' and probes' times as tab-separated lines
    ///   dotnet run -c Release -- --side-by-side LABEL=FILE ... those files of several runs (runtimes) in one table
    ///   dotnet run -c Release -- --transformer                the transformer benchmarks only (BenchmarkDotNet, or with --stopwatch)
    ///   dotnet run -c Release -- --throughput [--seconds N] [--results FILE]
    ///                                                         the sample models' throughput at 1 and 2 threads (no BenchmarkDotNet);
    ///                                                         --results rewrites that section of FILE (benchmarks/RESULTS.md)
    /// Other arguments go to BenchmarkDotNet's switcher (e.g. --filter '*Gemm*', --runtimes nativeaot10.0).
    /// --summary-out FILE also writes the compact Markdown table of the dense layers and probes (RESULTS.md's format) to
    /// FILE; --transformer-out FILE the transformer table and its self-check.
    /// </summary>
    public static class Program
    {
        /// <summary>Quick mode: three small shapes. An environment variable so BenchmarkDotNet's child processes see it.</summary>
        public static bool Quick => Environment.GetEnvironmentVariable("GEN_BENCH_QUICK") == "1";

        public static int Main(string[] args)
        {
            var rest = new List<string>(args);
            string? summaryOut = TakeOption(rest, "--summary-out");
            string? rawOut = TakeOption(rest, "--raw-out");
            if (rest.Count > 0 && rest[0] == "--side-by-side")
            {
                // LABEL=FILE ...: the --raw-out files of several runs in one table (run.sh: .NET 10 JIT, NativeAOT, .NET 11).
                var runs = rest.Skip(1).Select(a => a.Split('=', 2)).Select(p => (p[0], File.ReadAllText(p[1]))).ToList();
                Console.Write(ResultsTable.SideBySide(runs));
                return 0;
            }

            string? transformerOut = TakeOption(rest, "--transformer-out");
            if (rest.Remove("--quick")) Environment.SetEnvironmentVariable("GEN_BENCH_QUICK", "1");
            if (rest.Remove("--throughput"))
            {
                string? seconds = TakeOption(rest, "--seconds");
                string? results = TakeOption(rest, "--results");
                Console.WriteLine(Describe());
                return ThroughputHarness.Run(seconds is null ? 3 : double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture), results);
            }

            bool check = rest.Remove("--check");
            bool transformerOnly = rest.Remove("--transformer");
            // The native binary has no JIT for BenchmarkDotNet to drive: it always runs the Stopwatch harness.
            bool stopwatch = rest.Remove("--stopwatch") || IsNativeAot;
            var shapes = Quick ? GemmShape.Quick : GemmShape.All;
            var models = TransformerBenchmarks.Models.ToList();

            if (check || stopwatch)
            {
                Console.WriteLine(Describe());
                if (!transformerOnly && !SelfCheck.Run(shapes))
                {
                    Console.Error.WriteLine("Self-check failed.");
                    return 1;
                }

                Console.WriteLine("Transformers (generated INT8 against FloatModel):");
                if (!TransformerCheck.Run(models))
                {
                    Console.Error.WriteLine("Transformer self-check failed.");
                    return 1;
                }

                if (check) return 0;
                if (!transformerOnly)
                {
                    var (gemm, probes) = StopwatchHarness.Run(shapes);
                    string table = ResultsTable.Format(gemm, probes);
                    Console.WriteLine();
                    Console.WriteLine(table);
                    if (summaryOut != null) File.WriteAllText(summaryOut, table);
                    if (rawOut != null) File.WriteAllText(rawOut, ResultsTable.Raw(gemm, probes));
                }

                string transformerTable = ResultsTable.FormatTransformers(StopwatchHarness.RunTransformers(models), TransformerCheck.Lines);
                Console.WriteLine();
                Console.WriteLine(transformerTable);
                if (transformerOut != null) File.WriteAllText(transformerOut, transformerTable);
                return 0;
            }

            bool hasFilter = rest.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a == "-f");
            if (transformerOnly && !hasFilter) rest.AddRange(new[] { "--filter", "*" + nameof(TransformerBenchmarks) + "*" });
            else if (Quick && !hasFilter) rest.AddRange(new[] { "--filter", "*" });

            // The transformer benchmarks check their models in their own processes too (GlobalSetup); checking here
            // first prints the result once and stops before BenchmarkDotNet builds anything.
            if (transformerOnly || rest.Any(a => a == "*" || a.Contains("Transformer", StringComparison.OrdinalIgnoreCase)))
            {
                Console.WriteLine("Transformers (generated INT8 against FloatModel):");
                if (!TransformerCheck.Run(models))
                {
                    Console.Error.WriteLine("Transformer self-check failed.");
                    return 1;
                }
            }

            bool nativeAot = rest.Remove("--nativeaot");
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), new SuiteConfig(nativeAot));
            var gemmResults = new List<Measurement>();
            var probeResults = new List<Measurement>();
            var transformerResults = new List<Measurement>();
            foreach (var summary in summaries)
            {
                foreach (var report in summary.Reports)
                {
                    if (report.ResultStatistics == null) continue;
                    var benchmark = report.BenchmarkCase;
                    string method = benchmark.Descriptor.WorkloadMethod.Name;
                    double bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmark) ?? -1;
                    var shape = benchmark.Parameters.Items.FirstOrDefault(p => p.Name == nameof(GemmBenchmarks.Shape))?.Value as string;
                    var model = benchmark.Parameters.Items.FirstOrDefault(p => p.Name == nameof(TransformerBenchmarks.Model))?.Value as string;
                    if (model != null)
                    {
                        transformerResults.Add(new Measurement(model, method, report.ResultStatistics.Mean, bytes, report.ResultStatistics.StandardDeviation));
                        continue;
                    }

                    var measurement = new Measurement(shape ?? "-", method, report.ResultStatistics.Mean, bytes);
                    (shape == null ? probeResults : gemmResults).Add(measurement);
                }
            }

            if (gemmResults.Count + probeResults.Count > 0)
            {
                string table = ResultsTable.Format(gemmResults, probeResults);
                Console.WriteLine();
                Console.WriteLine("Summary (mean time per call):");
                Console.WriteLine(table);
                if (summaryOut != null) File.WriteAllText(summaryOut, table);
                if (rawOut != null) File.WriteAllText(rawOut, ResultsTable.Raw(gemmResults, probeResults));
            }

            if (transformerResults.Count > 0)
            {
                string table = ResultsTable.FormatTransformers(transformerResults, TransformerCheck.Lines);
                Console.WriteLine();
                Console.WriteLine("Transformers (mean time per image):");
                Console.WriteLine(table);
                if (transformerOut != null) File.WriteAllText(transformerOut, table);
            }

            return 0;
        }

        /// <summary>True in the NativeAOT binary. (RuntimeFeature.IsDynamicCodeSupported is false under the JIT too here:
        /// PublishAot sets that switch in the runtimeconfig; but the JIT has compiled methods by now and NativeAOT never does.)</summary>
        public static bool IsNativeAot => System.Runtime.JitInfo.GetCompiledMethodCount() == 0;

        /// <summary>One line on the runtime and the instruction sets the process sees.</summary>
        public static string Describe() =>
            $"{RuntimeInformation.FrameworkDescription}, {(IsNativeAot ? "NativeAOT" : "JIT")}, " +
            $"{RuntimeInformation.ProcessArchitecture}; Avx2 {Avx2.IsSupported}, Avx512F {Avx512F.IsSupported}, Avx512BW {Avx512BW.IsSupported}, AvxVnni {AvxVnni.IsSupported}, " +
#if GEN_NET11
            $"AvxVnni.V512 {AvxVnni.V512.IsSupported}, " +
#endif
            $"Vector512.IsHardwareAccelerated {Vector512.IsHardwareAccelerated}; kernels {MnistVit.ActivePath}";

        private static string? TakeOption(List<string> args, string name)
        {
            int i = args.IndexOf(name);
            if (i < 0 || i + 1 >= args.Count) return null;
            string value = args[i + 1];
            args.RemoveRange(i, 2);
            return value;
        }
    }
}
