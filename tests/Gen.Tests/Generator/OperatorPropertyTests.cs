using System;
using System.Linq;
using System.Reflection;
using CsCheck;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Every operator's generated code against the reference interpreter, bit for bit, on shapes, weights, scales and
    /// inputs that CsCheck generates (and shrinks: a failure is reported as the smallest model and input found). Dense
    /// layers of every activation, weight quantization and kernel route; vision transformers, whose encoder layers run
    /// the patch embedding, LayerNorm, the attention matrix products, Softmax, GELU, the residual adds and the mean pool.
    /// Every kernel path this machine supports is checked. Each case compiles a model, so the counts are small.
    /// </summary>
    public class OperatorPropertyTests
    {
        /// <summary>A dense model: layer sizes, the seed of its weights and scales, how its weights are stored, inputs.</summary>
        public sealed record DenseCase(int[] Sizes, int Seed, int Storage, int Rows, sbyte[] Inputs)
        {
            public override string ToString() =>
                $"sizes [{string.Join(", ", Sizes)}], seed {Seed}, {(Storage == 0 ? "float weights" : Storage == 1 ? "INT8 weights" : "small INT8 weights")}, " +
                $"{Rows} rows: [{string.Join(", ", Inputs)}]";
        }

        private static readonly Gen<DenseCase> DenseCases =
            from layers in Any.Int[1, 3]
            from sizes in Any.Frequency((5, Any.Int[1, 40]), (1, Any.Int[41, 130])).Array[layers + 1]
            from seed in Any.Int[0, 1_000_000]
            from storage in Any.Int[0, 2]
            from rows in Any.Int[1, 9]
            // Mostly uniform inputs, with runs of the extremes so that clamps and ties are reached.
            from inputs in Any.Frequency((6, Any.SByte), (1, Any.OneOf(Any.Const(sbyte.MinValue), Any.Const(sbyte.MaxValue)))).Array[rows * sizes[0]]
            select new DenseCase(sizes, seed, storage, rows, inputs);

        [Fact]
        public void DenseLayersEqualTheInterpreter()
        {
            DenseCases.Sample(c =>
            {
                // Storage 2: weights within +-32, so the generator proves the saturating u8 x s8 routes exact and uses them.
                var model = RandomModel.Create(new Random(c.Seed), c.Sizes, preQuantized: c.Storage > 0, maxWeight: c.Storage == 2 ? 32 : 127);
                var run = GeneratorHarness.Run(model.Source, ("/project/weights/model.safetensors", model.Weights));
                Assert.Empty(run.Errors);
                var expected = new sbyte[c.Rows * model.OutputSize];
                model.Reference.Run(c.Inputs, expected);
                CheckEveryEntryPoint(run.Load().GetType("DiffTest.Model")!, c.Inputs, expected, c.Rows, model.InputSize, model.OutputSize);
            }, iter: 10, threads: 1, print: c => c.ToString());
        }

        /// <summary>A vision transformer: its shape, the seed of its weights and calibration, and the images.</summary>
        public sealed record TransformerCase(int Patch, int Grid, int Channels, int Heads, int HeadSize, int FeedForward, int Layers, int Outputs,
            int Seed, int Images, sbyte[] Inputs)
        {
            public override string ToString() =>
                $"{Grid * Patch}x{Grid * Patch}x{Channels} images, patch {Patch}, {Heads} heads of {HeadSize}, feed-forward {FeedForward}, " +
                $"{Layers} layers, {Outputs} outputs, seed {Seed}, {Images} images: [{string.Join(", ", Inputs)}]";
        }

        private static readonly Gen<TransformerCase> TransformerCases =
            from patch in Any.Int[1, 4]
            // At least two tokens: with one, the mean pool is the identity, which its requantization cannot express.
            from grid in Any.Int[2, 4]
            from channels in Any.Int[1, 2]
            from heads in Any.Int[1, 4]
            from headSize in Any.Int[2, 12]
            from feedForward in Any.Int[4, 64]
            from layers in Any.Int[1, 2]
            from outputs in Any.Int[1, 6]
            from seed in Any.Int[0, 1_000_000]
            from images in Any.Int[1, 4]
            from inputs in Any.SByte.Array[images * channels * grid * patch * grid * patch]
            select new TransformerCase(patch, grid, channels, heads, headSize, feedForward, layers, outputs, seed, images, inputs);

        [Fact]
        public void TransformerOperatorsEqualTheInterpreter()
        {
            TransformerCases.Sample(c =>
            {
                var model = RandomTransformer.Create(new Random(c.Seed), image: c.Grid * c.Patch, channels: c.Channels, patch: c.Patch,
                    width: c.Heads * c.HeadSize, heads: c.Heads, feedForward: c.FeedForward, layers: c.Layers, outputs: c.Outputs);
                var run = GeneratorHarness.Run(model.Source(), new[] { ("/project/weights/vit.calibration.txt", model.CalibrationText) },
                    ("/project/weights/vit.safetensors", model.Weights));
                Assert.Empty(run.Errors);
                var expected = new sbyte[c.Images * model.Shape.OutputSize];
                model.Reference.Run(c.Inputs, expected);
                CheckEveryEntryPoint(run.Load().GetType("DiffTest.Vit")!, c.Inputs, expected, c.Images, model.Shape.InputSize, model.Shape.OutputSize);
            }, iter: 6, threads: 1, print: c => c.ToString());
        }

        /// <summary>Run row by row, batched, and every kernel path through RunRows, all equal to <paramref name="expected"/>.</summary>
        private static void CheckEveryEntryPoint(Type type, sbyte[] inputs, sbyte[] expected, int rows, int inputSize, int outputSize)
        {
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<DifferentialTests.RunRow>();
            var batch = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(int) })!.CreateDelegate<DifferentialTests.RunBatch>();
            var withPath = type.GetMethod("RunRows", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<DifferentialTests.RunRowsWithPath>();

            var actual = new sbyte[expected.Length];
            for (int r = 0; r < rows; r++) single(inputs.AsSpan(r * inputSize, inputSize), actual.AsSpan(r * outputSize, outputSize));
            Assert.True(expected.SequenceEqual(actual), Difference("Run, row by row", expected, actual));
            batch(inputs, actual, rows);
            Assert.True(expected.SequenceEqual(actual), Difference("Run, batched", expected, actual));
            foreach (int path in DifferentialTests.SupportedPaths)
            {
                Array.Clear(actual);
                withPath(inputs, actual, rows, path);
                Assert.True(expected.SequenceEqual(actual), Difference($"kernel path {path}", expected, actual));
            }
        }

        private static string Difference(string what, sbyte[] expected, sbyte[] actual)
        {
            int i = Enumerable.Range(0, expected.Length).FirstOrDefault(j => expected[j] != actual[j]);
            return $"{what} differs from the interpreter at output {i}: interpreter {expected[i]}, generated code {actual[i]}";
        }
    }
}
