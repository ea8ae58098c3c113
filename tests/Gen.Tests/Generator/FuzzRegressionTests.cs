using System;
using System.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Inputs the fuzzers (tools/fuzz, docs/fuzzing.md) found to crash the generator, kept as tests. The inputs that
    /// found them are also in tools/fuzz/corpus/generator, so the fuzzers start from them.
    /// </summary>
    public class FuzzRegressionTests
    {
        private const string WeightsPath = "/project/weights/model.safetensors";

        private static readonly Lazy<byte[]> Weights = new(() => new SafeTensorsWriter()
            .F32("fc1.weight", Enumerable.Range(0, 12).Select(i => (i % 5 - 2) * 0.1f).ToArray(), 3, 4)
            .F32("fc1.bias", new[] { 0.1f, -0.2f, 0.05f }, 3)
            .ToBytes());

        private static string Model(string prefix, string className, string suffix = "") =>
            "using Gen;\n" + prefix +
            "[QuantizedModel(\"weights/model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
            "[Dense(\"fc1\", 3, OutputScale = 0.05f, OutputZeroPoint = 1)]\n" +
            $"public static partial class {className} {{ }}\n" + suffix;

        /// <summary>The generator ran to the end: no exception (CS8785), no GEN099, and its code compiles.</summary>
        private static GeneratorRun RunClean(string source)
        {
            var run = GeneratorHarness.Run(source, (WeightsPath, Weights.Value));
            var result = run.Driver.GetRunResult();
            Assert.All(result.Results, r => Assert.Null(r.Exception));
            Assert.DoesNotContain(run.GeneratorDiagnostics.Concat(result.Diagnostics), d => d.Id is "GEN099" or "CS8784" or "CS8785");
            Assert.Empty(run.Errors);
            return run;
        }

        private static int Outputs(GeneratorRun run, string typeName)
        {
            var type = run.Load().GetType(typeName);
            Assert.NotNull(type);
            return (int)type!.GetField("OutputSize")!.GetValue(null)!;
        }

        // Found by the generator harness: a keyword namespace displays as '@if', and '@' is not allowed in a hint
        // name, so AddSource threw ArgumentException out of the generator (CS8785).
        [Theory]
        [InlineData("namespace @if;\n", "if.Net")]
        [InlineData("namespace A.@event.B;\n", "A.event.B.Net")]
        public void KeywordNamespacesAreEmittedWithValidHintNames(string ns, string typeName)
        {
            var run = RunClean(Model(ns, "Net"));
            Assert.Contains(run.Driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith(typeName + ".g.cs", StringComparison.Ordinal));
            Assert.Equal(3, Outputs(run, typeName));
        }

        // A class named with a verbatim keyword: the symbol's name is 'class', and the generated 'partial class class'
        // did not compile.
        [Fact]
        public void KeywordClassNamesKeepTheirAt()
        {
            var run = RunClean(Model("namespace Fuzz;\n", "@class"));
            Assert.Contains("partial class @class", run.GeneratedSource("Fuzz.class.g.cs"), StringComparison.Ordinal);
            Assert.Equal(3, Outputs(run, "Fuzz.class"));
        }

        // Identifiers may contain combining and connecting characters, which hint names may not.
        [Theory]
        [InlineData("A\u0300", "A_u0300")]
        [InlineData("A\u203fB", "A_u203fB")]
        public void IdentifiersWithMarksGetValidHintNames(string className, string hint)
        {
            var run = RunClean(Model("namespace Fuzz;\n", className));
            Assert.Contains(run.Driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("Fuzz." + hint + ".g.cs", StringComparison.Ordinal));
            Assert.Equal(3, Outputs(run, "Fuzz." + className));
        }

        // Found by the generator harness: a class whose name did not parse ('class' followed by an invalid
        // character) was still generated for, as a class with an empty name, adding errors in generated files to the
        // user's own syntax error.
        [Fact]
        public void AClassWithoutANameGetsNoGeneratedCode()
        {
            var run = GeneratorHarness.Run(Model("", "\ufffd"), (WeightsPath, Weights.Value));
            var result = run.Driver.GetRunResult();
            Assert.Empty(result.GeneratedTrees);
            Assert.All(result.Results, r => Assert.Null(r.Exception));
            var errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.NotEmpty(errors);
            Assert.All(errors, e => Assert.Equal("Model0.cs", e.Location.SourceTree?.FilePath));
        }
    }
}
