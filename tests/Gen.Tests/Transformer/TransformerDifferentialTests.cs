using System;
using System.Linq;
using System.Reflection;
using Gen.Tests.Generator;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Transformer
{
    /// <summary>Generated transformers against the reference interpreter, bit for bit, on random models and images.</summary>
    public class TransformerDifferentialTests
    {
        private const string WeightsPath = "/project/weights/vit.safetensors";
        private const string CalibrationPath = "/project/weights/vit.calibration.txt";

        [Theory]
        [InlineData(1, 8, 1, 4, 16, 2, 24, 1, 5)]
        [InlineData(2, 8, 1, 2, 16, 4, 32, 2, 3)]
        [InlineData(3, 12, 3, 4, 24, 3, 40, 1, 7)]
        [InlineData(4, 28, 1, 7, 64, 4, 128, 2, 10)]
        [InlineData(5, 6, 1, 3, 20, 5, 17, 3, 1)]
        [InlineData(6, 10, 1, 2, 21, 3, 70, 1, 4)]   // 25 tokens (two vectors of scores), odd head size 7, tails everywhere
        [InlineData(7, 12, 2, 2, 18, 2, 65, 2, 6)]   // 36 tokens, head size 9, two channels
        [InlineData(8, 14, 1, 2, 32, 1, 48, 1, 3)]   // 49 tokens (context summed in a loop), one head of 32 (two vectors)
        public void GeneratedTransformerEqualsTheInterpreter(int seed, int image, int channels, int patch, int width, int heads,
            int feedForward, int layers, int outputs)
        {
            var rng = new Random(seed);
            var model = RandomTransformer.Create(rng, image, channels, patch, width, heads, feedForward, layers, outputs);
            var run = GeneratorHarness.Run(model.Source(), new[] { (CalibrationPath, model.CalibrationText) }, (WeightsPath, model.Weights));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("DiffTest.Vit")!;
            var withPath = type.GetMethod("RunRows", BindingFlags.NonPublic | BindingFlags.Static)!
                .CreateDelegate<DifferentialTests.RunRowsWithPath>();
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!
                .CreateDelegate<DifferentialTests.RunRow>();

            int inputSize = model.Shape.InputSize, outputSize = model.Shape.OutputSize;
            const int images = 6;
            var inputs = new sbyte[images * inputSize];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (sbyte)(i % 53 < 3 ? (rng.Next(2) == 0 ? -128 : 127) : rng.Next(-128, 128));
            var expected = new sbyte[images * outputSize];
            model.Reference.Run(inputs, expected);

            var actual = new sbyte[images * outputSize];
            for (int i = 0; i < images; i++) single(inputs.AsSpan(i * inputSize, inputSize), actual.AsSpan(i * outputSize, outputSize));
            Assert.True(expected.SequenceEqual(actual), $"Run differs from the interpreter for {model.Description}");
            foreach (int path in DifferentialTests.SupportedPaths)
            {
                var y = new sbyte[images * outputSize];
                withPath(inputs, y, images, path);
                Assert.True(expected.SequenceEqual(y), $"path {path} differs from the interpreter for {model.Description}");
            }

            DifferentialTests.CheckWorkspacePaths(type, inputs, expected, images, rng, model.Description);
            // The model must exercise the arithmetic, not just saturate: outputs vary between images.
            if (outputSize * images > 8) Assert.True(expected.Distinct().Count() > 2, "degenerate test model");
        }
    }
}
