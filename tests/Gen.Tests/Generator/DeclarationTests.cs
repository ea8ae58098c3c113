using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Declarations that used to end in compiler errors inside the generated file (a record, a file-local class, a class
    /// named <c>@class</c>, a layer named <c>run_rows</c> or holding a newline, a class that already declares
    /// <c>InputSize</c> or <c>Run</c>). The rule tested throughout: a declaration either gets a GEN diagnostic at the
    /// declaration (GEN015, GEN016), or the whole compilation, generated files included, has no error and the model
    /// computes what the same model under plain names computes.
    /// </summary>
    public partial class DiagnosticTests
    {
        private static string Declaration(string type, string layer1 = "fc1", string layer2 = "fc2", string ns = "namespace DiagTest;\n") =>
            "using Gen;\n" + ns +
            "[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
            $"[Dense({RandomTransformer.Literal(layer1)}, 3, Activation = Activation.Relu, OutputScale = 0.05f, OutputZeroPoint = -128)]\n" +
            $"[Dense({RandomTransformer.Literal(layer2)}, 2, OutputScale = 0.1f, OutputZeroPoint = 5)]\n" +
            type + "\n";

        /// <summary>The tensors of <see cref="ValidTensors"/> under other layer names.</summary>
        private static byte[] NamedTensors(string layer1 = "fc1", string layer2 = "fc2") => new SafeTensorsWriter()
            .F32(layer1 + ".weight", Values(12), 3, 4).F32(layer1 + ".bias", Values(3, 1), 3)
            .F32(layer2 + ".weight", Values(6, 2), 2, 3).F32(layer2 + ".bias", Values(2, 3), 2).ToBytes();

        private static readonly sbyte[] NetInputs = { 0, 0, 0, 0, 127, -128, 5, 9, -7, 100, -100, 1, 33, -33, 64, -1 };

        /// <summary>What the 2-layer model of <see cref="ValidSource"/> computes for <see cref="NetInputs"/>.</summary>
        private static readonly Lazy<sbyte[]> NetOutputs = new(() => RunRows(Run(ValidSource, ValidTensors().ToBytes()), "DiagTest.Net", NetInputs, 4, 2));

        private static sbyte[] RunRows(GeneratorRun run, string type, sbyte[] inputs, int inputSize, int outputSize)
        {
            var model = run.Load().GetType(type, throwOnError: true)!
                .GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<DifferentialTests.RunRow>();
            var outputs = new sbyte[inputs.Length / inputSize * outputSize];
            for (int i = 0; i < inputs.Length / inputSize; i++) model(inputs.AsSpan(i * inputSize, inputSize), outputs.AsSpan(i * outputSize, outputSize));
            return outputs;
        }

        /// <summary>No error anywhere in the compilation (generated files included), and the model was generated.</summary>
        private static void AssertCompiles(GeneratorRun run)
        {
            AssertNoException(run);
            var errors = run.Errors.ToList();
            Assert.True(errors.Count == 0, "errors:\n" + string.Join("\n", errors.Take(20)));
            Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "GEN100");
        }

        // ---- GEN015 --------------------------------------------------------------------------------------------

        [Theory]
        [InlineData("public partial record Net { }", "The model type 'Net' is a record; Gen generates a model only into a class: declare it 'partial class Net'")]
        [InlineData("public sealed partial record class Net { }", "The model type 'Net' is a record;")]
        [InlineData("public partial record struct Net { }", "The model type 'Net' is a record struct;")]
        [InlineData("public partial struct Net { }", "The model type 'Net' is a struct;")]
        [InlineData("public partial interface Net { }", "The model type 'Net' is an interface;")]
        [InlineData("file static partial class Net { }", "The model class 'Net' is file-local ('file'); the generated members go into another file, which cannot extend a file-local class: declare it 'internal' or 'public' instead")]
        [InlineData("file partial class Net { }", "is file-local ('file')")]
        public void Gen015_ModelTypeKindNotSupported(string type, string message)
        {
            var run = Run(Declaration(type), ValidTensors().ToBytes());
            var d = Expect(run, "GEN015", "Net", message);
            Assert.Equal("Net", SpanText(run, d)); // the type's identifier
        }

        // ---- names that are keywords ---------------------------------------------------------------------------

        [Theory]
        [InlineData("namespace DiagTest;\n", "public static partial class @class { }", "DiagTest.class")]
        [InlineData("namespace @event.@static;\n", "public static partial class @class { }", "event.static.class")]
        [InlineData("namespace @var.@async;\n", "internal partial class @var { public int Value; }", "var.async.var")]
        [InlineData("", "internal static partial class @checked { }", "checked")]
        [InlineData("namespace DiagTest;\n", "public sealed partial class Net { private int _state; public int State => _state; }", "DiagTest.Net")]
        public void KeywordNamesAreEscaped(string ns, string type, string metadataName)
        {
            var run = Run(Declaration(type, ns: ns), ValidTensors().ToBytes());
            AssertCompiles(run);
            Assert.Equal(NetOutputs.Value, RunRows(run, metadataName, NetInputs, 4, 2));
        }

        // ---- layer names ---------------------------------------------------------------------------------------

        [Theory]
        [InlineData("run_rows", "fc2")]           // RunRows, the generated row loop
        [InlineData("fc", "fc.scalar")]           // FcScalar, also fc's scalar kernel
        [InlineData("fc", "fc.weights")]          // FcWeights, also fc's weights
        [InlineData("a", "a.avx512.r4p4")]        // AAvx512R4P4, also a's micro-kernel
        [InlineData("run", "select_path")]
        [InlineData("widen4", "to_unsigned3")]    // the conversion helpers' names
        [InlineData("math", "span")]              // types the generated code uses
        [InlineData("net", "1")]                  // the class's own name; a name that is only digits
        [InlineData("_", "layer1")]               // no letter at all; the fallback name of the first layer
        [InlineData("fc\n1", "fc2")]              // a newline must not end a // comment
        [InlineData("fc\r\n1 // */ <summary>", "fc\"2\\")]
        [InlineData("fc\u2028x", "fc\u0085y\u2029")] // C# also ends lines at NEL, LS and PS
        [InlineData("fc\u0000\t1", "\ud800fc")]   // control characters, an unpaired surrogate
        public void AnyLayerNameGivesCodeThatCompiles(string layer1, string layer2)
        {
            var run = Run(Declaration("public static partial class Net { }", layer1, layer2), NamedTensors(layer1, layer2));
            AssertCompiles(run);
            Assert.Equal(NetOutputs.Value, RunRows(run, "DiagTest.Net", NetInputs, 4, 2));
            foreach (string name in new[] { layer1, layer2 })
            {
                // Each name still shows in the comments, in a form that cannot break them.
                Assert.Contains(CommentForm(name), run.GeneratedSource("Net.g.cs"), StringComparison.Ordinal);
            }
        }

        /// <summary>A name as the generated comments show it (line ends and other control characters escaped).</summary>
        private static string CommentForm(string name) => string.Concat(name.Select((c, i) =>
            c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" :
            char.IsControl(c) || c is '\u0085' or '\u2028' or '\u2029' || char.IsSurrogate(c) ? "\\u" + ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture) :
            c.ToString()));

        [Theory]
        [InlineData("embed", "blocks", "norm", "run_rows")]
        [InlineData("embed", "blocks", "norm", "blocks_0_norm1")]      // the head's method would be the encoder LayerNorm's
        [InlineData("tokens", "width", "position", "run_image")]       // generated members of a transformer
        [InlineData("embed\nx", "blocks\u2028", "norm\r", "head\n// */")]
        public void AnyTransformerNameGivesCodeThatCompiles(string embedding, string blocks, string norm, string head)
        {
            var model = RandomTransformer.Create(new Random(61), names: (embedding, blocks, norm, head));
            // Scales inline: a quantization-parameter file cannot name an activation with a line break in it.
            var run = GeneratorHarness.Run(model.Source(inlineScales: true), (VitWeights, model.Weights));
            AssertCompiles(run);
            var inputs = Enumerable.Range(0, 3 * model.Shape.InputSize).Select(i => (sbyte)((i * 37) % 256 - 128)).ToArray();
            var expected = new sbyte[3 * model.Shape.OutputSize];
            model.Reference.Run(inputs, expected);
            Assert.Equal(expected, RunRows(run, "DiffTest.Vit", inputs, model.Shape.InputSize, model.Shape.OutputSize));
        }

        // ---- GEN016 --------------------------------------------------------------------------------------------

        [Theory]
        [InlineData("public const int InputSize = 4;", "InputSize", "a member Gen generates in every model")]
        [InlineData("public static void Run() { }", "Run", "a member Gen generates in every model")]
        [InlineData("private static int RunRows;", "RunRows", "a member Gen generates in every model")]
        [InlineData("public static int ArgMax { get; set; }", "ArgMax", "a member Gen generates in every model")]
        [InlineData("public static event System.Action QuantizeInput;", "QuantizeInput", "a member Gen generates in every model")]
        [InlineData("public enum KernelPath { Fast }", "KernelPath", "a member Gen generates in every model")]
        [InlineData("public static int Widen4;", "Widen4", "a name of the form Gen uses for its input conversions (Widen and a size)")]
        [InlineData("public static int Math;", "Math", "which would hide System.Math from the generated code")]
        [InlineData("public class Unsafe { }", "Unsafe", "which would hide System.Runtime.CompilerServices.Unsafe from the generated code")]
        [InlineData("public static void get_ActivePath() { }", "get_ActivePath", "the name of an accessor of the property 'ActivePath' that Gen generates")]
        [InlineData("public static int nameof;", "nameof", "which would hide the nameof operator from the generated code")]
        [InlineData("public sealed class nuint { }", "nuint", "which would hide the native integer type nuint from the generated code")]
        public void Gen016_MemberNameConflict(string member, string name, string reason)
        {
            var run = Run(Declaration("public static partial class Net\n{\n    " + member + "\n}"), ValidTensors().ToBytes());
            var d = Expect(run, "GEN016", name, $"The model class 'Net' declares '{name}', {reason}; rename it (Gen's names are listed in docs/diagnostics.md, GEN016)");
            Assert.Equal(name, SpanText(run, d)); // the member's identifier
        }

        [Fact]
        public void Gen016_TransformerMemberConflictsOnlyInATransformer()
        {
            var source = Vit.Value.Source().Replace("public static partial class Vit { }", "public static partial class Vit { public static int Tokens; }", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN016", "Tokens", "The model class 'Vit' declares 'Tokens', a member Gen generates in a transformer model; rename it");
            // An MLP has no Tokens member: the same name is fine there.
            var run = Run(Declaration("public static partial class Net { public static int Tokens; }"), ValidTensors().ToBytes());
            AssertCompiles(run);
        }

        [Theory]
        [InlineData("Run", "The model class is named 'Run', a member Gen generates in every model; a member cannot have the name of its class, so rename the class")]
        [InlineData("Math", "The model class is named 'Math', which would hide System.Math from the generated code;")]
        [InlineData("@nameof", "The model class is named 'nameof', which would hide the nameof operator from the generated code;")]
        public void Gen016_ClassNamedLikeAGeneratedName(string className, string message)
        {
            var run = Run(Declaration($"public static partial class {className} {{ }}"), ValidTensors().ToBytes());
            var d = Expect(run, "GEN016", className, message);
            Assert.Equal(className, SpanText(run, d));
        }

        [Theory]
        [InlineData("namespace DiagTest { public static class Unsafe { } }", "The type 'DiagTest.Unsafe' in the namespace 'DiagTest' would hide System.Runtime.CompilerServices.Unsafe from the code generated for 'Net'; rename it, or declare the model in another namespace")]
        [InlineData("namespace DiagTest.Math { public class Helper { } }", "The namespace 'DiagTest.Math' in the namespace 'DiagTest' would hide System.Math from the code generated for 'Net'")]
        [InlineData("public class Vector128 { }", "The type 'Vector128' in the global namespace would hide System.Runtime.Intrinsics.Vector128 from the code generated for 'Net'")]
        public void Gen016_TypeOfAnEnclosingNamespaceHidesOneTheGeneratedCodeUses(string other, string message)
        {
            var source = Declaration("public static partial class Net { }", ns: "namespace DiagTest\n{\n") + "}\n" + other + "\n";
            Expect(Run(source, ValidTensors().ToBytes()), "GEN016", "QuantizedModel(\"model.safetensors\")", message);
        }

        // ---- every name of the generated code ------------------------------------------------------------------

        /// <summary>
        /// The strongest form of the rule: every identifier that occurs in the generated class (members, kernels, data,
        /// locals, the types it uses) is declared by the user's class, all at once. Those that would clash must each get
        /// GEN016 at the declaring member; declared as fields, then as nested classes, the others must leave the
        /// compilation without error and the model computing the same outputs.
        /// </summary>
        [Fact]
        public void EveryGeneratedNameEitherConflictsOrIsAvoided_Mlp()
        {
            EveryGeneratedName(ValidSource, "Net", body => Run(ValidSource.Replace("class Net { }", "class Net\n{\n" + body + "}", StringComparison.Ordinal), ValidTensors().ToBytes()),
                run => Assert.Equal(NetOutputs.Value, RunRows(run, "DiagTest.Net", NetInputs, 4, 2)));
        }

        [Fact]
        public void EveryGeneratedNameEitherConflictsOrIsAvoided_SaturatingRoutesAndCompactWeights()
        {
            // Small INT8 weights (the Pair and Quad routes), and a first layer of 72,000 weights (written as ulong literals).
            var model = RandomModel.Create(new Random(5), new[] { 300, 240, 20 }, preQuantized: true, maxWeight: 3);
            var inputs = Enumerable.Range(0, 2 * 300).Select(i => (sbyte)((i * 53) % 256 - 128)).ToArray();
            var expected = new sbyte[2 * 20];
            model.Reference.Run(inputs, expected);
            EveryGeneratedName(model.Source, "Model",
                body => GeneratorHarness.Run(model.Source.Replace("class Model { }", "class Model\n{\n" + body + "}", StringComparison.Ordinal), ("/project/weights/model.safetensors", model.Weights)),
                run => Assert.Equal(expected, RunRows(run, "DiffTest.Model", inputs, 300, 20)));
        }

        [Fact]
        public void EveryGeneratedNameEitherConflictsOrIsAvoided_Transformer()
        {
            // 16 tokens of head size 16: the attention with its transpose kernel.
            var model = RandomTransformer.Create(new Random(17), image: 16, patch: 4, width: 32, heads: 2, feedForward: 40);
            var inputs = Enumerable.Range(0, 2 * model.Shape.InputSize).Select(i => (sbyte)((i * 37) % 256 - 128)).ToArray();
            var expected = new sbyte[2 * model.Shape.OutputSize];
            model.Reference.Run(inputs, expected);
            string source = model.Source();
            EveryGeneratedName(source, "Vit",
                body => GeneratorHarness.Run(source.Replace("class Vit { }", "class Vit\n{\n" + body + "}", StringComparison.Ordinal),
                    new[] { (VitCalibration, model.CalibrationText) }, (VitWeights, model.Weights)),
                run => Assert.Equal(expected, RunRows(run, "DiffTest.Vit", inputs, model.Shape.InputSize, model.Shape.OutputSize)));
        }

        private static void EveryGeneratedName(string source, string className, Func<string, GeneratorRun> runWith, Action<GeneratorRun> check)
        {
            var plain = runWith("");
            AssertCompiles(plain);
            Assert.Contains("class " + className + "\n{\n}", plain.Output.SyntaxTrees.First().ToString(), StringComparison.Ordinal);
            var generated = plain.Driver.GetRunResult().GeneratedTrees;
            var names = generated
                .SelectMany(t => t.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>().Where(c => c.Identifier.ValueText == className))
                .SelectMany(c => c.DescendantTokens().Where(t => t.IsKind(SyntaxKind.IdentifierToken)).Select(t => t.ValueText))
                .Where(n => n != className)
                .Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.Contains("Run", names);
            Assert.Contains("Math", names);

            // All of them at once: every conflict is reported at its member, and nothing is generated.
            var all = runWith(string.Concat(names.Select(n => $"    public static int @{n};\n")));
            AssertNoException(all);
            Assert.Empty(all.Driver.GetRunResult().GeneratedTrees);
            var errors = all.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.All(errors, d => Assert.Equal("GEN016", d.Id));
            var conflicting = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in errors)
            {
                string name = SpanText(all, d).TrimStart('@');
                Assert.Contains(name, names);
                Assert.Contains($"declares '{name}'", Message(d), StringComparison.Ordinal);
                Assert.True(conflicting.Add(name), $"'{name}' reported twice");
            }

            foreach (string fixedName in new[] { "Run", "RunRows", "InputSize", "KernelPath", "ActivePath", "Math", "Unsafe", "Span" })
            {
                Assert.Contains(fixedName, conflicting);
            }

            // The others, as fields and then as nested types: the generator must name its members around them.
            var others = names.Where(n => !conflicting.Contains(n)).ToList();
            Assert.NotEmpty(others);
            var fields = runWith(string.Concat(others.Select(n => $"    public static int @{n};\n")));
            AssertCompiles(fields);
            check(fields);
            var types = runWith(string.Concat(others.Select(n => $"    public sealed class @{n} {{ }}\n")));
            AssertCompiles(types);
        }
    }
}
