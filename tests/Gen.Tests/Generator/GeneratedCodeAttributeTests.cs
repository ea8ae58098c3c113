extern alias generator;
using System;
using System.CodeDom.Compiler;
using System.ComponentModel;
using System.Linq;
using System.Reflection;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;
using ModelSpec = generator::Gen.Generators.Model.ModelSpec;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The generated model class and its KernelPath enum carry <c>[GeneratedCode("Gen", version)]</c>, the version
    /// being the generator's informational version without build metadata. A class that declares its own
    /// [GeneratedCode] (which allows one per class) keeps it and compiles: the generated declaration leaves Gen's out,
    /// and the spec records that, so adding or removing the user's attribute re-emits the model.
    /// </summary>
    public class GeneratedCodeAttributeTests
    {
        private const string WeightsPath = "/project/model.safetensors";

        private static string Source(string attributes = "", string rest = "") =>
            "using Gen;\nnamespace AttrTest\n{\n[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = 0)]\n" +
            "[Dense(\"fc1\", 3, OutputScale = 0.05f, OutputZeroPoint = 0)]\n" +
            attributes +
            "public static partial class Net { }\n}\n" + rest;

        private static byte[] Weights() =>
            new SafeTensorsWriter().F32("fc1.weight", new[] { 0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.1f, 0.2f, 0.1f, -0.3f, 0.2f, 0.1f, 0.0f }, 3, 4).ToBytes();

        /// <summary>What the generated code must say: the generator assembly's informational version up to any '+'.</summary>
        private static string ExpectedVersion()
        {
            string version = typeof(ModelGenerator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
            int plus = version.IndexOf('+', StringComparison.Ordinal);
            return plus > 0 ? version.Substring(0, plus) : version;
        }

        private static GeneratorRun Compiled(string source)
        {
            var run = GeneratorHarness.Run(source, (WeightsPath, Weights()));
            var errors = run.Errors.ToList();
            Assert.True(errors.Count == 0, "errors:\n" + string.Join("\n", errors.Take(20)));
            return run;
        }

        private static void AssertGen(GeneratedCodeAttribute? attribute, string what)
        {
            Assert.True(attribute != null, what + " has no [GeneratedCode]");
            Assert.Equal("Gen", attribute!.Tool);
            Assert.Equal(ExpectedVersion(), attribute.Version);
        }

        [Fact]
        public void TheVersionIsThePackageVersion()
        {
            // src/Directory.Build.props sets Version, which becomes the informational version (plus the commit after '+').
            Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", ExpectedVersion());
        }

        [Fact]
        public void TheModelClassAndItsKernelPathEnumCarryTheAttribute()
        {
            var run = Compiled(Source());
            var type = run.Load().GetType("AttrTest.Net", throwOnError: true)!;
            AssertGen(type.GetCustomAttribute<GeneratedCodeAttribute>(), "Net");
            AssertGen(type.GetNestedType("KernelPath")!.GetCustomAttribute<GeneratedCodeAttribute>(), "Net.KernelPath");

            // Fully qualified in the source, once on the class (in the model file) and once on the enum.
            string expected = $"[global::System.CodeDom.Compiler.GeneratedCode(\"Gen\", \"{ExpectedVersion()}\")]";
            string model = run.GeneratedSource("AttrTest.Net.g.cs"), boundary = run.GeneratedSource("AttrTest.Net.Boundary.g.cs");
            Assert.Equal(2, model.Split(expected).Length - 1);
            Assert.Matches(System.Text.RegularExpressions.Regex.Escape(expected) + @"\s+public static partial class Net\b", model);
            Assert.DoesNotContain("GeneratedCode(", boundary, StringComparison.Ordinal);
        }

        [Fact]
        public void ATransformerCarriesTheAttribute()
        {
            var model = RandomTransformer.Create(new Random(3), image: 8, channels: 1, patch: 4, width: 16, heads: 2, feedForward: 16, layers: 1, outputs: 3);
            var run = GeneratorHarness.Run(model.Source(), new[] { ("/project/weights/vit.calibration.txt", model.CalibrationText) },
                ("/project/weights/vit.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("DiffTest.Vit", throwOnError: true)!;
            AssertGen(type.GetCustomAttribute<GeneratedCodeAttribute>(), "Vit");
            AssertGen(type.GetNestedType("KernelPath")!.GetCustomAttribute<GeneratedCodeAttribute>(), "Vit.KernelPath");
        }

        [Fact]
        public void TheUsersOwnAttributesStayOnTheClass()
        {
            var run = Compiled(Source("[System.ComponentModel.Description(\"the user's own\")]\n[System.Obsolete(\"old\")]\n"));
            var type = run.Load().GetType("AttrTest.Net", throwOnError: true)!;
            Assert.Equal("the user's own", type.GetCustomAttribute<DescriptionAttribute>()!.Description);
            Assert.Equal("old", type.GetCustomAttribute<ObsoleteAttribute>()!.Message);
            AssertGen(type.GetCustomAttribute<GeneratedCodeAttribute>(), "Net");
        }

        [Theory]
        [InlineData("[System.CodeDom.Compiler.GeneratedCode(\"MyTool\", \"9.9\")]\n", "")]
        // On another declaration of the same partial class, through a using alias.
        [InlineData("", "namespace AttrTest { using G = System.CodeDom.Compiler.GeneratedCodeAttribute; [G(\"MyTool\", \"9.9\")] static partial class Net { } }\n")]
        public void AClassWithItsOwnGeneratedCodeKeepsItAndCompiles(string attributes, string rest)
        {
            // Without the check, the class would get two [GeneratedCode] and fail with CS0579 (AllowMultiple = false).
            var run = Compiled(Source(attributes, rest));
            var type = run.Load().GetType("AttrTest.Net", throwOnError: true)!;
            var own = type.GetCustomAttribute<GeneratedCodeAttribute>()!;
            Assert.Equal(("MyTool", "9.9"), (own.Tool, own.Version));
            // The enum is Gen's alone: it still carries Gen's attribute.
            AssertGen(type.GetNestedType("KernelPath")!.GetCustomAttribute<GeneratedCodeAttribute>(), "Net.KernelPath");
            Assert.True(Spec(run.Driver).DeclaresGeneratedCode);
        }

        [Fact]
        public void AddingTheUsersGeneratedCodeReemitsTheModel()
        {
            // The spec holds the fact as a value: a cached model file with Gen's attribute would collide with the new one.
            var weights = new InMemoryText(WeightsPath + ".genweights", SafeTensorsWriter.Encode(Weights(), WeightsPath));
            var compilation = GeneratorHarness.Compilation(Source());
            var driver = GeneratorHarness.Driver(new[] { weights }).RunGenerators(compilation);
            Assert.False(Spec(driver).DeclaresGeneratedCode);

            var old = compilation.SyntaxTrees.Single();
            var edited = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(
                Source("[System.CodeDom.Compiler.GeneratedCode(\"MyTool\", \"1\")]\n"), (CSharpParseOptions)old.Options, path: old.FilePath));
            var run = GeneratorHarness.Run(edited, driver);
            Assert.True(Spec(run.Driver).DeclaresGeneratedCode);
            var errors = run.Errors.ToList();
            Assert.True(errors.Count == 0, "errors:\n" + string.Join("\n", errors.Take(20)));
            Assert.Equal("MyTool", run.Load().GetType("AttrTest.Net", throwOnError: true)!.GetCustomAttribute<GeneratedCodeAttribute>()!.Tool);
        }

        private static ModelSpec Spec(GeneratorDriver driver)
        {
            var result = driver.GetRunResult().Results.Single();
            Assert.Null(result.Exception);
            return (ModelSpec)result.TrackedSteps[ModelGenerator.Steps.Specs].SelectMany(s => s.Outputs).Single().Value;
        }
    }
}
