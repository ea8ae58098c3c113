using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The generator never throws, whatever it is given: generated declarations (any combination and order of Gen's
    /// attributes with ordinary and extreme values), generated weights files (names, dtypes, shapes and values, NaN
    /// included) and quantization-parameter files, and valid models with a literal changed. The rule is the fuzzers'
    /// (tools/fuzz): no exception, no GEN099, no CS8784/CS8785, and whatever it generates compiles.
    /// </summary>
    public class GeneratorNeverThrowsPropertyTests
    {
        private const string WeightsPath = "/project/weights/model.safetensors";
        private const string CalibrationPath = "/project/weights/model.calibration.txt";

        /// <summary>One generator input: the declaration, the weights (or none) and the quantization-parameter file (or none).</summary>
        public sealed record Input(string Source, byte[]? Weights, string? Calibration)
        {
            public override string ToString() =>
                Source + (Weights is null ? "(no weights file)\n" : $"(weights: {Weights.Length} bytes, header {Header(Weights)})\n") +
                (Calibration is null ? "" : "(calibration file:)\n" + Calibration);

            private static string Header(byte[] weights) =>
                weights.Length < 8 ? "none" : Encoding.UTF8.GetString(weights, 8, (int)Math.Min(weights.Length - 8, Math.Max(0, Math.Min(4096, BitConverter.ToInt64(weights, 0)))));
        }

        // ---- literals ----------------------------------------------------------------------------------------------

        private static Gen<string> Literals(params string[] values) => Any.OneOf(values.Select(Any.Const).ToArray());

        private static readonly Gen<string> IntLiteral = Any.Frequency(
            (3, Literals("0", "1", "-1", "2", "3", "4", "8", "16", "784", "65536", "int.MaxValue", "int.MinValue", "-128", "127", "128", "-129", "100000")),
            (2, Any.Int[-300, 300].Select(i => i.ToString(CultureInfo.InvariantCulture))));

        private static readonly Gen<string> FloatLiteral = Any.Frequency(
            (3, Literals("0.02f", "0.05f", "0f", "-0f", "-1f", "1f", "float.NaN", "float.PositiveInfinity", "float.NegativeInfinity",
                "float.Epsilon", "1e-45f", "1e-30f", "3.4e38f", "float.MaxValue", "255f")),
            (2, Any.Double[1e-4, 1].Select(d => RandomModel.F((float)d))));

        private static readonly Gen<string> NameLiteral = Literals("\"fc1\"", "\"fc2\"", "\"layer1\"", "\"\"", "\"fc 1\"", "\"embed\"", "\"blocks.0\"",
            "\"norm\"", "\"head\"", "null", "\"input\"", "\"pool\"", "\"blocks.0.attn.q\"", "\"\\u00e9\"");

        private static Gen<string> Optional(string name, Gen<string> value) =>
            Any.Frequency((1, Any.Const("")), (2, value.Select(v => ", " + name + " = " + v)));

        // ---- attributes --------------------------------------------------------------------------------------------

        private static readonly Gen<string> ModelAttribute =
            from path in Literals("\"weights/model.safetensors\"", "\"model.safetensors\"", "\"\"", "null", "\"missing.safetensors\"",
                "\"weights\\\\model.safetensors\"", "\"../weights/model.safetensors\"", "\"/project/weights/model.safetensors\"")
            from calibration in Optional("Calibration", Literals("\"weights/model.calibration.txt\"", "\"\"", "\"other.txt\"", "null"))
            select $"[QuantizedModel({path}{calibration})]";

        private static readonly Gen<string> InputAttribute =
            from size in IntLiteral
            from scale in Optional("Scale", FloatLiteral)
            from zeroPoint in Optional("ZeroPoint", IntLiteral)
            select $"[ModelInput({size}{scale}{zeroPoint})]";

        private static readonly Gen<string> DenseAttribute =
            from name in NameLiteral
            from outputs in IntLiteral
            from activation in Optional("Activation", Literals("Activation.None", "Activation.Relu", "Activation.Relu6", "(Activation)7", "(Activation)(-1)"))
            from scale in Optional("OutputScale", FloatLiteral)
            from zeroPoint in Optional("OutputZeroPoint", IntLiteral)
            from weights in Optional("Weights", Literals("WeightQuantization.PerChannel", "WeightQuantization.PerTensor", "(WeightQuantization)5"))
            select $"[Dense({name}, {outputs}{activation}{scale}{zeroPoint}{weights})]";

        private static readonly Gen<string> TransformerAttribute = Any.OneOf(
            from name in NameLiteral
            from h in IntLiteral
            from w in IntLiteral
            from p in IntLiteral
            from width in IntLiteral
            from channels in Optional("Channels", IntLiteral)
            from scale in Optional("OutputScale", FloatLiteral)
            select $"[PatchEmbedding({name}, {h}, {w}, {p}, {width}{channels}{scale})]",
            from prefix in NameLiteral
            from heads in Optional("Heads", IntLiteral)
            from feedForward in Optional("FeedForward", IntLiteral)
            from headSize in Optional("HeadSize", IntLiteral)
            select $"[EncoderLayer({prefix}{heads}{feedForward}{headSize})]",
            from name in NameLiteral
            from scale in Optional("OutputScale", FloatLiteral)
            from zeroPoint in Optional("OutputZeroPoint", IntLiteral)
            select $"[LayerNorm({name}{scale}{zeroPoint})]",
            Optional("OutputScale", FloatLiteral).Select(scale => scale.Length == 0 ? "[MeanPool]" : $"[MeanPool({scale.Substring(2)})]"),
            from name in NameLiteral
            from scale in FloatLiteral
            from zeroPoint in IntLiteral
            select $"[Quantization({name}, {scale}, {zeroPoint})]");

        private static readonly Gen<string> Declaration =
            from ns in Literals("", "namespace Fuzz;\n", "namespace @if;\n", "namespace A.B.C;\n")
            from model in Any.Frequency((6, ModelAttribute), (1, Any.Const("")))
            from attributes in Any.Frequency((2, InputAttribute), (3, DenseAttribute), (2, TransformerAttribute)).Array[0, 8]
            from header in Literals("public static partial class Model", "internal partial class Model", "public static class Model",
                "public sealed partial class Model", "public static partial class @class", "public static partial class Model<T>",
                "public partial record Model", "public partial struct Model")
            select "using Gen;\n" + ns + model + "\n" + string.Join("\n", attributes) + "\n" + header + " { }\n";

        // ---- files -------------------------------------------------------------------------------------------------

        private static readonly Gen<float> Weight = Any.Frequency((8, Any.Double[-1, 1].Select(d => (float)d)),
            (1, Any.OneOf(Any.Const(float.NaN), Any.Const(float.PositiveInfinity), Any.Const(1e30f), Any.Const(0f), Any.Const(-1e-40f))));

        private static readonly Gen<byte[]> WeightsFile =
            (from name in Literals("fc1", "fc2", "layer1", "embed", "blocks.0.attn.q", "blocks.0.norm1", "norm", "head", "")
             from suffix in Literals(".weight", ".bias", ".weight_scale", ".position", "")
             from dtype in Literals("F32", "F32", "I8", "I32", "F16")
             from shape in Any.Frequency((4, Any.Int[1, 9]), (1, Any.Int[0, 0])).Array[0, 3]
             from values in Weight.Array[shape.Aggregate(1, (a, b) => a * b)]
             select (Name: name + suffix, DType: dtype, Shape: shape, Values: values))
            .Array[0, 8]
            .Select(tensors =>
            {
                var writer = new SafeTensorsWriter();
                foreach (var group in tensors.GroupBy(t => t.Name)) // one tensor per name, as the format requires
                {
                    var t = group.First();
                    byte[] data = t.DType switch
                    {
                        "F32" => t.Values.SelectMany(BitConverter.GetBytes).ToArray(),
                        "I8" => t.Values.Select(v => unchecked((byte)(sbyte)Math.Clamp(float.IsNaN(v) ? 0 : v * 127, -128, 127))).ToArray(),
                        "I32" => t.Values.SelectMany(v => BitConverter.GetBytes((int)Math.Clamp(float.IsNaN(v) ? 0 : v * 1e5, -1e9, 1e9))).ToArray(),
                        _ => new byte[t.Values.Length * 2],
                    };
                    writer.Raw(t.Name, t.DType, data, t.Shape);
                }

                return writer.ToBytes();
            });

        private static readonly Gen<string> CalibrationFile =
            (from name in Literals("input", "fc1", "fc2", "layer1", "head", "norm", "pool", "embed", "embed.patch", "blocks.0.attn.q", "x")
             from scale in Literals("0.02", "0", "-1", "NaN", "Infinity", "1e-45", "3.5e38", "0.0039215689", "abc")
             from zeroPoint in Literals("0", "-128", "127", "1000", "-2147483648", "1.5")
             from range in Literals("", " 0 1", " -1 1 2")
             select $"{name} {scale} {zeroPoint}{range}\n")
            .Array[0, 6].Select(lines => string.Concat(lines));

        private static readonly Gen<Input> FromScratch =
            from source in Declaration
            from weights in Any.Frequency((4, WeightsFile.Select(w => (byte[]?)w)), (1, Any.Const((byte[]?)null)))
            from calibration in Any.Frequency((1, CalibrationFile.Select(c => (string?)c)), (2, Any.Const((string?)null)))
            select new Input(source, weights, calibration);

        // ---- valid models with one or two literals changed ---------------------------------------------------------

        private static readonly Regex Number = new(@"(?<![\w.])-?\d+(\.\d+)?(E-?\d+)?f?(?![\w.])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private static readonly Lazy<RandomTransformer> Vit = new(() => RandomTransformer.Create(new Random(5), image: 8, patch: 4, width: 8, heads: 2, feedForward: 8, outputs: 3));

        private static readonly Gen<Input> Mutated =
            from transformer in Any.Frequency((3, Any.Const(false)), (1, Any.Const(true)))
            from sizes in Any.Int[1, 12].Array[2, 3]
            from seed in Any.Int[0, 1000]
            from edits in Any.Select(Any.Int[0, 1000], Any.Frequency((1, IntLiteral), (1, FloatLiteral))).Array[0, 2]
            select Edit(transformer, sizes, seed, edits);

        private static Input Edit(bool transformer, int[] sizes, int seed, (int At, string Literal)[] edits)
        {
            string source;
            byte[] weights;
            string? calibration = null;
            if (transformer)
            {
                // The transformer's scales are in its calibration file, named as its weights are.
                source = Vit.Value.Source(inlineScales: true).Replace("weights/vit.safetensors", "weights/model.safetensors");
                weights = Vit.Value.Weights;
            }
            else
            {
                var model = RandomModel.Create(new Random(seed), sizes);
                (source, weights) = (model.Source, model.Weights);
            }

            foreach (var (at, literal) in edits)
            {
                var numbers = Number.Matches(source);
                if (numbers.Count == 0) break;
                var match = numbers[at % numbers.Count];
                source = source.Substring(0, match.Index) + literal + source.Substring(match.Index + match.Length);
            }

            return new Input(source, weights, calibration);
        }

        [Fact]
        public void TheGeneratorNeverThrowsOnGeneratedInput()
        {
            int emitted = 0;
            Any.Frequency((3, FromScratch), (2, Mutated)).Sample(input =>
            {
                var texts = input.Calibration is null ? Array.Empty<(string, string)>() : new[] { (CalibrationPath, input.Calibration) };
                var weights = input.Weights is null ? Array.Empty<(string, byte[])>() : new[] { (WeightsPath, input.Weights) };
                var run = GeneratorHarness.Run(input.Source, texts, weights);
                var result = run.Driver.GetRunResult();
                Assert.All(result.Results, r => Assert.True(r.Exception is null, "the generator threw: " + r.Exception));
                var failure = run.GeneratorDiagnostics.Concat(result.Diagnostics).FirstOrDefault(d => d.Id is "GEN099" or "CS8784" or "CS8785");
                Assert.True(failure is null, failure?.ToString());
                if (result.GeneratedTrees.IsEmpty) return;
                System.Threading.Interlocked.Increment(ref emitted);
                // Generated code must compile (unless the declaration itself does not parse).
                if (run.Output.SyntaxTrees.First().GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) return;
                var generated = result.GeneratedTrees.ToHashSet();
                var error = run.Output.GetDiagnostics().FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree is { } t && generated.Contains(t));
                Assert.True(error is null, "the generated code does not compile: " + error);
            }, iter: 120, print: input => input.ToString());
            // The generated inputs reach the emitter, not only the diagnostics.
            Assert.True(emitted > 5, $"only {emitted} of the generated inputs produced code");
        }
    }
}
