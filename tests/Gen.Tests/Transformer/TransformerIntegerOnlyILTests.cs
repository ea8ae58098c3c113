using System;
using System.Linq;
using System.Reflection;
using Gen.Tests.Generator;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Transformer
{
    /// <summary>Every method a generated transformer's <c>Run</c> can reach is free of floating point, checked on its IL.</summary>
    public class TransformerIntegerOnlyILTests
    {
        [Fact]
        public void TransformerRunNeverTouchesFloatingPoint()
        {
            // 25 tokens and head size 7: every vector loop has a scalar tail, so both forms of each step are reached.
            var model = RandomTransformer.Create(new Random(41), image: 10, channels: 1, patch: 2, width: 21, heads: 3, feedForward: 70, layers: 1, outputs: 4);
            var run = GeneratorHarness.Run(model.Source(), new[] { ("/project/weights/vit.calibration.txt", model.CalibrationText) },
                ("/project/weights/vit.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("DiffTest.Vit", throwOnError: true)!;
            var roots = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == "Run").Cast<MethodBase>()
                .Append(type.TypeInitializer!).ToArray();

            var checker = new FloatFreeChecker();
            checker.CheckClosure(roots);
            var visited = string.Join(", ", checker.Visited.Select(FloatFreeChecker.Name).OrderBy(n => n, StringComparer.Ordinal));
            Assert.True(checker.Findings.Count == 0, "floating point reachable from Run:\n" + string.Join("\n", checker.Findings) + "\nvisited: " + visited);

            // Not vacuous: every kind of step, scalar and AVX-512, was walked through.
            foreach (var name in new[]
            {
                "RunImage", "Patchify", "AddPosition", "Embed", "Blocks0Norm1", "Blocks0AttnQ", "Blocks0Attention", "Blocks0AttentionAvx512",
                "Blocks0Exp", "Blocks0ExpAvx512", "Blocks0AttnResidual", "Blocks0Gelu", "Blocks0FfnFc1", "Blocks0FfnFc2",
                "Blocks0FfnResidual", "Norm", "MeanPool", "Head", "IntSqrt", "MultiplyByQuantizedMultiplier", "Requantize",
            })
            {
                Assert.True(checker.Visited.Any(m => m.Name == name), $"{name} was not visited; visited: {visited}");
            }
        }
    }
}
