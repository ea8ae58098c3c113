extern alias generator;
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Every diagnostic Gen reports, triggered by a malformed model: its ID, severity, location (inside the offending
    /// attribute or class) and the key part of its message. The generator must never throw, whatever it is given.
    /// </summary>
    public partial class DiagnosticTests
    {
        /// <summary>The IDs this file has tests for. A new descriptor without a test here fails <see cref="EveryDescriptorHasATest"/>.</summary>
        private static readonly string[] Covered =
        {
            "GEN001", "GEN002", "GEN003", "GEN004", "GEN005", "GEN006", "GEN007", "GEN008", "GEN009", "GEN010", "GEN011", "GEN012", "GEN013", "GEN014", "GEN015", "GEN016", "GEN017", "GEN100",
        };

        private const string WeightsPath = "/project/model.safetensors";

        private const string ValidSource =
            "using Gen;\n" +
            "namespace DiagTest;\n" +
            "[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
            "[Dense(\"fc1\", 3, Activation = Activation.Relu, OutputScale = 0.05f, OutputZeroPoint = -128)]\n" +
            "[Dense(\"fc2\", 2, OutputScale = 0.1f, OutputZeroPoint = 5)]\n" +
            "public static partial class Net { }\n";

        // ---- helpers -------------------------------------------------------------------------------------------

        /// <summary>Deterministic small weights in [-0.5, 0.5].</summary>
        private static float[] Values(int count, int seed = 0) =>
            Enumerable.Range(0, count).Select(i => (((i + seed) * 7) % 11 - 5) * 0.1f).ToArray();

        private static SafeTensorsWriter ValidTensors(bool withFc2 = true)
        {
            var writer = new SafeTensorsWriter()
                .F32("fc1.weight", Values(12), 3, 4)
                .F32("fc1.bias", Values(3, 1), 3);
            if (withFc2)
            {
                writer.F32("fc2.weight", Values(6, 2), 2, 3).F32("fc2.bias", Values(2, 3), 2);
            }

            return writer;
        }

        private static GeneratorRun Run(string source, byte[] weights) => GeneratorHarness.Run(source, (WeightsPath, weights));

        private static GeneratorRun RunWithText(string source, string path, string text) =>
            GeneratorHarness.Run(GeneratorHarness.Compilation(source), GeneratorHarness.Driver(new[] { new InMemoryText(path, text) }));

        private static GeneratorRun RunWithoutFiles(string source) =>
            GeneratorHarness.Run(GeneratorHarness.Compilation(source), GeneratorHarness.Driver(Array.Empty<AdditionalText>()));

        private static void AssertNoException(GeneratorRun run)
        {
            var result = run.Driver.GetRunResult();
            Assert.Single(result.Results);
            Assert.Null(result.Results[0].Exception);
            // An exception would also surface as CS8784/CS8785; an internal error as GEN099.
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785" or "GEN099");
        }

        /// <summary>
        /// Asserts that the run reports <paramref name="id"/> as an error whose message contains
        /// <paramref name="message"/> at a location whose source text contains <paramref name="at"/>, and that nothing
        /// was generated.
        /// </summary>
        private static Diagnostic Expect(GeneratorRun run, string id, string at, string message)
        {
            AssertNoException(run);
            var all = string.Join("\n", run.GeneratorDiagnostics.Select(d => d.ToString()));
            var matching = run.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
            Assert.True(matching.Count > 0, $"{id} not reported; got:\n{all}");
            var diagnostic = matching.FirstOrDefault(d => d.GetMessage(CultureInfo.InvariantCulture).Contains(message, StringComparison.Ordinal));
            Assert.True(diagnostic != null, $"no {id} message contains \"{message}\"; got:\n{all}");
            Assert.Equal(DiagnosticSeverity.Error, diagnostic!.Severity);
            Assert.Equal(DiagnosticSeverity.Error, diagnostic.Descriptor.DefaultSeverity);
            AssertLocation(run, diagnostic, at);
            Assert.Empty(run.Driver.GetRunResult().GeneratedTrees);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "GEN100");
            return diagnostic;
        }

        private static void AssertLocation(GeneratorRun run, Diagnostic diagnostic, string at)
        {
            var location = diagnostic.Location;
            Assert.NotEqual(Location.None, location);
            var lineSpan = location.GetLineSpan();
            var tree = run.Output.SyntaxTrees.SingleOrDefault(t => t.FilePath == lineSpan.Path);
            Assert.True(tree != null, $"{diagnostic.Id} points at '{lineSpan.Path}', which is not a source file of the compilation");
            var text = tree!.GetText();
            Assert.True(location.SourceSpan.End <= text.Length, $"{diagnostic.Id}: span {location.SourceSpan} is beyond the file");
            string spanText = text.ToString(location.SourceSpan);
            Assert.True(spanText.Contains(at, StringComparison.Ordinal),
                $"{diagnostic.Id} should point inside the text containing \"{at}\" but points at \"{spanText}\"");
            // The line/column form must describe the same span.
            Assert.Equal(text.Lines.GetLinePositionSpan(location.SourceSpan), lineSpan.Span);
        }

        private static string SpanText(GeneratorRun run, Diagnostic d) =>
            run.Output.SyntaxTrees.Single(t => t.FilePath == d.Location.GetLineSpan().Path).GetText().ToString(d.Location.SourceSpan);

        private static string Message(Diagnostic d) => d.GetMessage(CultureInfo.InvariantCulture);

        // ---- GEN001 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen001_ClassNotPartial()
        {
            var source = ValidSource.Replace("public static partial class Net", "public static class Net", StringComparison.Ordinal);
            var run = Run(source, ValidTensors().ToBytes());
            var d = Expect(run, "GEN001", "Net", "The model class 'Net' must be declared 'partial'");
            Assert.Equal("Net", SpanText(run, d)); // the class identifier itself
        }

        // ---- GEN002 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen002_NoWeightsFileAtAll()
        {
            var d = Expect(RunWithoutFiles(ValidSource), "GEN002", "QuantizedModel(\"model.safetensors\")",
                "The weights file 'model.safetensors' was not found");
            Assert.DoesNotContain("found:", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen002_OnlyAWeightsFileWithAnotherName()
        {
            var run = GeneratorHarness.Run(ValidSource, ("/project/other.safetensors", ValidTensors().ToBytes()));
            var d = Expect(run, "GEN002", "QuantizedModel", "The weights file 'model.safetensors' was not found");
            Assert.Contains("(found: other.safetensors)", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen002_NameIsASuffixButNotOnAPathBoundary()
        {
            // "mymodel.safetensors" ends with "model.safetensors" but is another file.
            var run = GeneratorHarness.Run(ValidSource, ("/project/mymodel.safetensors", ValidTensors().ToBytes()));
            Expect(run, "GEN002", "QuantizedModel", "'model.safetensors' was not found");
        }

        // ---- GEN003 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen003_TruncatedBeforeTheHeaderLength()
        {
            var bytes = ValidTensors().ToBytes().Take(5).ToArray();
            var d = Expect(Run(ValidSource, bytes), "GEN003", "QuantizedModel", "The weights file 'model.safetensors' cannot be read");
            Assert.Contains("5 bytes long", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_TruncatedInTheData()
        {
            var full = ValidTensors().ToBytes();
            var d = Expect(Run(ValidSource, full.Take(full.Length - 10).ToArray()), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("truncated", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_HeaderLengthLargerThanTheFile()
        {
            var bytes = ValidTensors().ToBytes();
            BitConverter.GetBytes((ulong)bytes.Length * 10).CopyTo(bytes, 0);
            var d = Expect(Run(ValidSource, bytes), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("The header claims", Message(d), StringComparison.Ordinal);

            BitConverter.GetBytes(ulong.MaxValue).CopyTo(bytes, 0);
            d = Expect(Run(ValidSource, bytes), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("The header claims", Message(d), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("{\"fc1.weight\": {\"dtype\": \"F32\", \"shape\": [3, 4]")]
        [InlineData("not json at all")]
        [InlineData("[1, 2, 3]")]
        [InlineData("{\"fc1.weight\": 5}")]
        [InlineData("{\"fc1.weight\": {\"dtype\": \"F32\", \"shape\": [3, 4], \"data_offsets\": [0, 1e30]}}")]
        [InlineData("{\"a\": \"\\u12\"}")]
        public void Gen003_MalformedJsonHeader(string header)
        {
            var json = Encoding.UTF8.GetBytes(header);
            var bytes = BitConverter.GetBytes((ulong)json.Length).Concat(json).Concat(new byte[16]).ToArray();
            Expect(Run(ValidSource, bytes), "GEN003", "QuantizedModel", "The weights file 'model.safetensors' cannot be read: ");
        }

        [Fact]
        public void Gen003_TextThatIsNotAWeightsFile()
        {
            var run = RunWithText(ValidSource, WeightsPath + ".genweights", "hello\nworld\n");
            var d = Expect(run, "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("is not a weights file written by Gen's build step", Message(d), StringComparison.Ordinal);

            run = RunWithText(ValidSource, WeightsPath + ".genweights", "");
            Expect(run, "GEN003", "QuantizedModel", "is not a weights file written by Gen's build step");
        }

        [Fact]
        public void Gen003_BadBase64()
        {
            var run = RunWithText(ValidSource, "/obj/model.safetensors.genweights", "gen-weights 2\nsource: " + WeightsPath + "\nsize: 6\nmodified: 0\n@@@@not!\n");
            var d = Expect(run, "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("corrupt", Message(d), StringComparison.Ordinal);
        }

        // ---- GEN004 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen004_SecondLayerWeightMissing()
        {
            var d = Expect(Run(ValidSource, ValidTensors(withFc2: false).ToBytes()), "GEN004", "Dense(\"fc2\"",
                "Layer 'fc2' needs tensor 'fc2.weight'");
            Assert.Contains("it has: fc1.bias, fc1.weight", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen004_PreQuantizedWeightsWithoutScale()
        {
            var source = ValidSource.Replace("[Dense(\"fc2\", 2, OutputScale = 0.1f, OutputZeroPoint = 5)]\n", "", StringComparison.Ordinal);
            var bytes = new SafeTensorsWriter().I8("fc1.weight", Enumerable.Range(0, 12).Select(i => (sbyte)(i * 10 - 60)).ToArray(), 3, 4).ToBytes();
            Expect(Run(source, bytes), "GEN004", "Dense(\"fc1\"", "Layer 'fc1' needs tensor 'fc1.weight_scale'");
        }

        // ---- GEN005 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen005_WeightTransposed()
        {
            var bytes = new SafeTensorsWriter().F32("fc1.weight", Values(12), 4, 3).F32("fc2.weight", Values(6), 2, 3).ToBytes();
            var run = Run(ValidSource, bytes);
            Expect(run, "GEN005", "Dense(\"fc1\"", "Tensor 'fc1.weight' has shape [4, 3] but the model declares [3, 4]");
            // Planning stops at the first broken layer: no follow-up error about fc2.
            Assert.Single(run.GeneratorDiagnostics);
        }

        [Fact]
        public void Gen005_SecondLayerWeightDoesNotChainFromTheFirst()
        {
            // fc2 must take fc1's 3 outputs as its inputs.
            var bytes = new SafeTensorsWriter().F32("fc1.weight", Values(12), 3, 4).F32("fc2.weight", Values(8), 2, 4).ToBytes();
            Expect(Run(ValidSource, bytes), "GEN005", "Dense(\"fc2\"", "Tensor 'fc2.weight' has shape [2, 4] but the model declares [2, 3]");
        }

        [Fact]
        public void Gen005_BiasWrongLength()
        {
            var bytes = new SafeTensorsWriter()
                .F32("fc1.weight", Values(12), 3, 4).F32("fc1.bias", Values(4), 4)
                .F32("fc2.weight", Values(6), 2, 3).ToBytes();
            Expect(Run(ValidSource, bytes), "GEN005", "Dense(\"fc1\"", "Tensor 'fc1.bias' has shape [4] but the model declares [3]");
        }

        // ---- GEN006 --------------------------------------------------------------------------------------------

        [Theory]
        [InlineData("", "not set; set it in the attribute, or put its line in model.calibration.txt beside the weights")]
        [InlineData("Scale = -0.5f, ", "-0.5")]
        [InlineData("Scale = float.NaN, ", "NaN")]
        [InlineData("Scale = float.PositiveInfinity, ", "Infinity")]
        public void Gen006_InputScale(string scale, string shown)
        {
            var source = ValidSource.Replace("Scale = 0.02f, ", scale, StringComparison.Ordinal);
            var d = Expect(Run(source, ValidTensors().ToBytes()), "GEN006", "ModelInput", "The input Scale must be a positive, finite number; it is ");
            Assert.EndsWith(shown, Message(d), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("", "not set; set it in the attribute, or put its line in model.calibration.txt beside the weights")]
        [InlineData("OutputScale = -2f, ", "-2")]
        [InlineData("OutputScale = float.NaN, ", "NaN")]
        [InlineData("OutputScale = float.PositiveInfinity, ", "Infinity")]
        public void Gen006_LayerOutputScale(string scale, string shown)
        {
            var source = ValidSource.Replace("OutputScale = 0.1f, ", scale, StringComparison.Ordinal);
            var d = Expect(Run(source, ValidTensors().ToBytes()), "GEN006", "Dense(\"fc2\"", "Layer 'fc2' OutputScale must be a positive, finite number; it is ");
            Assert.EndsWith(shown, Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen006_PreQuantizedWeightScaleNotPositive()
        {
            var source = ValidSource.Replace("[Dense(\"fc2\", 2, OutputScale = 0.1f, OutputZeroPoint = 5)]\n", "", StringComparison.Ordinal);
            var bytes = new SafeTensorsWriter()
                .I8("fc1.weight", Enumerable.Range(0, 12).Select(i => (sbyte)(i * 10 - 60)).ToArray(), 3, 4)
                .F32("fc1.weight_scale", new[] { 0.01f, 0f, 0.01f }, 3).ToBytes();
            Expect(Run(source, bytes), "GEN006", "Dense(\"fc1\"", "Every value of 'fc1.weight_scale' must be a positive, finite number; it is 0");
        }

        // ---- GEN007 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen007_InputZeroPointTooLarge()
        {
            var source = ValidSource.Replace("ZeroPoint = -3", "ZeroPoint = 200", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN007", "ModelInput",
                "The input ZeroPoint is 200; an INT8 zero point must be in [-128, 127]");
        }

        [Fact]
        public void Gen007_OutputZeroPointTooSmall()
        {
            var source = ValidSource.Replace("OutputZeroPoint = 5", "OutputZeroPoint = -129", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN007", "Dense(\"fc2\"",
                "Layer 'fc2' OutputZeroPoint is -129; an INT8 zero point must be in [-128, 127]");
        }

        // ---- GEN008 --------------------------------------------------------------------------------------------

        private const string OneLayerSource =
            "using Gen;\n" +
            "namespace DiagTest;\n" +
            "[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 1f, ZeroPoint = 0)]\n" +
            "[Dense(\"fc1\", 3, OutputScale = SCALE, OutputZeroPoint = 0)]\n" +
            "public static partial class Net { }\n";

        [Fact]
        public void Gen008_MultiplierOneOrMore()
        {
            // Weights in [-0.5, 0.5]: S_w = 0.5 / 127; S_in * S_w / S_out = 0.0039 / 0.001 ≈ 3.9.
            var source = OneLayerSource.Replace("SCALE", "0.001f", StringComparison.Ordinal);
            var d = Expect(Run(source, new SafeTensorsWriter().F32("fc1.weight", Values(12), 3, 4).ToBytes()), "GEN008", "Dense(\"fc1\"",
                "Layer 'fc1' channel 0: the requantization multiplier S_in * S_w / S_out = ");
            Assert.Contains("is 1 or more", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen008_MultiplierBelowTwoToTheMinus32()
        {
            // S_in * S_w / S_out = 0.0039 / 1e8 ≈ 3.9e-11 < 2^-32 ≈ 2.3e-10.
            var source = OneLayerSource.Replace("SCALE", "1e8f", StringComparison.Ordinal);
            var d = Expect(Run(source, new SafeTensorsWriter().F32("fc1.weight", Values(12), 3, 4).ToBytes()), "GEN008", "Dense(\"fc1\"",
                "the requantization multiplier S_in * S_w / S_out = ");
            Assert.Contains("is below 2^-32", Message(d), StringComparison.Ordinal);
        }

        public delegate void RunRow(ReadOnlySpan<sbyte> input, Span<sbyte> output);

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void NoGen008ForAnAllZeroChannel(bool perChannel)
        {
            // A pruned neuron: channel 1 is all zeros. Its weights need no scale, so its multiplier must not be judged
            // with a placeholder scale (1 gave S_in / S_out = 4 here, and the model was rejected with GEN008).
            const float inScale = 0.2f, outScale = 0.05f;
            var source = OneLayerSource
                .Replace("Scale = 1f", "Scale = 0.2f", StringComparison.Ordinal)
                .Replace("SCALE", "0.05f", StringComparison.Ordinal)
                .Replace("OutputZeroPoint = 0)", "OutputZeroPoint = 0, Weights = WeightQuantization." + (perChannel ? "PerChannel" : "PerTensor") + ")", StringComparison.Ordinal);
            var w = Values(12);
            if (perChannel) Array.Clear(w, 4, 4); else Array.Clear(w);
            var b = new[] { 0.3f, 1.234f, -0.8f };
            var run = Run(source, new SafeTensorsWriter().F32("fc1.weight", w, 3, 4).F32("fc1.bias", b, 3).ToBytes());
            AssertNoException(run);
            Assert.Empty(run.Errors);

            var input = new Gen.Runtime.QuantizationParameters(inScale, 0);
            var output = new Gen.Runtime.QuantizationParameters(outScale, 0);
            var reference = new Gen.Runtime.Interpreter.ReferenceInterpreter(4, input, new[]
            {
                Gen.Runtime.QuantizedDense.FromFloat("fc1", 4, 3, input, output, Gen.Runtime.FusedActivation.None, w, b, perChannel),
            });
            var model = run.Load().GetType("DiagTest.Net")!.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<RunRow>();
            foreach (var x in new[] { new sbyte[] { 0, 0, 0, 0 }, new sbyte[] { 127, -128, 5, 9 }, new sbyte[] { -7, 100, -100, 1 } })
            {
                var expected = new sbyte[3];
                var actual = new sbyte[3];
                reference.Run(x, expected);
                model(x, actual);
                Assert.Equal(expected, actual);
                // The zero channel outputs its bias: 1.234 / 0.05 = 24.68, so 25.
                Assert.Equal(25, actual[1]);
            }
        }

        // ---- GEN009 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen009_AccumulatorCanOverflow()
        {
            const int k = 70000;
            var source =
                "using Gen;\nnamespace DiagTest;\n[QuantizedModel(\"model.safetensors\")]\n" +
                $"[ModelInput({k}, Scale = 1f, ZeroPoint = 0)]\n" +
                "[Dense(\"big\", 1, OutputScale = 1f)]\n" +
                "public static partial class Net { }\n";
            var weights = Enumerable.Repeat(1.0f, k).ToArray(); // all 127 once quantized: 256 * 127 * 70000 > 2^31
            var d = Expect(Run(source, new SafeTensorsWriter().F32("big.weight", weights, 1, k).ToBytes()), "GEN009", "Dense(\"big\"",
                "Layer 'big' channel 0: an INT32 accumulator can reach ");
            Assert.Contains("beyond 2^31 - 1: the products of the K = 70000 inputs alone can reach 2275840000 (256 x sum |w|; the bias adds 0): split the layer or reduce its weights",
                Message(d), StringComparison.Ordinal);
            Assert.Contains((256L * 127 * k).ToString(CultureInfo.InvariantCulture), Message(d), StringComparison.Ordinal);
        }

        // ---- GEN010 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen010_UnknownActivation()
        {
            var source = ValidSource.Replace("Activation = Activation.Relu", "Activation = (Activation)7", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN010", "Dense(\"fc1\"", "Layer 'fc1': activation 7 is not supported");
        }

        [Fact]
        public void Gen010_UnknownWeightQuantization()
        {
            var source = ValidSource.Replace("OutputZeroPoint = 5)", "OutputZeroPoint = 5, Weights = (WeightQuantization)5)", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN010", "Dense(\"fc2\"", "Layer 'fc2': weight quantization 5 is not supported");
        }

        [Fact]
        public void Gen010_NestedModelClass()
        {
            var source =
                "using Gen;\nnamespace DiagTest;\npublic static partial class Outer\n{\n" +
                "    [QuantizedModel(\"model.safetensors\")]\n" +
                "    [ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
                "    [Dense(\"fc1\", 3, OutputScale = 0.05f)]\n" +
                "    public static partial class Inner { }\n}\n";
            Expect(Run(source, ValidTensors().ToBytes()), "GEN010", "QuantizedModel",
                "The model class 'Inner' must be a non-generic top-level class");
        }

        [Fact]
        public void Gen010_HalfPrecisionWeights()
        {
            var bytes = new SafeTensorsWriter().Raw("fc1.weight", "F16", new byte[24], 3, 4).ToBytes();
            Expect(Run(ValidSource, bytes), "GEN010", "Dense(\"fc1\"", "Layer 'fc1': 'fc1.weight' is F16");
        }

        [Fact]
        public void Gen010_PreQuantizedWeightsHoldingMinus128()
        {
            var source = ValidSource.Replace("[Dense(\"fc2\", 2, OutputScale = 0.1f, OutputZeroPoint = 5)]\n", "", StringComparison.Ordinal);
            var weights = Enumerable.Range(0, 12).Select(i => (sbyte)(i * 10 - 60)).ToArray();
            weights[5] = sbyte.MinValue;
            var bytes = new SafeTensorsWriter().I8("fc1.weight", weights, 3, 4).F32("fc1.weight_scale", new[] { 0.01f }, 1).ToBytes();
            Expect(Run(source, bytes), "GEN010", "Dense(\"fc1\"", "'fc1.weight' holds -128");
        }

        // ---- GEN011 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen011_NoInput()
        {
            var source = ValidSource.Replace("[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n", "", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "QuantizedModel", "The model 'Net' declares no input");
        }

        [Fact]
        public void Gen011_NoLayers()
        {
            var source = string.Join("\n", ValidSource.Split('\n').Where(l => !l.StartsWith("[Dense", StringComparison.Ordinal)));
            Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "QuantizedModel", "The model 'Net' declares no layers");
        }

        [Fact]
        public void Gen011_DuplicateLayerName()
        {
            var source = ValidSource.Replace("[Dense(\"fc2\", 2,", "[Dense(\"fc1\", 2,", StringComparison.Ordinal);
            var run = Run(source, ValidTensors().ToBytes());
            Expect(run, "GEN011", "Dense(\"fc1\", 2", "Layer name 'fc1' is declared twice");
            Assert.Single(run.GeneratorDiagnostics, x => x.Id == "GEN011");
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-1)]
        public void Gen011_OutputsNotPositive(int outputs)
        {
            var source = ValidSource.Replace("[Dense(\"fc2\", 2,", $"[Dense(\"fc2\", {outputs},", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "Dense(\"fc2\"",
                $"Layer 'fc2' must have a positive number of outputs; it has {outputs}");
        }

        [Fact]
        public void Gen011_InputSizeNotPositive()
        {
            var source = ValidSource.Replace("[ModelInput(4,", "[ModelInput(0,", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "ModelInput", "The input size must be positive; it is 0");
        }

        [Theory]
        [InlineData(float.NaN, "NaN")]
        [InlineData(float.PositiveInfinity, "Infinity")]
        public void Gen011_NonFiniteFloatWeights(float bad, string shown)
        {
            var w = Values(12);
            w[7] = bad;
            var bytes = new SafeTensorsWriter().F32("fc1.weight", w, 3, 4).F32("fc2.weight", Values(6), 2, 3).ToBytes();
            var d = Expect(Run(ValidSource, bytes), "GEN011", "Dense(\"fc1\"", "Layer 'fc1': 'fc1.weight' element 7 is ");
            Assert.Contains(shown + "; weights must be finite", Message(d), StringComparison.Ordinal);
        }

        // ---- GEN100 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen100_SummaryForAValidModel()
        {
            var run = Run(ValidSource, ValidTensors().ToBytes());
            AssertNoException(run);
            Assert.Empty(run.Errors);
            var d = Assert.Single(run.GeneratorDiagnostics);
            Assert.Equal("GEN100", d.Id);
            Assert.Equal(DiagnosticSeverity.Info, d.Severity);
            Assert.Equal(DiagnosticSeverity.Info, d.Descriptor.DefaultSeverity);
            Assert.StartsWith("Model 'Net': 2 layers, 18 INT8 weights", Message(d), StringComparison.Ordinal);
            Assert.Equal(2, run.Driver.GetRunResult().GeneratedTrees.Length);
        }

        // ---- coverage ------------------------------------------------------------------------------------------

        [Fact]
        public void EveryDescriptorHasATest()
        {
            // DiagnosticDescriptors is internal to the generator: reach its table by reflection.
            var table = typeof(ModelGenerator).Assembly.GetType("Gen.Generators.Diagnostics.DiagnosticDescriptors", throwOnError: true)!;
            var all = (DiagnosticDescriptor[])table.GetField("All", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
            var ids = all.Select(d => d.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());

            // Every public descriptor field is in All, so a descriptor cannot escape the table either.
            var fields = table.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
                .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id);
            Assert.Equal(fields.OrderBy(x => x, StringComparer.Ordinal), ids.OrderBy(x => x, StringComparer.Ordinal));

            // GEN099 (internal error) cannot be triggered by design.
            var expected = ids.Where(id => id != "GEN099").OrderBy(x => x, StringComparer.Ordinal);
            Assert.Equal(expected, Covered.OrderBy(x => x, StringComparer.Ordinal));
        }
    }
}
