extern alias generator;
using System;
using System.Linq;
using System.Reflection;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Generator;
using Gen.Tests.Import;
using Gen.Tests.Support;
using Xunit;
using G = generator::Gen.Runtime.Graph;
using GModel = generator::Gen.Generators.Model;
using GRuntime = generator::Gen.Runtime;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// A whole BERT encoder generated: a small random checkpoint (Hugging Face names, post-LayerNorm, summed embeddings)
    /// calibrated through the float model, quantized by the generator's copy of the shared code, emitted, compiled and run
    /// on every kernel path, against the reference interpreter on padded sequences of many lengths, bit for bit. The
    /// generated code runs only a sequence's own tokens as keys and pools only them; the interpreter runs the padded
    /// sequence with its length, so the two agree only if the mask does.
    /// </summary>
    public sealed class BertGeneratedTests
    {
        private delegate void RunSequences(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> lengths, Span<sbyte> outputs, int path);

        private const int Tokens = 21;

        [Theory]
        [InlineData(BertPooling.Mean, 32, 2)]
        [InlineData(BertPooling.Cls, 32, 4)]
        [InlineData(BertPooling.None, 20, 2)]
        public void GeneratedEncoderEqualsTheReferenceInterpreter(BertPooling pooling, int width, int heads)
        {
            var tiny = new TinyBert(layers: 2, width: width, heads: heads, feedForward: 2 * width + 3, vocabulary: 57, positions: Tokens + 2, pooler: false);
            byte[] weights = tiny.SafeTensors();
            var checkpoint = BertCheckpoint.FromSafeTensors(weights).Value!;
            var shape = checkpoint.Shape(Tokens, pooling, heads: heads).Value!;
            var floats = FloatModel.Bert(SafeTensorsFile.Parse(weights), shape);
            var rng = new Random(width * 7 + (int)pooling);
            var (calibrationIds, calibrationLengths) = RandomSequences(rng, 24, tiny.Vocabulary);
            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(calibrationIds, calibrationLengths);
            var calibration = ActivationCalibration.Calibrate(statistics, new MaxCalibrator());
            var reference = new ReferenceInterpreter(calibration.Quantize(floats));

            var type = Compile(shape, weights, name => calibration[name].Parameters);
            var (ids, lengths) = RandomSequences(rng, 9, tiny.Vocabulary);
            lengths[0] = 1;
            lengths[1] = Tokens;
            for (int t = 1; t < Tokens; t++) ids[t] = 0; // sequence 0 is now one token long: the rest is padding (id 0)
            for (int t = 0; t < Tokens; t++) ids[Tokens + t] = rng.Next(tiny.Vocabulary);
            var expected = new sbyte[lengths.Length * reference.OutputSize];
            reference.Run(ids, lengths, expected); // padded with id 0, as the generated code pads
            Assert.True(expected.Distinct().Count() > 8, "degenerate outputs");

            // The generated API takes the sequences' own ids, one after another.
            var packed = Enumerable.Range(0, lengths.Length).SelectMany(s => ids.Skip(s * Tokens).Take(lengths[s])).ToArray();
            var run = type.GetMethod("RunSequences", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<RunSequences>();
            foreach (int path in DifferentialTests.SupportedPaths)
            {
                var actual = new sbyte[expected.Length];
                run(packed, lengths, actual, path);
                int first = Enumerable.Range(0, actual.Length).FirstOrDefault(i => actual[i] != expected[i], -1);

                Assert.True(first < 0, $"{pooling} on path {path}: value {first} (sequence {(first < 0 ? 0 : first / reference.OutputSize)}) is {(first < 0 ? 0 : actual[first])}, the interpreter gives {(first < 0 ? 0 : expected[first])}");
            }

            // The public overloads: one sequence, and a dirty caller's workspace.
            var one = new sbyte[reference.OutputSize];
            var third = packed.Skip(lengths[0] + lengths[1]).Take(lengths[2]).ToArray();
            Calls(type, "Run").Invoke(null, new object[] { third, one });
            Assert.Equal(expected.Skip(2 * one.Length).Take(one.Length), one);
            int size = (int)type.GetField("WorkspaceSize")!.GetValue(null)!;
            var workspace = Enumerable.Range(0, size).Select(i => (byte)(i * 37)).ToArray();
            Array.Clear(one);
            Calls(type, "RunInWorkspace").Invoke(null, new object[] { third, one, workspace });
            Assert.Equal(expected.Skip(2 * one.Length).Take(one.Length), one);
            var batch = new sbyte[expected.Length];
            Calls(type, "RunBatch").Invoke(null, new object[] { packed, lengths, batch });
            Assert.Equal(expected, batch);
        }

        [Fact]
        public void BadSequencesAreRefusedWithTheLimitNamed()
        {
            var tiny = new TinyBert(layers: 1, width: 16, heads: 2, feedForward: 24, vocabulary: 30, positions: 8, pooler: false);
            byte[] weights = tiny.SafeTensors();
            var shape = BertCheckpoint.FromSafeTensors(weights).Value!.Shape(8, BertPooling.Mean, heads: 2).Value!;
            var floats = FloatModel.Bert(SafeTensorsFile.Parse(weights), shape);
            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new[] { 5 });
            var calibration = ActivationCalibration.Calibrate(statistics, new MaxCalibrator());
            var type = Compile(shape, weights, name => calibration[name].Parameters);
            Assert.Equal(8, (int)type.GetField("MaxTokens")!.GetValue(null)!);
            var output = new sbyte[16];
            string Message(int[] ids)
            {
                var e = Assert.Throws<TargetInvocationException>(() => Calls(type, "Run").Invoke(null, new object[] { ids, output }));
                return Assert.IsAssignableFrom<ArgumentException>(e.InnerException).Message;
            }

            Assert.Contains("reads 1 to MaxTokens = 8", Message(Array.Empty<int>()));
            Assert.Contains("reads 1 to MaxTokens = 8", Message(new int[9]));
            Assert.Contains("outside the vocabulary of 30", Message(new[] { 1, 30, 2 }));
            Assert.Contains("outside the vocabulary of 30", Message(new[] { 1, -1, 2 }));
        }

        private static Type Compile(BertShape shape, byte[] weights, Func<string, QuantizationParameters> parameters)
        {
            var g = new G.BertShape(shape.Vocabulary, shape.Positions, shape.Segments, shape.Tokens, shape.Layers, shape.Heads, shape.Width, shape.FeedForward,
                shape.Epsilon, (G.BertPooling)shape.Pooling, shape.Normalize);
            var problems = new G.ProblemList();
            var graph = G.BertFrontend.Build(g, problems);
            var quantized = G.QuantizedGraph.TryCreate(graph, GRuntime.SafeTensorsFile.Parse(weights),
                n => { var q = parameters(n); return new GRuntime.QuantizationParameters(q.Scale, q.ZeroPoint); }, problems);
            Assert.True(quantized != null, string.Join("; ", problems.All.Select(p => p.Message)));
            var facts = new GModel.CompilationFacts(HasAvxVnni: true, WideVnniNeedsVersionCheck: false);
            var plan = generator::Gen.Generators.Planning.GraphPlanner.Plan(quantized!, facts, "BERT encoder", $"{shape.Layers} layers", "sequence");
            var model = new GModel.ModelPlan("BertTest", "Encoder", "public static partial class", "tiny.safetensors", 0, 0f, 0, plan,
                GModel.EquatableArray<GModel.DiagnosticInfo>.Empty);
            // The public overloads take spans, which reflection cannot pass: a small class calls them with arrays.
            const string calls = @"namespace BertTest
{
    public static class Calls
    {
        public static void Run(int[] ids, sbyte[] output) => Encoder.Run(ids, output);
        public static void RunInWorkspace(int[] ids, sbyte[] output, byte[] workspace) => Encoder.Run(ids, output, workspace);
        public static void RunBatch(int[] ids, int[] lengths, sbyte[] outputs) => Encoder.Run(ids, lengths, outputs);
    }
}";
            var compilation = GeneratorHarness.Compilation(generator::Gen.Generators.Emitting.ModelEmitter.EmitModel(model),
                generator::Gen.Generators.Emitting.ModelEmitter.EmitBoundary(model), calls);
            var run = new GeneratorRun { Output = compilation, GeneratorDiagnostics = System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostic>.Empty, Driver = null! };
            Assert.Empty(run.Errors);
            return run.Load().GetType("BertTest.Encoder")!;
        }

        private static MethodInfo Calls(Type encoder, string name) => encoder.Assembly.GetType("BertTest.Calls")!.GetMethod(name)!;

        private static (int[] Ids, int[] Lengths) RandomSequences(Random rng, int count, int vocabulary)
        {
            var ids = new int[count * Tokens];
            var lengths = new int[count];
            for (int s = 0; s < count; s++)
            {
                lengths[s] = rng.Next(1, Tokens + 1);
                for (int t = 0; t < lengths[s]; t++) ids[s * Tokens + t] = rng.Next(vocabulary);
            }

            return (ids, lengths);
        }
    }
}
