using System;
using System.Linq;
using System.Reflection;
using Gen.Runtime;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Scales and zero points left out of the attributes come from a quantization-parameter file
    /// (<c>name scale zero_point [min max]</c>), so a calibrated model needs no hand-typed scale.
    /// </summary>
    public class CalibrationFileTests
    {
        private const string WeightsPath = "/project/Data/model.safetensors";

        private static readonly float[] W1 = Enumerable.Range(0, 24).Select(i => ((i * 7) % 13 - 6) * 0.05f).ToArray();
        private static readonly float[] B1 = { 0.1f, -0.2f, 0.05f, 0.3f };
        private static readonly float[] W2 = Enumerable.Range(0, 12).Select(i => ((i * 5) % 9 - 4) * 0.1f).ToArray();

        private static byte[] Weights() => new SafeTensorsWriter()
            .F32("fc1.weight", W1, 4, 6).F32("fc1.bias", B1, 4).F32("fc2.weight", W2, 3, 4).ToBytes();

        private const string Bare =
            "using Gen;\nnamespace CalTest;\n[QuantizedModel(\"model.safetensors\"CALIBRATION)]\n[ModelInput(6)]\n" +
            "[Dense(\"fc1\", 4, Activation = Activation.Relu)]\n[Dense(\"fc2\", 3FC2)]\npublic static partial class Net { }\n";

        private const string File = "# written by a calibration run\ninput 0.02 -3 -2.5 2.6\n\nfc1 0.05 -128 0 12.7\nfc2 0.1 5 -13 12\n";

        private static string Source(string calibration = "", string fc2 = "") =>
            Bare.Replace("CALIBRATION", calibration, StringComparison.Ordinal).Replace("FC2", fc2, StringComparison.Ordinal);

        private static void AssertRunsLikeInterpreter(GeneratorRun run, float fc2Scale = 0.1f, int fc2ZeroPoint = 5)
        {
            Assert.Empty(run.Errors);
            var input = new QuantizationParameters(0.02f, -3);
            var hidden = new QuantizationParameters(0.05f, -128);
            var output = new QuantizationParameters(fc2Scale, fc2ZeroPoint);
            var reference = new ReferenceInterpreter(6, input, new[]
            {
                QuantizedDense.FromFloat("fc1", 6, 4, input, hidden, FusedActivation.Relu, W1, B1, perChannel: true),
                QuantizedDense.FromFloat("fc2", 4, 3, hidden, output, FusedActivation.None, W2, null, perChannel: true),
            });
            var type = run.Load().GetType("CalTest.Net")!;
            var runRow = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!
                .CreateDelegate<DifferentialTests.RunRow>();
            Assert.Equal(0.02f, (float)type.GetField("InputScale")!.GetValue(null)!);
            Assert.Equal(fc2ZeroPoint, (int)type.GetField("OutputZeroPoint")!.GetValue(null)!);
            var rng = new Random(4);
            for (int trial = 0; trial < 50; trial++)
            {
                var x = new sbyte[6];
                rng.NextBytes((byte[])(object)x);
                var expected = new sbyte[3];
                var actual = new sbyte[3];
                reference.Run(x, expected);
                runRow(x, actual);
                Assert.Equal(expected, actual);
            }
        }

        /// <summary>The source text a diagnostic points at.</summary>
        private static string PointedText(GeneratorRun run, Diagnostic d)
        {
            var tree = run.Output.SyntaxTrees.Single(t => t.FilePath == d.Location.GetLineSpan().Path);
            return tree.GetText().ToString(d.Location.SourceSpan);
        }

        [Fact]
        public void TheFileBesideTheWeightsSuppliesEveryLeftOutValue()
        {
            var run = GeneratorHarness.Run(Source(), new[] { ("/project/Data/model.calibration.txt", File) }, (WeightsPath, Weights()));
            AssertRunsLikeInterpreter(run);
        }

        [Fact]
        public void AnExplicitFileIsFoundByItsPath()
        {
            var run = GeneratorHarness.Run(Source(", Calibration = \"calib/v2.calibration.txt\""),
                new[] { ("/project/calib/v2.calibration.txt", File), ("/project/Data/model.calibration.txt", "input 9 9\n") },
                (WeightsPath, Weights()));
            AssertRunsLikeInterpreter(run);
        }

        [Fact]
        public void ValuesWrittenInTheAttributesWin()
        {
            var run = GeneratorHarness.Run(Source(fc2: ", OutputScale = 0.2f, OutputZeroPoint = -7"),
                new[] { ("/project/Data/model.calibration.txt", File) }, (WeightsPath, Weights()));
            AssertRunsLikeInterpreter(run, 0.2f, -7);
        }

        [Fact]
        public void AFileInAnotherFolderIsNotTakenByDefault()
        {
            var run = GeneratorHarness.Run(Source(), new[] { ("/project/Other/model.calibration.txt", File) }, (WeightsPath, Weights()));
            var d = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "GEN006" && d.GetMessage().Contains("The input Scale", StringComparison.Ordinal));
            Assert.Contains("model.calibration.txt beside the weights", d.GetMessage(), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen006_ALineIsMissing()
        {
            var run = GeneratorHarness.Run(Source(), new[] { ("/project/Data/model.calibration.txt", "input 0.02 -3\nfc1 0.05 -128\n") },
                (WeightsPath, Weights()));
            var d = Assert.Single(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal("GEN006", d.Id);
            Assert.Contains("Layer 'fc2' OutputScale", d.GetMessage(), StringComparison.Ordinal);
            Assert.Contains("model.calibration.txt has no 'fc2' line", d.GetMessage(), StringComparison.Ordinal);
            Assert.Contains("Dense(\"fc2\"", PointedText(run, d), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("fc1 -0.05 -128", "GEN006", "Layer 'fc1' OutputScale (from model.calibration.txt) must be a positive, finite number; it is -0.05")]
        [InlineData("fc1 0.05 300", "GEN007", "Layer 'fc1' OutputZeroPoint (from model.calibration.txt) is 300")]
        public void ValuesFromTheFileAreChecked(string line, string id, string message)
        {
            string file = File.Replace("fc1 0.05 -128 0 12.7", line, StringComparison.Ordinal);
            var run = GeneratorHarness.Run(Source(), new[] { ("/project/Data/model.calibration.txt", file) }, (WeightsPath, Weights()));
            var d = Assert.Single(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal(id, d.Id);
            Assert.Contains(message, d.GetMessage(), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("input 0.02\n", "line 1 has 2 fields")]
        [InlineData("input abc -3\n", "line 1: 'abc' is not a number")]
        [InlineData("input 0.02 -3\ninput 0.02 -3\n", "line 2: 'input' is given twice")]
        [InlineData("input 0.02 1.5\n", "line 1: '1.5' is not an integer zero point")]
        public void Gen012_AMalformedFile(string text, string message)
        {
            var run = GeneratorHarness.Run(Source(), new[] { ("/project/Data/model.calibration.txt", text) }, (WeightsPath, Weights()));
            var d = Assert.Single(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal("GEN012", d.Id);
            Assert.Contains("'model.calibration.txt' cannot be used: " + message, d.GetMessage(), StringComparison.Ordinal);
            Assert.Contains("QuantizedModel", PointedText(run, d), StringComparison.Ordinal);
            Assert.Null(run.Driver.GetRunResult().Results[0].Exception);
        }

        [Fact]
        public void Gen012_AnExplicitFileIsMissing()
        {
            var run = GeneratorHarness.Run(Source(", Calibration = \"nope.calibration.txt\""),
                new[] { ("/project/Data/model.calibration.txt", File) }, (WeightsPath, Weights()));
            var d = Assert.Single(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal("GEN012", d.Id);
            Assert.Contains("'nope.calibration.txt' cannot be used: no such file", d.GetMessage(), StringComparison.Ordinal);
        }
    }
}
