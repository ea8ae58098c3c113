extern alias generator;
using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Incremental caching, as the Roslyn cookbook prescribes: an unrelated edit must reuse every step's output,
    /// a change to the attributes or the weights must re-plan, and no pipeline model may hold a symbol, syntax or
    /// compilation (which would defeat the comparison and keep old compilations alive).
    /// </summary>
    public partial class CachingTests
    {
        private const string WeightsPath = "/project/weights/model.safetensors";
        private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

        private static readonly string[] OurSteps =
        {
            ModelGenerator.Steps.Specs, ModelGenerator.Steps.WeightsFiles, ModelGenerator.Steps.AllWeights, ModelGenerator.Steps.Plans,
        };

        private sealed class Setup
        {
            public required RandomModel Model { get; init; }
            public required CSharpCompilation Compilation { get; init; }
            public required InMemoryText Weights { get; init; }
            public required GeneratorDriver Driver { get; init; }
        }

        /// <summary>A valid model, run once.</summary>
        private static Setup FirstRun(int seed = 5)
        {
            var model = RandomModel.Create(new Random(seed), new[] { 20, 12, 4 });
            var weights = new InMemoryText(WeightsPath + ".genweights", SafeTensorsWriter.Encode(model.Weights, WeightsPath));
            var compilation = GeneratorHarness.Compilation(model.Source, "namespace Other { public class Existing { public int X; } }");
            var driver = GeneratorHarness.Driver(new[] { weights }).RunGenerators(compilation);
            var result = driver.GetRunResult();
            Assert.Null(result.Results[0].Exception);
            Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal(2, result.GeneratedTrees.Length);
            return new Setup { Model = model, Compilation = compilation, Weights = weights, Driver = driver };
        }

        private static GeneratorRunResult Result(GeneratorDriver driver)
        {
            var result = driver.GetRunResult().Results.Single();
            Assert.Null(result.Exception);
            return result;
        }

        private static IEnumerable<(string Step, object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string step)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), $"step '{step}' was not tracked; tracked: {string.Join(", ", result.TrackedSteps.Keys)}");
            var runs = result.TrackedSteps[step];
            Assert.NotEmpty(runs);
            return runs.SelectMany(r => r.Outputs).Select(o => (step, o.Value, o.Reason));
        }

        private static string Describe(IEnumerable<(string Step, object Value, IncrementalStepRunReason Reason)> outputs) =>
            string.Join(", ", outputs.Select(o => $"{o.Step}: {o.Reason}"));

        private static string ModelSource(GeneratorDriver driver) =>
            driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("DiffTest.Model.g.cs", StringComparison.Ordinal)).ToString();

        [Fact]
        public void AddingAnUnrelatedFileReusesEveryStep()
        {
            var setup = FirstRun();
            var edited = setup.Compilation.AddSyntaxTrees(
                CSharpSyntaxTree.ParseText("namespace Other { public class Unrelated { public int Y => 42; } }", ParseOptions, path: "Unrelated.cs"));
            var driver = setup.Driver.RunGenerators(edited);
            AssertEverythingReused(setup.Driver, driver);
        }

        [Fact]
        public void EditingAnUnrelatedFileReusesEveryStep()
        {
            var setup = FirstRun();
            var old = setup.Compilation.SyntaxTrees.Single(t => t.FilePath == "Model1.cs");
            var edited = setup.Compilation.ReplaceSyntaxTree(old,
                CSharpSyntaxTree.ParseText("namespace Other { public class Existing { public int X; public long Z; } }", ParseOptions, path: old.FilePath));
            var driver = setup.Driver.RunGenerators(edited);
            AssertEverythingReused(setup.Driver, driver);
        }

        private static void AssertEverythingReused(GeneratorDriver before, GeneratorDriver after)
        {
            var result = Result(after);
            var steps = new[] { ModelGenerator.Steps.Specs, ModelGenerator.Steps.WeightsFiles, ModelGenerator.Steps.AllWeights, ModelGenerator.Steps.Plans };
            var outputs = steps.SelectMany(s => Outputs(result, s)).ToList();
            Assert.True(outputs.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Describe(outputs));

            Assert.NotEmpty(result.TrackedOutputSteps);
            var emitted = result.TrackedOutputSteps.SelectMany(p => p.Value.SelectMany(r => r.Outputs).Select(o => (p.Key, o.Value, o.Reason))).ToList();
            Assert.NotEmpty(emitted);
            Assert.True(emitted.All(o => o.Reason == IncrementalStepRunReason.Cached), Describe(emitted));

            Assert.Equal(ModelSource(before), ModelSource(after));
        }

        [Fact]
        public void ChangingAnOutputScaleReplans()
        {
            var setup = FirstRun();
            var before = ModelSource(setup.Driver);
            var old = setup.Compilation.SyntaxTrees.Single(t => t.FilePath == "Model0.cs");
            string source = old.ToString();
            // The last layer's output scale: it is also the public OutputScale constant.
            int at = source.LastIndexOf("OutputScale = ", StringComparison.Ordinal);
            int end = source.IndexOf("f,", at, StringComparison.Ordinal) + 1;
            string newSource = source.Substring(0, at) + "OutputScale = 0.4375f" + source.Substring(end);
            Assert.NotEqual(source, newSource);

            var driver = setup.Driver.RunGenerators(setup.Compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(newSource, ParseOptions, path: old.FilePath)));
            var result = Result(driver);
            var specs = Outputs(result, ModelGenerator.Steps.Specs).ToList();
            Assert.Contains(specs, o => o.Reason == IncrementalStepRunReason.Modified);
            var plans = Outputs(result, ModelGenerator.Steps.Plans).ToList();
            Assert.True(plans.Single().Reason == IncrementalStepRunReason.Modified, Describe(plans));
            // The weights did not change.
            var weights = Outputs(result, ModelGenerator.Steps.AllWeights).ToList();
            Assert.True(weights.All(o => o.Reason == IncrementalStepRunReason.Cached), Describe(weights));

            var after = ModelSource(driver);
            Assert.NotEqual(before, after);
            Assert.Contains("public const float OutputScale = 0.4375f;", after, StringComparison.Ordinal);
        }

        [Fact]
        public void ReplacingTheWeightsReplans()
        {
            var setup = FirstRun();
            var before = ModelSource(setup.Driver);
            // Same topology, same declaration, different weights.
            var other = RandomModel.Create(new Random(6), new[] { 20, 12, 4 });
            var replacement = new InMemoryText(setup.Weights.Path, SafeTensorsWriter.Encode(other.Weights, WeightsPath));
            var driver = setup.Driver.ReplaceAdditionalText(setup.Weights, replacement).RunGenerators(setup.Compilation);
            var result = Result(driver);
            Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

            var specs = Outputs(result, ModelGenerator.Steps.Specs).ToList();
            Assert.True(specs.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Describe(specs));
            var files = Outputs(result, ModelGenerator.Steps.WeightsFiles).ToList();
            Assert.True(files.Single().Reason == IncrementalStepRunReason.Modified, Describe(files));
            var plans = Outputs(result, ModelGenerator.Steps.Plans).ToList();
            Assert.True(plans.Single().Reason == IncrementalStepRunReason.Modified, Describe(plans));
            Assert.NotEqual(before, ModelSource(driver));
        }

        [Fact]
        public void ReplacingTheWeightsWithTheSameBytesReusesThePlan()
        {
            var setup = FirstRun();
            var same = new InMemoryText(setup.Weights.Path, SafeTensorsWriter.Encode(setup.Model.Weights, WeightsPath));
            var driver = setup.Driver.ReplaceAdditionalText(setup.Weights, same).RunGenerators(setup.Compilation);
            var result = Result(driver);
            var plans = Outputs(result, ModelGenerator.Steps.Plans).ToList();
            Assert.True(plans.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Describe(plans));
            var emitted = result.TrackedOutputSteps.SelectMany(p => p.Value.SelectMany(r => r.Outputs)).ToList();
            Assert.True(emitted.All(o => o.Reason == IncrementalStepRunReason.Cached), string.Join(", ", emitted.Select(o => o.Reason)));
        }

        [Fact]
        public void PipelineModelsHoldNoSymbolsSyntaxOrCompilations()
        {
            var setup = FirstRun();
            // A second run after an edit, so that both fresh and cached outputs are walked; plus a broken model so
            // that diagnostics (with their locations) are in the pipeline too.
            var edited = setup.Compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
                "using Gen;\nnamespace Broken;\n[QuantizedModel(\"missing.safetensors\")]\n[ModelInput(3, Scale = 0.5f)]\n[Dense(\"d\", 2, OutputScale = 1f)]\npublic partial class B { }\n",
                ParseOptions, path: "Broken.cs"));
            var driver = setup.Driver.RunGenerators(edited);
            Assert.Contains(driver.GetRunResult().Diagnostics, d => d.Id == "GEN002");

            var walker = new ModelWalker();
            foreach (var d in new[] { setup.Driver, driver })
            {
                var result = Result(d);
                foreach (var step in OurSteps)
                {
                    foreach (var output in Outputs(result, step)) walker.Walk(output.Value, step);
                }
            }

            Assert.True(walker.Problems.Count == 0, "pipeline models hold forbidden values:\n" + string.Join("\n", walker.Problems));
            // Not vacuous: the walk reached the models and their nested parts.
            foreach (var name in new[] { "ModelSpec", "InputSpec", "DenseSpec", "WeightsFileSpec", "ModelPlan", "DenseLayerPlan", "DiagnosticInfo", "LocationInfo" })
            {
                Assert.True(walker.Seen.Contains(name), $"the walk never reached a {name}; it saw: {string.Join(", ", walker.Seen.OrderBy(x => x, StringComparer.Ordinal))}");
            }
        }

        /// <summary>Walks an object graph through its properties and enumerables, flagging Roslyn objects.</summary>
        private sealed class ModelWalker
        {
            private static readonly Type[] Forbidden = { typeof(ISymbol), typeof(Compilation), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(SemanticModel) };
            private readonly HashSet<object> _visited = new(ReferenceEqualityComparer.Instance);

            public List<string> Problems { get; } = new();

            public HashSet<string> Seen { get; } = new();

            private static bool IsForbidden(Type type) => Forbidden.Any(f => f.IsAssignableFrom(type)) ||
                type == typeof(SyntaxToken) || type == typeof(SyntaxTrivia) || type == typeof(SyntaxReference) || type.IsSubclassOf(typeof(SyntaxReference));

            public void Walk(object? value, string path)
            {
                if (value is null) return;
                var type = value.GetType();
                if (IsForbidden(type))
                {
                    Problems.Add($"{path}: {type.FullName}");
                    return;
                }

                if (type.IsPrimitive || type.IsEnum || value is string || value is decimal) return;
                if (!type.IsValueType && !_visited.Add(value)) return;
                Seen.Add(type.IsGenericType ? type.Name.Substring(0, type.Name.IndexOf('`')) : type.Name);

                if (value is IEnumerable sequence)
                {
                    var element = type.GetInterfaces().Concat(new[] { type })
                        .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
                    if (element != null && IsForbidden(element)) Problems.Add($"{path}: a sequence of {element.FullName}");
                    // Arrays of numbers (weights) hold nothing to find; do not walk megabytes of them.
                    if (element != null && (element.IsPrimitive || element == typeof(string))) return;
                    int i = 0;
                    foreach (var item in sequence) Walk(item, $"{path}[{i++}]");
                    if (type.IsArray || type.FullName!.StartsWith("System.Collections", StringComparison.Ordinal)) return;
                }

                if (type.FullName!.StartsWith("System.", StringComparison.Ordinal) && !type.IsGenericType) return;
                foreach (var property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract") continue;
                    if (IsForbidden(property.PropertyType)) Problems.Add($"{path}.{property.Name}: declared as {property.PropertyType.FullName}");
                    Walk(property.GetValue(value), $"{path}.{property.Name}");
                }

                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    if (IsForbidden(field.FieldType)) Problems.Add($"{path}.{field.Name}: field declared as {field.FieldType.FullName}");
                    if (field.FieldType.IsArray || !field.Name.Contains("k__BackingField", StringComparison.Ordinal)) Walk(field.GetValue(value), $"{path}.{field.Name}");
                }
            }
        }
    }
}
