using System;
using System.Linq;
using System.Reflection;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>Generated code against the reference interpreter, bit for bit, on random models and inputs.</summary>
    public class DifferentialTests
    {
        public delegate void RunRow(ReadOnlySpan<sbyte> input, Span<sbyte> output);
        public delegate void RunBatch(ReadOnlySpan<sbyte> inputs, Span<sbyte> outputs, int batchSize);
        public delegate void RunRowsWithPath(ReadOnlySpan<sbyte> inputs, Span<sbyte> outputs, int rows, int path);
        public delegate void RunRowsInWorkspace(ReadOnlySpan<sbyte> inputs, Span<sbyte> outputs, int rows, Span<byte> workspace, int path);
        public delegate void RunWithWorkspace(ReadOnlySpan<sbyte> input, Span<sbyte> output, Span<byte> workspace);

        /// <summary>
        /// Runs every supported path through the model's workspace entry point with a workspace full of random bytes
        /// (a caller's buffer is never cleared) and a few spare bytes, and checks the outputs against <paramref name="expected"/>.
        /// </summary>
        public static void CheckWorkspacePaths(Type type, sbyte[] inputs, sbyte[] expected, int rows, Random rng, string description)
        {
            var inWorkspace = type.GetMethod("RunRowsInWorkspace", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<RunRowsInWorkspace>();
            int size = (int)type.GetField("WorkspaceSize")!.GetRawConstantValue()!;
            foreach (int path in SupportedPaths)
            {
                var workspace = new byte[size + 5];
                rng.NextBytes(workspace);
                var y = new sbyte[expected.Length];
                inWorkspace(inputs, y, rows, workspace, path);
                Assert.True(expected.SequenceEqual(y), $"path {path} with a dirty workspace differs from the interpreter for {description}");
            }
        }

        /// <summary>The kernel paths this machine can run: 0 scalar, 1 portable Vector128, 2 AVX2, 3 AVX-512BW, 4 AVX-VNNI, 5 both.</summary>
        public static int[] SupportedPaths =>
            new[] { 0 }.Concat(System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? new[] { 1 } : Array.Empty<int>())
                .Concat(System.Runtime.Intrinsics.X86.Avx2.IsSupported ? new[] { 2 } : Array.Empty<int>())
                .Concat(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported ? new[] { 3 } : Array.Empty<int>())
                .Concat(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? new[] { 4 } : Array.Empty<int>())
                .Concat(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported ? new[] { 5 } : Array.Empty<int>()).ToArray();

        [Theory]
        [InlineData(1, new[] { 1, 1 })]
        [InlineData(2, new[] { 3, 17 })]
        [InlineData(3, new[] { 17, 3, 1 })]
        [InlineData(4, new[] { 784, 17, 10 })]
        [InlineData(5, new[] { 64, 33, 47, 5 })]
        [InlineData(6, new[] { 15, 16, 31, 32, 65 })]
        [InlineData(7, new[] { 784, 128, 10 })]
        public void GeneratedCodeEqualsTheInterpreter(int seed, int[] sizes) => Check(seed, sizes, preQuantized: false);

        [Theory]
        [InlineData(11, new[] { 17, 1 })]
        [InlineData(12, new[] { 100, 40, 9 })]
        public void PreQuantizedWeightsEqualTheInterpreter(int seed, int[] sizes) => Check(seed, sizes, preQuantized: true);

        // Small weights let the generator prove the saturating u8 x s8 routes exact: |w| <= 64 makes every pair
        // |w0| + |w1| <= 128 (Pair); |w| <= 32 keeps four of them within 255 * 128 (Quad).
        [Theory]
        [InlineData(31, new[] { 40, 33, 7 }, 64, "Pair")]
        [InlineData(32, new[] { 784, 64 }, 64, "Pair")]
        [InlineData(33, new[] { 17, 48, 5 }, 32, "Quad")]
        [InlineData(34, new[] { 256, 256 }, 32, "Quad")]
        [InlineData(35, new[] { 64, 50, 3 }, 127, "Wide")]
        public void EveryRouteEqualsTheInterpreter(int seed, int[] sizes, int maxWeight, string route) =>
            Check(seed, sizes, preQuantized: true, maxWeight, route);

        private static void Check(int seed, int[] sizes, bool preQuantized, int maxWeight = 127, string? route = null)
        {
            var rng = new Random(seed);
            var model = RandomModel.Create(rng, sizes, preQuantized, maxWeight);
            var run = GeneratorHarness.Run(model.Source, ("/project/weights/model.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            if (route != null)
            {
                Assert.Contains("//   Route " + route + ":", run.GeneratedSource("Model.g.cs"), StringComparison.Ordinal);
            }
            var type = run.Load().GetType("DiffTest.Model")!;
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<RunRow>();
            var batch = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(int) })!.CreateDelegate<RunBatch>();

            const int rows = 40;
            var inputs = new sbyte[rows * model.InputSize];
            for (int i = 0; i < inputs.Length; i++)
            {
                // Mostly uniform, with runs of the extremes so that clamps and ties get exercised.
                inputs[i] = (sbyte)(i % 97 < 5 ? (rng.Next(2) == 0 ? -128 : 127) : rng.Next(-128, 128));
            }

            var expected = new sbyte[rows * model.OutputSize];
            model.Reference.Run(inputs, expected);
            var actual = new sbyte[rows * model.OutputSize];
            for (int r = 0; r < rows; r++)
            {
                single(inputs.AsSpan(r * model.InputSize, model.InputSize), actual.AsSpan(r * model.OutputSize, model.OutputSize));
            }

            Assert.True(expected.SequenceEqual(actual), $"Run differs from the interpreter for {model.Description}");
            var batched = new sbyte[rows * model.OutputSize];
            batch(inputs, batched, rows);
            Assert.Equal(expected, batched);

            // Every kernel path the machine supports, with batch sizes that hit full and partial row blocks.
            var withPath = type.GetMethod("RunRows", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<RunRowsWithPath>();
            foreach (int path in SupportedPaths)
            {
                foreach (int count in new[] { 1, 3, 4, 5, 9, rows })
                {
                    var y = new sbyte[count * model.OutputSize];
                    withPath(inputs.AsSpan(0, count * model.InputSize), y, count, path);
                    Assert.True(expected.AsSpan(0, y.Length).SequenceEqual(y), $"path {path}, {count} rows differ from the interpreter for {model.Description}");
                }
            }
            CheckWorkspacePaths(type, inputs, expected, rows, rng, model.Description);
            // Outputs must not be constant: the model exercises the requantization, not just the clamp.
            if (model.OutputSize * rows > 8) Assert.True(expected.Distinct().Count() > 2, "degenerate test model");
        }

        [Fact]
        public void RunChecksLengthsWithClearMessages()
        {
            var model = RandomModel.Create(new Random(3), new[] { 5, 4 });
            var run = GeneratorHarness.Run(model.Source, ("weights/model.safetensors", model.Weights));
            var type = run.Load().GetType("DiffTest.Model")!;
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<RunRow>();
            var batch = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(int) })!.CreateDelegate<RunBatch>();
            var e = Assert.Throws<ArgumentException>(() => single(new sbyte[4], new sbyte[4]));
            Assert.Equal("input", e.ParamName);
            Assert.Contains("Expected 5 values", e.Message);
            e = Assert.Throws<ArgumentException>(() => single(new sbyte[5], new sbyte[3]));
            Assert.Equal("output", e.ParamName);
            e = Assert.Throws<ArgumentException>(() => batch(new sbyte[10], new sbyte[12], 2));
            Assert.Equal("outputs", e.ParamName);
            Assert.Throws<ArgumentOutOfRangeException>(() => batch(new sbyte[0], new sbyte[0], -1));
            Assert.Equal(5, (int)type.GetField("InputSize")!.GetValue(null)!);
            Assert.Equal(4, (int)type.GetField("OutputSize")!.GetValue(null)!);
        }
    }
}
