using System;
using System.Linq;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Import;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// [BertEncoder] through the generator: a checkpoint (ONNX or Hugging Face safetensors) and a calibration file become
    /// a generated encoder equal to the reference interpreter, and every way the declaration can disagree with its
    /// weights is a diagnostic at the attribute.
    /// </summary>
    public sealed class BertDeclarationTests
    {
        private delegate void RunOne(ReadOnlySpan<int> tokenIds, Span<sbyte> output);

        private const string Onnx = "/project/weights/tiny.onnx";
        private const string SafeTensors = "/project/weights/tiny.safetensors";
        private const string Calibration = "/project/weights/tiny.calibration.txt";

        private static readonly TinyBert Tiny = new(layers: 2, width: 16, heads: 2, feedForward: 24, vocabulary: 30, positions: 12, pooler: false);

        private static string Source(string weights, string bert) => $@"using Gen;
namespace BertDecl
{{
    [QuantizedModel(""{weights}"", Calibration = ""{Calibration}"")]
    [{bert}]
    public static partial class Tiny {{ }}
}}";

        /// <summary>The float model of <see cref="Tiny"/> at <paramref name="tokens"/> tokens, calibrated on random sequences.</summary>
        private static (FloatModel Floats, ActivationCalibration Calibration) Calibrate(int tokens, BertPooling pooling, bool wideResidual = true)
        {
            var checkpoint = BertCheckpoint.FromOnnx(Tiny.Onnx()).Value!;
            var floats = FloatModel.Bert(checkpoint.ToSafeTensors(), checkpoint.Shape(tokens, pooling).Value! with { WideResidual = wideResidual });
            var rng = new Random(3);
            var ids = new int[16 * tokens];
            var lengths = new int[16];
            for (int s = 0; s < 16; s++)
            {
                lengths[s] = rng.Next(1, tokens + 1);
                for (int t = 0; t < lengths[s]; t++) ids[s * tokens + t] = rng.Next(Tiny.Vocabulary);
            }

            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(ids, lengths);
            return (floats, ActivationCalibration.Calibrate(statistics, new MaxCalibrator()));
        }

        [Theory]
        [InlineData(Onnx, "BertEncoder(10)")]
        [InlineData(SafeTensors, "BertEncoder(10, Heads = 2, Pooling = SentencePooling.Cls, Width = 16, Layers = 2)")]
        [InlineData(Onnx, "BertEncoder(10, WideResidual = false)")]
        public void DeclaredEncoderEqualsTheReferenceInterpreter(string weights, string bert)
        {
            var pooling = bert.Contains("Cls") ? BertPooling.Cls : BertPooling.Mean;
            bool wide = !bert.Contains("WideResidual = false");
            var (floats, calibration) = Calibrate(10, pooling, wide);
            // The INT8 residual stream has no wide values and none of their narrowings.
            Assert.Equal(wide, floats.Graph.Values.Any(v => v.IsWide));
            byte[] bytes = weights == Onnx ? Tiny.Onnx() : Tiny.SafeTensors("bert.");
            var run = GeneratorHarness.Run(Source(weights, bert), new[] { (Calibration, calibration.ToText()) }, (weights, bytes));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("BertDecl.Tiny")!;
            Assert.Equal(10, (int)type.GetField("MaxTokens")!.GetRawConstantValue()!);
            Assert.Contains("BERT, 2 post-LayerNorm layers, width 16, 2 heads", run.GeneratedSource("Tiny.g.cs"), StringComparison.Ordinal);
            Assert.Equal(wide, run.GeneratedSource("Tiny.g.cs").Contains("Narrow(ReadOnlySpan<sbyte> wide", StringComparison.Ordinal));
            var runOne = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<int>), typeof(Span<sbyte>) })!.CreateDelegate<RunOne>();
            var reference = new ReferenceInterpreter(calibration.Quantize(floats));
            var rng = new Random(11);
            for (int n = 1; n <= 10; n++)
            {
                var ids = Enumerable.Range(0, n).Select(_ => rng.Next(Tiny.Vocabulary)).ToArray();
                var padded = new int[10];
                ids.CopyTo(padded, 0);
                var expected = new sbyte[reference.OutputSize];
                reference.Run(padded, new[] { n }, expected);
                var actual = new sbyte[expected.Length];
                runOne(ids, actual);
                Assert.Equal(expected, actual);
            }
        }

        [Theory]
        [InlineData(Onnx, "BertEncoder(10, Width = 8)", "GEN011", "declares Width = 8 but the weights have 16")]
        [InlineData(Onnx, "BertEncoder(10, Layers = 3)", "GEN011", "declares Layers = 3 but the weights have 2")]
        [InlineData(Onnx, "BertEncoder(10, Heads = 4)", "GEN011", "declares Heads = 4 but the weights have 2")]
        [InlineData(Onnx, "BertEncoder(10, FeedForward = 32)", "GEN011", "declares FeedForward = 32 but the weights have 24")]
        [InlineData(Onnx, "BertEncoder(10, Vocabulary = 31)", "GEN011", "declares Vocabulary = 31 but the weights have 30")]
        [InlineData(Onnx, "BertEncoder(13)", "GEN011", "can read 1 to 12 tokens")]
        [InlineData(Onnx, "BertEncoder(0)", "GEN011", "needs a positive number of tokens")]
        [InlineData(Onnx, "BertEncoder(10, Layers = -1)", "GEN011", "Layers must be positive")]
        [InlineData(SafeTensors, "BertEncoder(10)", "GEN011", "num_attention_heads")]
        [InlineData(SafeTensors, "BertEncoder(10, Heads = 3)", "GEN011", "3 attention heads do not divide the width 16")]
        [InlineData(Onnx, "BertEncoder(10, Normalize = true)", "GEN010", "no L2 normalization yet")]
        public void EveryMismatchIsADiagnosticAtTheAttribute(string weights, string bert, string id, string message)
        {
            var (_, calibration) = Calibrate(10, BertPooling.Mean);
            byte[] bytes = weights == Onnx ? Tiny.Onnx() : Tiny.SafeTensors();
            string source = Source(weights, bert);
            var run = GeneratorHarness.Run(source, new[] { (Calibration, calibration.ToText()) }, (weights, bytes));
            var d = Assert.Single(run.GeneratorDiagnostics.Where(x => x.Id == id));
            Assert.Contains(message, d.GetMessage(), StringComparison.Ordinal);
            Assert.Equal(bert, source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        }

        [Fact]
        public void ACorruptCheckpointOrAMissingCalibrationLineIsReported()
        {
            var (_, calibration) = Calibrate(10, BertPooling.Mean);
            byte[] corrupt = Tiny.Onnx().Take(200).ToArray();
            var run = GeneratorHarness.Run(Source(Onnx, "BertEncoder(10)"), new[] { (Calibration, calibration.ToText()) }, (Onnx, corrupt));
            Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "GEN003");

            string partial = string.Join("\n", calibration.ToText().Split('\n').Where(l => !l.StartsWith("encoder.layer.1.intermediate.gelu ", StringComparison.Ordinal)));
            run = GeneratorHarness.Run(Source(Onnx, "BertEncoder(10)"), new[] { (Calibration, partial) }, (Onnx, Tiny.Onnx()));
            Assert.Contains(run.GeneratorDiagnostics, d => d.GetMessage().Contains("encoder.layer.1.intermediate.gelu", StringComparison.Ordinal));

            run = GeneratorHarness.Run(@"using Gen;
namespace BertDecl
{
    [QuantizedModel(""" + Onnx + @""", Calibration = """ + Calibration + @""")]
    [BertEncoder(10)]
    [ModelInput(4)]
    public static partial class Tiny { }
}", new[] { (Calibration, calibration.ToText()) }, (Onnx, Tiny.Onnx()));
            Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "GEN011" && d.GetMessage().Contains("takes no [ModelInput]", StringComparison.Ordinal));
        }
    }
}
