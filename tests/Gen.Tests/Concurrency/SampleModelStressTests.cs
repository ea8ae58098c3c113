using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Gen.Tests.Generator;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Concurrency
{
    /// <summary>
    /// The two sample models (samples/Mnist/MnistMlp.cs and samples/MnistVit/MnistVit.cs, generated here in memory from
    /// the samples' own declarations, weights and calibration files) run from every core at once, through both
    /// <c>Run(input, output)</c> (workspace on each thread's stack) and <c>Run(input, output, workspace)</c> (a workspace
    /// per thread, never cleared), for a bounded time; every output must equal the single-threaded result for the same
    /// digit. The stressed copy of each model is loaded afresh, so that the threads' first calls (the static
    /// initializers, <c>ActivePath</c>) race too. GEN_STRESS_SECONDS sets the time per run (default 0.75 s).
    /// Throughput is not asserted here: <c>Gen.Benchmarks --throughput</c> measures it (benchmarks/RESULTS.md).
    /// </summary>
    public class SampleModelStressTests
    {
        private const int FirstHeldOut = 8000, Pixels = 784;

        private readonly ITestOutputHelper _log;

        public SampleModelStressTests(ITestOutputHelper log) => _log = log;

        /// <summary>All cores, and at least two threads so that a one-core machine still interleaves calls.</summary>
        private static int Threads => Math.Max(2, Environment.ProcessorCount);

        private static TimeSpan Duration =>
            TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("GEN_STRESS_SECONDS"), NumberStyles.Float,
                CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 0.75);

        /// <summary>A compiled sample model, its 2,000 held-out digits quantized by its own QuantizeInput, and the
        /// single-threaded outputs of Run for them.</summary>
        private sealed class Sample
        {
            public required string Name { get; init; }
            public required string TypeName { get; init; }
            public required byte[] Image { get; init; }
            public required int InputSize { get; init; }
            public required int OutputSize { get; init; }
            public required int WorkspaceSize { get; init; }
            public required sbyte[] Inputs { get; init; }
            public required sbyte[] Expected { get; init; }

            public int Count => Inputs.Length / InputSize;

            /// <summary>A fresh copy of the model (see <see cref="Load"/>).</summary>
            public Type LoadFresh() => Load(Image, TypeName);
        }

        /// <summary>The model type of a compiled assembly, in a load context of its own: new statics, nothing run yet.</summary>
        private static Type Load(byte[] image, string typeName)
        {
            var context = new AssemblyLoadContext("gen-stress-" + Guid.NewGuid(), isCollectible: true);
            using var stream = new MemoryStream(image);
            return context.LoadFromStream(stream).GetType(typeName, throwOnError: true)!;
        }

        private delegate void Quantize(ReadOnlySpan<float> values, Span<sbyte> destination);

        private static readonly Lazy<float[]> HeldOutDigits = new(() =>
        {
            string data = Path.Combine(Repository.Root, "samples", "Mnist", "Data");
            using var gzip = new GZipStream(File.OpenRead(Path.Combine(data, "mnist-images.u8.gz")), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gzip.CopyTo(buffer);
            byte[] pixels = buffer.ToArray();
            // Inputs as the samples feed them: pixel / 255 of the digits after the 8,000 training images.
            return pixels.Skip(FirstHeldOut * Pixels).Select(p => p / 255f).ToArray();
        });

        private static readonly Lazy<Sample> Mlp = new(() => Build("MNIST MLP", "Gen.Samples.Mnist.MnistMlp",
            Path.Combine("samples", "Mnist", "MnistMlp.cs"), Path.Combine("samples", "Mnist", "Data"), "mnist_mlp"));

        private static readonly Lazy<Sample> Vit = new(() => Build("MNIST ViT", "Gen.Samples.MnistVit.MnistVit",
            Path.Combine("samples", "MnistVit", "MnistVit.cs"), Path.Combine("samples", "MnistVit", "Data"), "mnist_vit"));

        /// <summary>
        /// Generates the sample's model as its build does: the declaration file, the weights and the calibration file
        /// beside them (under a project folder '/project', the samples' Data/ layout).
        /// </summary>
        private static Sample Build(string name, string typeName, string declaration, string dataDirectory, string stem)
        {
            string root = Repository.Root;
            string source = File.ReadAllText(Path.Combine(root, declaration));
            string weights = Path.Combine(root, dataDirectory, stem + ".safetensors");
            string calibration = Path.Combine(root, dataDirectory, stem + ".calibration.txt");
            var run = GeneratorHarness.Run(source, new[] { ($"/project/Data/{stem}.calibration.txt", File.ReadAllText(calibration)) },
                ($"/project/Data/{stem}.safetensors", File.ReadAllBytes(weights)));
            var errors = run.Errors.ToList();
            Assert.True(errors.Count == 0, "errors:\n" + string.Join("\n", errors.Take(20)));
            byte[] image = run.ImageBytes();
            var type = Load(image, typeName);
            int Constant(string field) => (int)type.GetField(field)!.GetRawConstantValue()!;
            int inputSize = Constant("InputSize"), outputSize = Constant("OutputSize");
            Assert.Equal(Pixels, inputSize);

            var floats = HeldOutDigits.Value;
            var inputs = new sbyte[floats.Length];
            type.GetMethod("QuantizeInput")!.CreateDelegate<Quantize>()(floats, inputs);
            var single = RunOf(type);
            int count = inputs.Length / inputSize;
            var expected = new sbyte[count * outputSize];
            for (int n = 0; n < count; n++) single(inputs.AsSpan(n * inputSize, inputSize), expected.AsSpan(n * outputSize, outputSize));

            return new Sample
            {
                Name = name, TypeName = typeName, Image = image, InputSize = inputSize, OutputSize = outputSize,
                WorkspaceSize = Constant("WorkspaceSize"), Inputs = inputs, Expected = expected,
            };
        }

        private static DifferentialTests.RunRow RunOf(Type type) =>
            type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<DifferentialTests.RunRow>();

        private static DifferentialTests.RunWithWorkspace RunWithWorkspaceOf(Type type) =>
            type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(Span<byte>) })!
                .CreateDelegate<DifferentialTests.RunWithWorkspace>();

        private static Sample Of(string model) => model == "mlp" ? Mlp.Value : Vit.Value;

        /// <summary>FNV-1a over the outputs, as the samples print it.</summary>
        private static string Checksum(sbyte[] outputs)
        {
            ulong checksum = 14695981039346656037;
            foreach (sbyte v in outputs) checksum = (checksum ^ (byte)v) * 1099511628211;
            return checksum.ToString("x16", CultureInfo.InvariantCulture);
        }

        [Fact]
        public void TheInMemoryMlpIsTheSamplesModel()
        {
            // The checksum `dotnet run --project samples/Mnist` prints over the same 2,000 digits.
            Assert.Equal("d299519410e889b5", Checksum(Mlp.Value.Expected));
            // The ViT: outputs that vary (a constant model would pass any comparison).
            Assert.True(Vit.Value.Expected.Distinct().Count() > 50, "the ViT outputs hardly vary");
        }

        [Theory]
        [InlineData("mlp", false)]
        [InlineData("mlp", true)]
        [InlineData("vit", false)]
        [InlineData("vit", true)]
        public void EveryCoreGetsTheSingleThreadedOutputs(string model, bool workspace)
        {
            var sample = Of(model);
            var type = sample.LoadFresh();
            var run = RunOf(type);
            var withWorkspace = RunWithWorkspaceOf(type);
            var result = Stress(sample, Threads, Duration, workspace
                ? thread =>
                {
                    // One workspace per thread, filled with junk once and never cleared: Run must not read what it has not written.
                    var bytes = new byte[sample.WorkspaceSize];
                    new Random(thread).NextBytes(bytes);
                    return (input, output) => withWorkspace(input, output, bytes);
                }
                : _ => (input, output) => run(input, output));

            _log.WriteLine($"{sample.Name}, {(workspace ? "Run(input, output, workspace)" : "Run(input, output)")}: {result.Threads} threads, " +
                $"{result.Calls:N0} calls in {result.Seconds:F2} s ({string.Join(", ", result.CallsPerThread.Select(c => c.ToString("N0", CultureInfo.InvariantCulture)))} per thread)");
            Assert.True(result.Mismatches.Count == 0, $"{result.Mismatches.Count} outputs differ from the single-threaded run, first: {result.Mismatches.FirstOrDefault()}");
            // Every thread went through every digit at least once.
            Assert.All(result.CallsPerThread, c => Assert.True(c >= sample.Count, $"a thread made only {c} calls"));
        }

        [Fact]
        public void ADifferentOutputFailsTheRun()
        {
            // The comparison is live: one wrong expected output is found by every thread that reaches it.
            var sample = Mlp.Value;
            var wrong = (sbyte[])sample.Expected.Clone();
            wrong[123 * sample.OutputSize + 4] ^= 1;
            var broken = new Sample
            {
                Name = sample.Name, TypeName = sample.TypeName, Image = sample.Image, InputSize = sample.InputSize,
                OutputSize = sample.OutputSize, WorkspaceSize = sample.WorkspaceSize, Inputs = sample.Inputs, Expected = wrong,
            };
            Assert.NotEqual(sample.Expected, broken.Expected);
            var run = RunOf(sample.LoadFresh());
            var result = Stress(broken, 2, TimeSpan.FromMilliseconds(50), _ => (input, output) => run(input, output));
            Assert.NotEmpty(result.Mismatches);
            Assert.All(result.Mismatches, m => Assert.StartsWith("digit 123:", m, StringComparison.Ordinal));
        }

        private delegate void Call(ReadOnlySpan<sbyte> input, Span<sbyte> output);

        private sealed record StressResult(int Threads, long Calls, double Seconds, long[] CallsPerThread, IReadOnlyCollection<string> Mismatches);

        /// <summary>
        /// Runs <paramref name="threads"/> threads at once, released together, each from its own starting digit through
        /// all digits in turn, until <paramref name="duration"/> has passed and each has made at least one full pass;
        /// every output is compared with the expected one on the spot.
        /// </summary>
        private static StressResult Stress(Sample sample, int threads, TimeSpan duration, Func<int, Call> callFor)
        {
            var mismatches = new ConcurrentQueue<string>();
            var calls = new long[threads];
            using var start = new Barrier(threads + 1);
            var clock = new Stopwatch();
            var failures = new ConcurrentQueue<Exception>();
            var perThread = Enumerable.Range(0, threads).Select(callFor).ToArray();
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                try
                {
                    var call = perThread[t];
                    var output = new sbyte[sample.OutputSize];
                    int count = sample.Count, n = t * count / threads;
                    long made = 0;
                    start.SignalAndWait();
                    while (made < count || clock.Elapsed < duration)
                    {
                        call(sample.Inputs.AsSpan(n * sample.InputSize, sample.InputSize), output);
                        var expected = sample.Expected.AsSpan(n * sample.OutputSize, sample.OutputSize);
                        if (!expected.SequenceEqual(output) && mismatches.Count < 100)
                        {
                            mismatches.Enqueue($"digit {n}: thread {t} got [{string.Join(", ", output)}], expected [{string.Join(", ", expected.ToArray())}]");
                        }

                        made++;
                        if (++n == count) n = 0;
                    }

                    calls[t] = made;
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }) { IsBackground = true, Name = "gen-stress-" + t }).ToList();

            foreach (var worker in workers) worker.Start();
            clock.Start();
            start.SignalAndWait();
            foreach (var worker in workers) worker.Join();
            clock.Stop();
            Assert.True(failures.IsEmpty, string.Join("\n", failures));
            return new StressResult(threads, calls.Sum(), clock.Elapsed.TotalSeconds, calls, mismatches);
        }
    }
}
