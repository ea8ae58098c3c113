extern alias generator;
using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Generator
{
    /// <summary>The project folder reaches the pipeline as a small value: with it set, edits still reuse every step.</summary>
    public partial class CachingTests
    {
        [Fact]
        public void ProjectFolderOptionIsCachedAcrossEdits()
        {
            var model = RandomModel.Create(new Random(5), new[] { 20, 12, 4 });
            var options = new Dictionary<string, string>
            {
                ["build_property.MSBuildProjectDirectory"] = "/project",
                ["build_property.GenWeightsCandidates"] = WeightsPath + "|/project/other.safetensors",
            };
            // The model names "weights/model.safetensors": it resolves exactly against the project folder.
            Assert.Contains("[QuantizedModel(\"weights/model.safetensors\")]", model.Source, StringComparison.Ordinal);
            var weights = new InMemoryText("/project/obj/gen-weights/model.safetensors.0badc0de.genweights", SafeTensorsWriter.Encode(model.Weights, WeightsPath));
            var compilation = GeneratorHarness.Compilation(model.Source, "namespace Other { public class Existing { public int X; } }");
            var first = GeneratorHarness.Driver(new[] { weights }, options).RunGenerators(compilation);
            Assert.DoesNotContain(first.GetRunResult().Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal(2, first.GetRunResult().GeneratedTrees.Length);

            var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other { public class Unrelated { } }", ParseOptions, path: "Unrelated.cs"));
            var result = Result(first.RunGenerators(edited));
            var outputs = new[] { ModelGenerator.Steps.Project, ModelGenerator.Steps.Plans }.SelectMany(s => Outputs(result, s)).ToList();
            Assert.True(outputs.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Describe(outputs));
            var emitted = result.TrackedOutputSteps.SelectMany(p => p.Value.SelectMany(r => r.Outputs)).ToList();
            Assert.True(emitted.All(o => o.Reason == IncrementalStepRunReason.Cached), string.Join(", ", emitted.Select(o => o.Reason)));
        }
    }
}
