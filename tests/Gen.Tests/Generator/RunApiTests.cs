using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The memory contract of the generated Run overloads: spans that overlap are refused (they gave silently wrong
    /// values before), the workspace overloads work for every model, a model too large for the stack compiles with only
    /// those, and the <c>StackBytes</c> constant bounds what the generated code really places on the stack.
    /// </summary>
    public class RunApiTests
    {
        private const string WeightsPath = "/project/weights/model.safetensors";
        private const string VitWeights = "/project/weights/vit.safetensors";
        private const string VitCalibration = "/project/weights/vit.calibration.txt";

        private static (Type Type, RandomModel Model) Mlp(int[] sizes, int seed = 5)
        {
            var model = RandomModel.Create(new Random(seed), sizes);
            var run = GeneratorHarness.Run(model.Source, (WeightsPath, model.Weights));
            Assert.Empty(run.Errors);
            return (run.Load().GetType("DiffTest.Model")!, model);
        }

        private static int Constant(Type type, string name) => (int)type.GetField(name)!.GetRawConstantValue()!;

        [Fact]
        public void BatchedRunRefusesAnOutputThatOverlapsTheInput()
        {
            // The case that gave 16 of 72 wrong values: 8 rows of 9 inputs, the outputs one row ahead in the same buffer.
            var (type, _) = Mlp(new[] { 9, 12, 9 });
            var batch = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(int) })!
                .CreateDelegate<DifferentialTests.RunBatch>();
            var buffer = new sbyte[9 * 9];
            var e = Assert.Throws<ArgumentException>(() => batch(buffer.AsSpan(0, 72), buffer.AsSpan(9, 72), 8));
            Assert.Equal("outputs", e.ParamName);
            Assert.Contains("'outputs' overlaps 'inputs'", e.Message, StringComparison.Ordinal);
            Assert.Contains("must not share memory", e.Message, StringComparison.Ordinal);

            // In place is refused too; separate halves of one buffer are fine.
            Assert.Throws<ArgumentException>(() => batch(buffer.AsSpan(0, 72), buffer.AsSpan(0, 72), 8));
            var big = new sbyte[144];
            batch(big.AsSpan(0, 72), big.AsSpan(72, 72), 8);
        }

        [Fact]
        public void SingleRunAndWorkspaceOverloadsRefuseOverlapsAndSmallWorkspaces()
        {
            var (type, model) = Mlp(new[] { 6, 8, 8, 4 });
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<DifferentialTests.RunRow>();
            var withWorkspace = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(Span<byte>) })!
                .CreateDelegate<DifferentialTests.RunWithWorkspace>();
            int size = Constant(type, "WorkspaceSize");
            Assert.Equal(64 + 4 * 8, size); // two hidden layers of 8, 4 rows each, live together at the middle layer: 32 bytes aligned to 64, then 32

            var buffer = new sbyte[6];
            var e = Assert.Throws<ArgumentException>(() => single(buffer, buffer.AsSpan(2, 4)));
            Assert.Equal("output", e.ParamName);

            var input = new sbyte[6];
            new Random(1).NextBytes((Span<byte>)System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
            var expected = new sbyte[4];
            model.Reference.Run(input, expected);

            e = Assert.Throws<ArgumentException>(() => withWorkspace(input, new sbyte[4], new byte[size - 1]));
            Assert.Equal("workspace", e.ParamName);
            Assert.Contains($"The workspace holds {size - 1} bytes; this model needs at least WorkspaceSize = {size}", e.Message, StringComparison.Ordinal);

            // A workspace laid over the input or the output.
            var bytes = new byte[size + 16];
            e = Assert.Throws<ArgumentException>(() =>
                withWorkspace(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(bytes.AsSpan(0, 6)), new sbyte[4], bytes.AsSpan(4)));
            Assert.Equal("workspace", e.ParamName);
            Assert.Contains("'workspace' overlaps 'input'", e.Message, StringComparison.Ordinal);
            e = Assert.Throws<ArgumentException>(() =>
                withWorkspace(input, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(bytes.AsSpan(size, 4)), bytes.AsSpan(0, size + 1)));
            Assert.Contains("'workspace' overlaps 'output'", e.Message, StringComparison.Ordinal);

            var output = new sbyte[4];
            withWorkspace(input, output, new byte[size]);
            Assert.Equal(expected, output);
        }

        /// <summary>
        /// The ViT that crashed a thread with a 200 KiB stack: 64 tokens of width 256, feed-forward 1024. It had 166,912 bytes of
        /// activations in a buffer each; planned from the lifetimes it needs the busiest step's 98,304 (the residual stream,
        /// the hidden layer and the feed-forward output: 16,384 + 65,536 + 16,384).
        /// </summary>
        [Fact]
        public void TheWorkspaceOverloadRunsOnAThreadWithASmallStack()
        {
            var rng = new Random(12);
            var model = RandomTransformer.Create(rng, image: 32, channels: 3, patch: 4, width: 256, heads: 4, feedForward: 1024, layers: 1, outputs: 10);
            var run = GeneratorHarness.Run(model.Source(), new[] { (VitCalibration, model.CalibrationText) }, (VitWeights, model.Weights));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("DiffTest.Vit")!;
            int workspaceSize = Constant(type, "WorkspaceSize"), stackBytes = Constant(type, "StackBytes");
            Assert.Equal(98_304, workspaceSize);
            Assert.True(stackBytes > workspaceSize, "the stack overload keeps the workspace on the stack");

            var withWorkspace = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(Span<byte>) })!
                .CreateDelegate<DifferentialTests.RunWithWorkspace>();
            var input = new sbyte[model.Shape.InputSize];
            for (int i = 0; i < input.Length; i++) input[i] = (sbyte)rng.Next(-128, 128);
            var expected = new sbyte[model.Shape.OutputSize];
            model.Reference.Run(input, expected);

            // The stack need without the workspace is StackBytes - WorkspaceSize (the steps' own scratch), far below 200 KiB.
            Assert.True(stackBytes - workspaceSize < 64 * 1024, $"{stackBytes - workspaceSize} bytes of step scratch");
            var output = new sbyte[expected.Length];
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    withWorkspace(input, output, new byte[workspaceSize]);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }, maxStackSize: 200 * 1024);
            thread.Start();
            thread.Join();
            Assert.Null(failure);
            Assert.Equal(expected, output);
        }

        [Fact]
        public void AModelTooLargeForTheStackCompilesWithWorkspaceOverloadsOnly()
        {
            // 1024 tokens of width 64: the attention step alone has the layer input, Q, K, V and the context live,
            // 5 x 65,536 = 327,680 bytes, above the 262,144-byte stack budget.
            var rng = new Random(13);
            var model = RandomTransformer.Create(rng, image: 64, channels: 1, patch: 2, width: 64, heads: 2, feedForward: 64, layers: 1, outputs: 3);
            var run = GeneratorHarness.Run(model.Source(), new[] { (VitCalibration, model.CalibrationText) }, (VitWeights, model.Weights));
            Assert.Empty(run.Errors);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "GEN010");
            var type = run.Load().GetType("DiffTest.Vit")!;
            int workspaceSize = Constant(type, "WorkspaceSize");
            Assert.InRange(workspaceSize, 327_680, 6 * 65_536);
            Assert.Null(type.GetMethod("RunRows", BindingFlags.NonPublic | BindingFlags.Static));

            // Calling the stack overload is a compile error that says what to do instead.
            var stackRun = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!;
            var obsolete = stackRun.GetCustomAttribute<ObsoleteAttribute>()!;
            Assert.True(obsolete.IsError);
            Assert.Contains("Call the overload that takes a Span<byte> workspace of at least WorkspaceSize bytes", obsolete.Message, StringComparison.Ordinal);
            string user = "static class User { static void Go() { DiffTest.Vit.Run(new sbyte[4096], new sbyte[3]); } }";
            var withUser = run.Output.AddSyntaxTrees(CSharpSyntaxTree.ParseText(user, (CSharpParseOptions)run.Output.SyntaxTrees.First().Options));
            var error = Assert.Single(withUser.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal("CS0619", error.Id);

            var withWorkspace = stackRun.DeclaringType!.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(Span<byte>) })!
                .CreateDelegate<DifferentialTests.RunWithWorkspace>();
            var input = new sbyte[model.Shape.InputSize];
            for (int i = 0; i < input.Length; i++) input[i] = (sbyte)rng.Next(-128, 128);
            var expected = new sbyte[model.Shape.OutputSize];
            model.Reference.Run(input, expected);
            var output = new sbyte[expected.Length];
            var workspace = new byte[workspaceSize];
            rng.NextBytes(workspace);
            withWorkspace(input, output, workspace);
            Assert.Equal(expected, output);
        }

        /// <summary>
        /// <c>StackBytes</c> against the generated code itself: the largest sum of stackalloc sizes along any call chain
        /// from <c>Run</c>, found from the syntax tree (methods, their stackallocs, and which of them they call).
        /// </summary>
        [Theory]
        [InlineData("mlp")]
        [InlineData("vit")]
        public void StackBytesBoundsEveryCallChain(string family)
        {
            GeneratorRun run;
            string typeName;
            if (family == "mlp")
            {
                var model = RandomModel.Create(new Random(7), new[] { 784, 128, 64, 10 });
                run = GeneratorHarness.Run(model.Source, (WeightsPath, model.Weights));
                typeName = "DiffTest.Model";
            }
            else
            {
                var model = RandomTransformer.Create(new Random(8), image: 12, channels: 3, patch: 2, width: 32, heads: 2, feedForward: 48, layers: 2, outputs: 4);
                run = GeneratorHarness.Run(model.Source(), new[] { (VitCalibration, model.CalibrationText) }, (VitWeights, model.Weights));
                typeName = "DiffTest.Vit";
            }

            Assert.Empty(run.Errors);
            var tree = run.Driver.GetRunResult().GeneratedTrees.Single(t => !t.FilePath.EndsWith(".Boundary.g.cs", StringComparison.Ordinal));
            var methods = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().GroupBy(m => m.Identifier.Text)
                .ToDictionary(g => g.Key, g => g.ToList());
            long Own(MethodDeclarationSyntax m) => m.DescendantNodes().OfType<StackAllocArrayCreationExpressionSyntax>().Sum(s =>
            {
                var array = (ArrayTypeSyntax)s.Type;
                long count = long.Parse(array.RankSpecifiers[0].Sizes[0].ToString(), System.Globalization.CultureInfo.InvariantCulture);
                return count * ((PredefinedTypeSyntax)array.ElementType).Keyword.Text switch { "sbyte" or "byte" => 1, "short" => 2, "int" => 4, "long" => 8, var t => throw new InvalidOperationException(t) };
            });
            var memo = new Dictionary<string, long>();
            long Deepest(string name, int depth)
            {
                Assert.True(depth < 20, "call chain too deep or recursive at " + name);
                if (memo.TryGetValue(name, out long known)) return known;
                long best = 0;
                foreach (var m in methods[name])
                {
                    long callees = m.DescendantNodes().OfType<InvocationExpressionSyntax>()
                        .Select(i => i.Expression is IdentifierNameSyntax id ? id.Identifier.Text : null)
                        .Where(n => n != null && methods.ContainsKey(n!)).Distinct()
                        .Select(n => Deepest(n!, depth + 1)).DefaultIfEmpty(0).Max();
                    best = Math.Max(best, Own(m) + callees);
                }

                return memo[name] = best;
            }

            long deepest = Deepest("Run", 0);
            var type = run.Load().GetType(typeName)!;
            int stackBytes = Constant(type, "StackBytes"), workspace = Constant(type, "WorkspaceSize");
            Assert.True(deepest > workspace, "the workspace is on the stack in Run(input, output)");
            Assert.True(stackBytes >= deepest, $"StackBytes = {stackBytes} but a call chain from Run holds {deepest} bytes of stack buffers");
        }
    }
}
