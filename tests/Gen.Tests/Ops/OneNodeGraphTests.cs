extern alias generator;
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Generator;
using Gen.Tests.Support;
using Xunit;
using G = generator::Gen.Runtime.Graph;
using GRuntime = generator::Gen.Runtime;

namespace Gen.Tests.Ops
{
    /// <summary>
    /// Every operator alone: a graph of one node (plus its input), quantized once by the generator's copy of the shared
    /// code and once by the runtime's, emitted and compiled, then run on every kernel path this CPU has and compared bit
    /// for bit with the op's reference kernel (the interpreter), on odd shapes.
    /// </summary>
    public class OneNodeGraphTests
    {
        /// <summary>One op on an input of [Rows, Columns] (per sample), with what it needs.</summary>
        public sealed record OpCase(OpKind Kind, int Rows, int Columns, int Outputs = 0, int Heads = 0, int Kernel = 0, int Stride = 0,
            int Channels = 1, FusedActivation Activation = FusedActivation.None, bool ConstantOperand = false, float Scale = 0.05f)
        {
            public override string ToString() => $"{Kind} [{Rows}, {Columns}]" + (Scale == 0.05f ? "" : $" at scale {Scale}");
        }

        public static IEnumerable<object[]> Cases() => new[]
        {
            new OpCase(OpKind.Dense, 1, 1, Outputs: 1),
            new OpCase(OpKind.Dense, 5, 37, Outputs: 19, Activation: FusedActivation.Relu),
            new OpCase(OpKind.Dense, 16, 64, Outputs: 33, Activation: FusedActivation.Relu6),
            new OpCase(OpKind.LayerNorm, 3, 7),
            new OpCase(OpKind.LayerNorm, 5, 64),
            new OpCase(OpKind.LayerNorm, 2, 200),
            new OpCase(OpKind.Gelu, 3, 23),
            new OpCase(OpKind.Gelu, 4, 100),
            new OpCase(OpKind.Add, 3, 21),
            new OpCase(OpKind.Add, 9, 16, ConstantOperand: true),
            new OpCase(OpKind.MeanPool, 7, 13),
            new OpCase(OpKind.MeanPool, 16, 48),
            new OpCase(OpKind.Attention, 5, 12, Heads: 3),
            new OpCase(OpKind.Attention, 16, 32, Heads: 2),
            new OpCase(OpKind.Attention, 25, 21, Heads: 3),
            // Scores so fine (S_q S_k / sqrt(d) = 5e-11) that a padding token's score, -2^30, is only about -0.05 in real terms.
            new OpCase(OpKind.Attention, 5, 12, Heads: 3, Scale: 1e-5f),
            new OpCase(OpKind.Im2Col, 1, 2 * 9 * 9, Kernel: 3, Stride: 3, Channels: 2),
            new OpCase(OpKind.Im2Col, 1, 7 * 7, Kernel: 3, Stride: 2),
            new OpCase(OpKind.ClsToken, 5, 37),
            new OpCase(OpKind.ClsToken, 16, 64),
            // Narrow stands for the wide residual stream's chain: a dense layer and LayerNorms writing INT32, wide adds of
            // every mix, LayerNorm from INT32 to INT32 and to INT8, and the narrowing (WideChain).
            new OpCase(OpKind.Narrow, 5, 48),
            new OpCase(OpKind.Narrow, 3, 37),
        }.Select(c => new object[] { c });

