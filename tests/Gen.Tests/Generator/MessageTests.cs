using System;
using System.Linq;
using System.Reflection;
using Gen.Runtime;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Messages that named the wrong cause or leaked exception details, and the transformer path reporting the same
    /// problems as the dense one under other IDs.
    /// </summary>
    public partial class DiagnosticTests
    {
        private const string OneLayerPreQuantized =
            "using Gen;\nnamespace DiagTest;\n[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
            "[Dense(\"fc1\", 3, OutputScale = 0.05f, OutputZeroPoint = -128)]\n" +
            "public static partial class Net { }\n";

        [Fact]
        public void Gen009_BlamesTheBiasWhenTheBiasIsTheCause()
        {
            // Four small INT8 weights per channel (256 x sum |w| = 2560 at most) and a bias near 2^31 in channel 0.
            var bytes = new SafeTensorsWriter()
                .I8("fc1.weight", new sbyte[] { 1, 2, 3, 4, 1, 1, 1, 1, 2, 2, 2, 2 }, 3, 4)
                .F32("fc1.weight_scale", new[] { 0.01f }, 1)
                .I32("fc1.bias", new[] { int.MaxValue - 5, 0, 0 }, 3).ToBytes();
            var d = Expect(Run(OneLayerPreQuantized, bytes), "GEN009", "Dense(\"fc1\"",
                "Layer 'fc1' channel 0: an INT32 accumulator can reach 2147486202 for some input, beyond 2^31 - 1: " +
                "the INT32 bias 2147483642 takes it there (the products of the K = 4 inputs reach at most 2560 = 256 x sum |w|): " +
                "quantize the bias again at the scale S_in * S_w, or lower it");
            Assert.DoesNotContain("too large for these weights", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen011_ABiasScaleThatUnderflowsSaysSo()
        {
            // 1e-45 (the smallest float) times the weight scale is 0 in float32: no bias can be quantized at that scale.
            var source = ValidSource.Replace("Scale = 0.02f", "Scale = 1e-45f", StringComparison.Ordinal);
            var d = Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "Dense(\"fc1\"",
                "Layer 'fc1': Bias 0.2: its scale S_in * S_w = 1E-45 x 0.003937008 underflows float32 to 0, so it cannot be quantized (the input or weight scale is far too small).");
            Assert.DoesNotContain("scale 0 ", Message(d), StringComparison.Ordinal);

            // A tiny but representable scale: the bias is too many steps for INT32, and the message gives the numbers.
            source = ValidSource.Replace("Scale = 0.02f", "Scale = 1e-30f", StringComparison.Ordinal);
            Expect(Run(source, ValidTensors().ToBytes()), "GEN011", "Dense(\"fc1\"",
                "Layer 'fc1': Bias 0.2 at scale S_in * S_w = 1E-30 x 0.003937008 = 3.937008E-33 is 5.08E+31 steps, beyond INT32 (the input or weight scale is too small for it).");
        }

        [Fact]
        public void Gen013_MessageEndsWithTheAdviceNotTheParameterName()
        {
            string source = Vit.Value.Source().Replace("[MeanPool]", "[MeanPool]\n[Quantization(\"blocks.0.attn.context\", 1E-07f, 0)]", StringComparison.Ordinal);
            var d = Expect(RunVit(source), "GEN013", "EncoderLayer(\"blocks.0\"", "Attention of 'blocks.0': the requantization multiplier ");
            Assert.EndsWith("must be in (0, 1); check the activation scales.", Message(d), StringComparison.Ordinal);
            Assert.DoesNotContain("Parameter", Message(d), StringComparison.Ordinal);
            Assert.DoesNotContain("Actual value", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen011_TransformerWeightThatIsNotFinite()
        {
            var values = new float[16 * 16];
            values[3] = float.NaN;
            var d = Expect(RunVit(Vit.Value.Source(), VitWeightsWith("blocks.0.attn.q.weight", values, 16, 16)), "GEN011", "EncoderLayer(\"blocks.0\"",
                "Layer 'blocks.0.attn.q': 'blocks.0.attn.q.weight' element 3 is NaN; weights must be finite");
            Assert.DoesNotContain("GEN013", d.Id, StringComparison.Ordinal);

            values = new float[5 * 16];
            values[70] = float.PositiveInfinity;
            Expect(RunVit(Vit.Value.Source(), VitWeightsWith("head.weight", values, 5, 16)), "GEN011", "Dense(\"head\"",
                "Layer 'head': 'head.weight' element 70 is Infinity; weights must be finite");
        }

        [Fact]
        public void Gen004_TransformerInt8WeightWithoutItsScale()
        {
            var file = SafeTensorsFile.Parse(Vit.Value.Weights);
            var writer = new SafeTensorsWriter();
            foreach (var (key, tensor) in file.Tensors.OrderBy(t => t.Value.Offset))
            {
                if (key == "blocks.0.ffn.fc1.weight") writer.I8(key, new sbyte[tensor.ElementCount], tensor.Shape);
                else writer.F32(key, file.ReadFloat32(tensor), tensor.Shape);
            }

            // Every dense layer, a transformer's included, reads INT8 weights as already quantized: they need their scales.
            Expect(RunVit(Vit.Value.Source(), writer.ToBytes()), "GEN004", "EncoderLayer(\"blocks.0\"",
                "Layer 'blocks.0.ffn.fc1' needs tensor 'blocks.0.ffn.fc1.weight_scale' but the weights file has no such tensor");
        }

        [Fact]
        public void Gen100_ListsTheKernelPathsTheModelHas()
        {
            foreach (var run in new[] { Run(ValidSource, ValidTensors().ToBytes()), RunVit(Vit.Value.Source()) })
            {
                Assert.Empty(run.Errors);
                string message = Message(Assert.Single(run.GeneratorDiagnostics, d => d.Id == "GEN100"));
                const string Prefix = "; kernel paths ", Suffix = ", the best the CPU supports chosen at run time (ActivePath)";
                Assert.EndsWith(Suffix, message, StringComparison.Ordinal);
                string listed = message.Substring(message.LastIndexOf(Prefix, StringComparison.Ordinal) + Prefix.Length);
                listed = listed.Substring(0, listed.Length - Suffix.Length);

                // Exactly the members of the generated KernelPath enum, best first.
                var tree = run.Driver.GetRunResult().GeneratedTrees.First(t => !t.FilePath.EndsWith(".Boundary.g.cs", StringComparison.Ordinal));
                var members = tree.GetRoot().DescendantNodes().OfType<EnumDeclarationSyntax>().Single(e => e.Identifier.ValueText == "KernelPath")
                    .Members.Select(m => m.Identifier.ValueText).Reverse().ToList();
                Assert.Equal(string.Join(", ", members.Take(members.Count - 1)) + " and " + members[^1], listed);
                // The harness compiles against .NET 10, which has AvxVnni: the VNNI paths are emitted and listed.
                Assert.Equal("AdvSimdDp, AdvSimd, Avx512Vnni, AvxVnni, Avx512, Avx2, Vector128 and Scalar", listed);
            }
        }
    }
}
