extern alias generator;
using System;
using System.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Generator
{
    /// <summary>Incremental caching of transformer models: unrelated edits reuse the plan; pipeline models hold only values.</summary>
    public partial class CachingTests
    {
        [Fact]
        public void TransformerPlansAreReusedAndHoldOnlyValues()
        {
            var model = RandomTransformer.Create(new Random(71));
            const string weightsPath = "/project/weights/vit.safetensors";
            var files = new AdditionalText[]
            {
                new InMemoryText(weightsPath + ".genweights", SafeTensorsWriter.Encode(model.Weights, weightsPath)),
                new InMemoryText("/project/weights/vit.calibration.txt", model.CalibrationText),
            };
            var compilation = GeneratorHarness.Compilation(model.Source(), "namespace Other { public class Existing { public int X; } }");
            var first = GeneratorHarness.Driver(files).RunGenerators(compilation);
            Assert.DoesNotContain(first.GetRunResult().Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

            var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Model1.cs");
            var second = first.RunGenerators(compilation.ReplaceSyntaxTree(old,
                CSharpSyntaxTree.ParseText("namespace Other { public class Existing { public int X; public long Z; } }", ParseOptions, path: old.FilePath)));
            var result = Result(second);
            var outputs = OurSteps.SelectMany(s => Outputs(result, s)).ToList();
            Assert.True(outputs.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Describe(outputs));
            string Source(GeneratorDriver d) => d.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("DiffTest.Vit.g.cs", StringComparison.Ordinal)).ToString();
            Assert.Equal(Source(first), Source(second));

            // A changed activation scale re-plans.
            var declaration = compilation.SyntaxTrees.Single(t => t.FilePath == "Model0.cs");
            string edited = declaration.ToString().Replace("[MeanPool]", "[MeanPool(OutputScale = 0.03125f, OutputZeroPoint = 1)]", StringComparison.Ordinal);
            var third = second.RunGenerators(compilation.ReplaceSyntaxTree(declaration, CSharpSyntaxTree.ParseText(edited, ParseOptions, path: declaration.FilePath)));
            var plans = Outputs(Result(third), ModelGenerator.Steps.Plans).ToList();
            Assert.True(plans.Single().Reason == IncrementalStepRunReason.Modified, Describe(plans));
            Assert.Contains("to scale 0.03125, zero point 1", Source(third), StringComparison.Ordinal);

            var walker = new ModelWalker();
            foreach (var driver in new[] { first, second, third })
            {
                foreach (var output in OurSteps.SelectMany(s => Outputs(Result(driver), s))) walker.Walk(output.Value, output.Step);
            }

            Assert.True(walker.Problems.Count == 0, "pipeline models hold forbidden values:\n" + string.Join("\n", walker.Problems));
            foreach (var name in new[] { "TransformerSpec", "PatchEmbeddingSpec", "EncoderLayerSpec", "QuantizationSpec", "GraphPlan", "AttentionNodePlan", "LayerNormEmitPlan", "SoftmaxEmitPlan", "AddPlan", "GeluNodePlan" })
            {
                Assert.True(walker.Seen.Contains(name), $"the walk never reached a {name}");
            }
        }
    }
}