        [Theory]
        [MemberData(nameof(Cases))]
        public void GeneratedNodeEqualsItsReferenceKernel(OpCase c)
        {
            var rng = new Random(c.GetHashCode() & 0xFFFF);
            byte[] weights = Weights(c, rng);
            var parameters = Parameters(c, rng);
            var runtimeGraph = Build(c);
            var reference = new ReferenceInterpreter(QuantizedGraph.Create(runtimeGraph, SafeTensorsFile.Parse(weights), n => parameters[n]));

            var generatorGraph = BuildForGenerator(c);
            var problems = new G.ProblemList();
            var quantized = G.QuantizedGraph.TryCreate(generatorGraph, GRuntime.SafeTensorsFile.Parse(weights),
                n => new GRuntime.QuantizationParameters(parameters[n].Scale, parameters[n].ZeroPoint), problems);
            Assert.True(quantized != null, string.Join("; ", problems.All.Select(p => p.Message)));
            var type = Compile(quantized!, c);

            int inputSize = runtimeGraph.InputSize, outputSize = runtimeGraph.OutputSize;
            const int samples = 3;
            var inputs = new sbyte[samples * inputSize];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (sbyte)(i % 41 < 2 ? (rng.Next(2) == 0 ? -128 : 127) : rng.Next(-128, 128));
            var expected = new sbyte[samples * outputSize];
            reference.Run(inputs, expected);
            if (expected.Length > 8) Assert.True(expected.Distinct().Count() > 2, "degenerate case: the outputs hardly vary");

            var withPath = type.GetMethod("RunRows", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<DifferentialTests.RunRowsWithPath>();
            foreach (int path in DifferentialTests.SupportedPaths)
            {
                var actual = new sbyte[expected.Length];
                withPath(inputs, actual, samples, path);
                int first = Enumerable.Range(0, actual.Length).FirstOrDefault(i => actual[i] != expected[i], -1);
                Assert.True(first < 0, $"{c} on path {path}: value {first} is {(first < 0 ? 0 : actual[first])}, the reference kernel gives {(first < 0 ? 0 : expected[first])}");
            }

            DifferentialTests.CheckWorkspacePaths(type, inputs, expected, samples, rng, c.ToString());
        }

        // The same one-node graph in the runtime's copy of the shared code.
        private static ModelGraph Build(OpCase c)
        {
            var b = new GraphBuilder();
            int x = b.Input("input", c.Rows, c.Columns);
            int y = c.Kind switch
            {
                OpKind.Dense => b.Dense(x, "op", c.Outputs, c.Activation, true, 1),
                OpKind.LayerNorm => b.LayerNorm(x, "op", 1),
                OpKind.Gelu => b.Gelu(x, "op", "op", 1),
                OpKind.Add => b.Add(x, c.ConstantOperand ? b.Constant("op.constant", new[] { c.Rows, c.Columns }) : x, "op", "the add", 1),
                OpKind.MeanPool => b.MeanPool(x, "op", 1),
                OpKind.Attention => b.Attention(x, x, x, "op", c.Heads, "op", 1),
                OpKind.Im2Col => b.Im2Col(x, "op", c.Channels, Side(c), Side(c), c.Kernel, c.Stride, 1, "op"),
                OpKind.ClsToken => b.ClsToken(x, "op", 1),
                OpKind.Narrow => WideChain(b, x, c),
                _ => throw new NotSupportedException(),
            };
            return b.Build(y);
        }

        // The wide ops chained between an INT8 input and an INT8 output (the runtime's and, below, the generator's copy).
        private static int WideChain(GraphBuilder b, int x, OpCase c)
        {
            int l0 = b.Widen(b.LayerNorm(x, "op.norm0", 1, outputName: "op.norm0.wide"));               // INT8 -> INT32
            int d = b.Widen(b.Dense(x, "op", c.Columns, FusedActivation.None, true, 1));               // INT32 out
            int a = b.Widen(b.Add(l0, d, "op.add", "the add", 1));                                      // INT32 + INT32
            int a2 = b.Widen(b.Add(x, a, "op.add2", "the second add", 1));                              // INT8 + INT32
            int l = b.Widen(b.LayerNorm(a2, "op.norm", 1, outputName: "op.norm.wide"));                // INT32 -> INT32
            int n = b.Narrow(l, "op.norm", "op.narrow", 1);
            int l3 = b.LayerNorm(a2, "op.norm3", 1);                                                    // INT32 -> INT8
            return b.Add(n, l3, "op.out", "the last add", 1);
        }

        private static int WideChain(G.GraphBuilder b, int x, OpCase c)
        {
            int l0 = b.Widen(G.LayerNormOp.LayerNorm(b, x, "op.norm0", 1, outputName: "op.norm0.wide"));
            int d = b.Widen(G.DenseOp.Dense(b, x, "op", c.Columns, GRuntime.FusedActivation.None, true, 1));
            int a = b.Widen(G.AddOp.Add(b, l0, d, "op.add", "the add", 1));
            int a2 = b.Widen(G.AddOp.Add(b, x, a, "op.add2", "the second add", 1));
            int l = b.Widen(G.LayerNormOp.LayerNorm(b, a2, "op.norm", 1, outputName: "op.norm.wide"));
            int n = G.NarrowOp.Narrow(b, l, "op.norm", "op.narrow", 1);
            int l3 = G.LayerNormOp.LayerNorm(b, a2, "op.norm3", 1);
            return G.AddOp.Add(b, n, l3, "op.out", "the last add", 1);
        }

        // ... and in the generator's copy (its own types: the generator assembly compiles the shared files too).
        private static G.ModelGraph BuildForGenerator(OpCase c)
        {
            var b = new G.GraphBuilder();
            int x = b.Input("input", c.Rows, c.Columns);
            int y = c.Kind switch
            {
                OpKind.Dense => G.DenseOp.Dense(b, x, "op", c.Outputs, (GRuntime.FusedActivation)c.Activation, true, 1),
                OpKind.LayerNorm => G.LayerNormOp.LayerNorm(b, x, "op", 1),
                OpKind.Gelu => G.GeluOp.Gelu(b, x, "op", "op", 1),
                OpKind.Add => G.AddOp.Add(b, x, c.ConstantOperand ? b.Constant("op.constant", new[] { c.Rows, c.Columns }) : x, "op", "the add", 1),
                OpKind.MeanPool => G.MeanPoolOp.MeanPool(b, x, "op", 1),
                OpKind.Attention => G.AttentionOp.Attention(b, x, x, x, "op", c.Heads, "op", 1),
                OpKind.Im2Col => G.Im2ColOp.Im2Col(b, x, "op", c.Channels, Side(c), Side(c), c.Kernel, c.Stride, 1, "op"),
                OpKind.ClsToken => G.ClsTokenOp.ClsToken(b, x, "op", 1),
                OpKind.Narrow => WideChain(b, x, c),
                _ => throw new NotSupportedException(),
            };
            return b.Build(y);
        }

        private static int Side(OpCase c) => (int)Math.Round(Math.Sqrt(c.Columns / c.Channels));

        private static byte[] Weights(OpCase c, Random rng)
        {
            var w = new SafeTensorsWriter();
            float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
            switch (c.Kind)
            {
                case OpKind.Dense:
                    w.F32("op.weight", Random(c.Outputs * c.Columns, 0.5), c.Outputs, c.Columns).F32("op.bias", Random(c.Outputs, 0.5), c.Outputs);
                    break;
                case OpKind.LayerNorm:
                    w.F32("op.weight", Random(c.Columns, 1.5), c.Columns).F32("op.bias", Random(c.Columns, 0.5), c.Columns);
                    break;
                case OpKind.Narrow:
                    w.F32("op.weight", Random(c.Columns * c.Columns, 0.5), c.Columns, c.Columns).F32("op.bias", Random(c.Columns, 0.5), c.Columns);
                    foreach (string norm in new[] { "op.norm0", "op.norm", "op.norm3" })
                    {
                        w.F32(norm + ".weight", Random(c.Columns, 1.5), c.Columns).F32(norm + ".bias", Random(c.Columns, 0.5), c.Columns);
                    }

                    break;
                case OpKind.Add when c.ConstantOperand:
                    w.F32("op.constant", Random(c.Rows * c.Columns, 1.0), c.Rows, c.Columns);
                    break;
                default:
                    w.F32("nothing", new float[1], 1); // the op reads no tensor
                    break;
            }

            return w.ToBytes();
        }

        // Scales that keep every multiplier in range and the outputs varied.
        private static Dictionary<string, QuantizationParameters> Parameters(OpCase c, Random rng)
        {
            var input = new QuantizationParameters(c.Scale, rng.Next(-20, 20));
            float output = c.Kind switch
            {
                OpKind.Dense => 0.03f * (float)Math.Sqrt(c.Columns),
                OpKind.LayerNorm => 0.03f,
                OpKind.Gelu => 0.025f,
                OpKind.Add => 0.09f,
                OpKind.MeanPool => 0.02f,
                OpKind.Attention => 0.03f * c.Scale / 0.05f,
                _ => 0.05f,
            };
            if (c.Kind == OpKind.Narrow)
            {
                // The wide values' scales come from these INT8 ranges (QuantizationMath.Widen).
                return new Dictionary<string, QuantizationParameters>
                {
                    ["input"] = input,
                    ["op.norm0.wide"] = new QuantizationParameters(0.04f, 0),
                    ["op"] = new QuantizationParameters(0.03f * (float)Math.Sqrt(c.Columns), rng.Next(-10, 10)),
                    ["op.add"] = new QuantizationParameters(0.1f, rng.Next(-10, 10)),
                    ["op.add2"] = new QuantizationParameters(0.12f, rng.Next(-10, 10)),
                    ["op.norm.wide"] = new QuantizationParameters(0.04f, 0),
                    ["op.narrow"] = new QuantizationParameters(0.03f, rng.Next(-10, 10)),
                    ["op.norm3"] = new QuantizationParameters(0.03f, rng.Next(-10, 10)),
                    ["op.out"] = new QuantizationParameters(0.06f, rng.Next(-10, 10)),
                };
            }

            return new Dictionary<string, QuantizationParameters>
            {
                ["input"] = input,
                ["op"] = new QuantizationParameters(output, rng.Next(-10, 10)),
            };
        }

        private static Type Compile(G.QuantizedGraph quantized, OpCase c)
        {
            var facts = new generator::Gen.Generators.Model.CompilationFacts(HasAvxVnni: true, WideVnniNeedsVersionCheck: false);
            var graph = generator::Gen.Generators.Planning.GraphPlanner.Plan(quantized, facts, "one-node graph", c.ToString(), "sample");
            var plan = new generator::Gen.Generators.Model.ModelPlan("OpTest", "Op", "public static partial class", "op.safetensors", graph.InputValue.Rows * graph.InputValue.Columns,
                quantized.Input.Scale, quantized.Input.ZeroPoint, graph, generator::Gen.Generators.Model.EquatableArray<generator::Gen.Generators.Model.DiagnosticInfo>.Empty);
            string model = generator::Gen.Generators.Emitting.ModelEmitter.EmitModel(plan);
            string boundary = generator::Gen.Generators.Emitting.ModelEmitter.EmitBoundary(plan);
            var compilation = GeneratorHarness.Compilation(model, boundary);
            var run = new GeneratorRun { Output = compilation, GeneratorDiagnostics = System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostic>.Empty, Driver = null! };
            Assert.Empty(run.Errors);
            return run.Load().GetType("OpTest.Op")!;
        }

        private delegate void Gather(ReadOnlySpan<int> ids, Span<sbyte> output);

        [Theory]
        [InlineData(1, 1, 1, false)]
        [InlineData(7, 37, 5, false)]
        [InlineData(100, 16, 33, false)]
        [InlineData(1, 1, 1, true)]
        [InlineData(50, 37, 9, true)]
        [InlineData(300, 64, 20, true)]
        public void GeneratedEmbeddingEqualsItsReferenceKernel(int vocabulary, int width, int tokens, bool sum)
        {
            var rng = new Random(vocabulary * 31 + tokens + (sum ? 7 : 0));
            float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
            var table = Random(vocabulary * width, 1.0);
            float[] positions = Random((tokens + 3) * width, 0.3), segments = Random(2 * width, 0.2);
            var writer = new SafeTensorsWriter().F32("embed.weight", table, vocabulary, width);
            if (sum) writer.F32("embed.positions", positions, tokens + 3, width).F32("embed.segments", segments, 2, width);
            byte[] weights = writer.ToBytes();
            // The sum's output has parameters of its own; a plain lookup's come from its table.
            var output = new QuantizationParameters(0.03f, rng.Next(-10, 10));
            QuantizationParameters Parameters(string name) =>
                sum && name == "embed" ? output : throw new InvalidOperationException("an embedding needs no parameters: " + name);

            var b = new GraphBuilder();
            var runtimeGraph = b.Build(sum
                ? b.Embedding(b.TokenIds("ids", tokens), "embed", vocabulary, width, "embed.positions", tokens + 3, "embed.segments", 2, 1, "embed")
                : b.Embedding(b.TokenIds("ids", tokens), "embed", vocabulary, width, 1));
            var reference = new ReferenceInterpreter(QuantizedGraph.Create(runtimeGraph, SafeTensorsFile.Parse(weights), Parameters));
            var gb = new G.GraphBuilder();
            var graph = gb.Build(sum
                ? G.EmbeddingOp.Embedding(gb, gb.TokenIds("ids", tokens), "embed", vocabulary, width, "embed.positions", tokens + 3, "embed.segments", 2, 1, "embed")
                : G.EmbeddingOp.Embedding(gb, gb.TokenIds("ids", tokens), "embed", vocabulary, width, 1));
            var problems = new G.ProblemList();
            var quantized = G.QuantizedGraph.TryCreate(graph, GRuntime.SafeTensorsFile.Parse(weights),
                n => { var q = Parameters(n); return new GRuntime.QuantizationParameters(q.Scale, q.ZeroPoint); }, problems);
            Assert.True(quantized != null, string.Join("; ", problems.All.Select(p => p.Message)));
            var facts = new generator::Gen.Generators.Model.CompilationFacts(true, false);
            var plan = generator::Gen.Generators.Planning.GraphPlanner.Plan(quantized!, facts, "embedding", "one table", "sequence");

            // The op's methods alone in a class: a model reading ids gets its Run API with the BERT frontend.
            var w = new generator::Gen.Generators.Emitting.CodeWriter();
            w.Line("using System;");
            w.Open("namespace OpTest");
            w.Open("public static class Op");
            generator::Gen.Generators.Emitting.GraphEmitter.EmitMethods(w, plan, plan.Nodes[0], "Embedding");
            w.Close();
            w.Close();
            var run = new GeneratorRun { Output = GeneratorHarness.Compilation(w.ToString()), GeneratorDiagnostics = System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostic>.Empty, Driver = null! };
            Assert.Empty(run.Errors);
            var gather = run.Load().GetType("OpTest.Op")!.GetMethod("Embedding", BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate<Gather>();

            var ids = Enumerable.Range(0, tokens).Select(t => t == 0 ? vocabulary - 1 : rng.Next(vocabulary)).ToArray();
            var expected = new sbyte[tokens * width];
            reference.Run(ids, expected);
            var actual = new sbyte[expected.Length];
            gather(ids, actual);
            Assert.Equal(expected, actual);
            if (expected.Length > 8) Assert.True(expected.Distinct().Count() > 2, "degenerate table");

            // The float kernel gathers the float rows themselves (and adds position t's and segment 0's rows).
            var floats = new FloatModel(runtimeGraph, SafeTensorsFile.Parse(weights));
            var rows = new float[tokens * width];
            floats.Run(ids, rows);
            for (int t = 0; t < tokens; t++)
            {
                var row = table.AsSpan(ids[t] * width, width).ToArray();
                if (sum) row = row.Select((v, c) => v + (positions[t * width + c] + segments[c])).ToArray();
                Assert.Equal(row, rows.AsSpan(t * width, width).ToArray());
            }

            if (sum)
            {
                // The integer sum is the float sum rounded once at the output's scale, up to the two tables' own rounding.
                double tolerance = 0.5 + (0.5 * table.Max(Math.Abs) / 127 + 0.5 * positions.Concat(segments).Max(Math.Abs) * 2 / 127) / output.Scale;
                for (int i = 0; i < rows.Length; i++)
                {
                    double exact = rows[i] / output.Scale + output.ZeroPoint;
                    if (exact > -128 && exact < 127) Assert.InRange(expected[i], exact - tolerance - 1e-6, exact + tolerance + 1e-6);
                }
            }

            // An id outside the vocabulary is refused by all three, naming the limit.
            ids[tokens - 1] = vocabulary;
            Assert.Throws<ArgumentOutOfRangeException>(() => floats.Run(ids, rows));
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => gather(ids, actual));
            Assert.Contains($"outside the vocabulary of {vocabulary}", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => reference.Run(ids, expected));
        }
    }
}
