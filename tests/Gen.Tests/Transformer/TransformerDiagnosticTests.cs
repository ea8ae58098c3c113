using System;
using System.Linq;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>The diagnostics of transformer declarations: each triggered, located at the attribute at fault.</summary>
    public partial class DiagnosticTests
    {
        private const string VitWeights = "/project/weights/vit.safetensors";
        private const string VitCalibration = "/project/weights/vit.calibration.txt";

        private static readonly Lazy<RandomTransformer> Vit = new(() => RandomTransformer.Create(new Random(61)));

        private static GeneratorRun RunVit(string source, byte[]? weights = null, bool withCalibration = true) =>
            GeneratorHarness.Run(source,
                withCalibration ? new[] { (VitCalibration, Vit.Value.CalibrationText) } : Array.Empty<(string, string)>(),
                (VitWeights, weights ?? Vit.Value.Weights));

        /// <summary>The weights file with one tensor dropped or replaced.</summary>
        private static byte[] VitWeightsWith(string name, float[]? values, params int[] shape)
        {
            var file = SafeTensorsFile.Parse(Vit.Value.Weights);
            var writer = new SafeTensorsWriter();
            foreach (var (key, tensor) in file.Tensors.OrderBy(t => t.Value.Offset))
            {
                if (key != name) writer.F32(key, file.ReadFloat32(tensor), tensor.Shape);
                else if (values != null) writer.F32(key, values, shape);
            }

            return writer.ToBytes();
        }

        [Fact]
        public void Transformer_ValidDeclarationGenerates()
        {
            var run = RunVit(Vit.Value.Source());
            Assert.Empty(run.Errors);
            var summary = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "GEN100");
            // 8x8 image, 4x4 patches: 4 tokens of width 16; embed 16x16 + one layer (4 x 16x16 + 2 x 16x24) + head 16x5 = 2128 weights.
            Assert.StartsWith("Model 'Vit': vision transformer, 4 tokens of width 16, 1 encoder layers, 8 dense layers, 2128 INT8 weights",
                Message(summary), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen011_TransformerWithoutPatchEmbedding()
        {
            string source = Vit.Value.Source().Replace("[PatchEmbedding(\"embed\", 8, 8, 4, 16, Channels = 1)]\n", "", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "QuantizedModel", "declares no patch embedding");
        }

        [Fact]
        public void Gen011_TransformerWithoutPooling()
        {
            string source = Vit.Value.Source().Replace("[MeanPool]\n", "", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "QuantizedModel", "declares no pooling");
        }

        [Fact]
        public void Gen011_HeadsDoNotDivideTheWidth()
        {
            string source = Vit.Value.Source().Replace("Heads = 2", "Heads = 3", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "EncoderLayer(\"blocks.0\"", "3 heads do not divide the width 16");
        }

        [Fact]
        public void Gen011_HeadSizeDisagreesWithTheWidth()
        {
            string source = Vit.Value.Source().Replace("Heads = 2, ", "Heads = 2, HeadSize = 6, ", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "EncoderLayer(\"blocks.0\"", "2 heads of HeadSize 6 make 12 features, but the model width is 16");
        }

        [Fact]
        public void Transformer_MatchingHeadSizeIsAccepted()
        {
            var run = RunVit(Vit.Value.Source().Replace("Heads = 2, ", "Heads = 2, HeadSize = 8, ", StringComparison.Ordinal));
            Assert.Empty(run.Errors);
        }

        [Fact]
        public void Gen011_EncoderLayerWithoutHeads()
        {
            string source = Vit.Value.Source().Replace("Heads = 2, ", "", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "EncoderLayer(\"blocks.0\"", "needs Heads");
        }

        [Fact]
        public void Gen011_PatchesDoNotTileTheImage()
        {
            string source = Vit.Value.Source().Replace("(\"embed\", 8, 8, 4, 16", "(\"embed\", 8, 8, 3, 16", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "PatchEmbedding", "The patch size 3 must divide");
        }

        [Fact]
        public void Gen011_InputSizeIsNotTheImage()
        {
            string source = Vit.Value.Source().Replace("[ModelInput(64,", "[ModelInput(65,", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "ModelInput(65", "The input has 65 values but [PatchEmbedding] declares a 1 x 8 x 8 image (64 values)");
        }

        [Fact]
        public void Gen011_QuantizationOfAnUnknownActivation()
        {
            string source = Vit.Value.Source().Replace("[MeanPool]", "[MeanPool]\n[Quantization(\"blocks.0.attn.qq\", 0.1f, 0)]", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN011", "Quantization(\"blocks.0.attn.qq\"", "'blocks.0.attn.qq', which is not an activation of this model");
        }

        [Fact]
        public void Gen004_EncoderLayerTensorMissing()
        {
            var weights = VitWeightsWith("blocks.0.attn.k.weight", null);
            Expect(RunVit(Vit.Value.Source(), weights), "GEN004", "EncoderLayer(\"blocks.0\"", "needs tensor 'blocks.0.attn.k.weight'");
        }

        [Fact]
        public void Gen005_PositionEmbeddingShape()
        {
            var weights = VitWeightsWith("embed.position", new float[5 * 16], 5, 16);
            Expect(RunVit(Vit.Value.Source(), weights), "GEN005", "PatchEmbedding", "Tensor 'embed.position' has shape [5, 16] but the model declares [4, 16] or [1, 4, 16]");
        }

        [Fact]
        public void Gen006_TransformerScaleMissing()
        {
            var d = Expect(RunVit(Vit.Value.Source(), withCalibration: false), "GEN006", "PatchEmbedding",
                "The scale of activation 'embed.patch' must be a positive, finite number; it is not set");
            Assert.Contains("[Quantization(\"embed.patch\"", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen006_ScaleFromAQuantizationAttributeIsChecked()
        {
            string source = Vit.Value.Source().Replace("[MeanPool]", "[MeanPool]\n[Quantization(\"blocks.0.attn.v\", -1f, 0)]", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN006", "Quantization(\"blocks.0.attn.v\"", "[Quantization] 'blocks.0.attn.v' scale must be a positive, finite number; it is -1");
        }

        [Fact]
        public void Gen013_ContextScaleTooFine()
        {
            // S_v / (256 S_context) >= 1: the attention context cannot be requantized.
            string source = Vit.Value.Source().Replace("[MeanPool]", "[MeanPool]\n[Quantization(\"blocks.0.attn.context\", 1E-07f, 0)]", StringComparison.Ordinal);
            Expect(RunVit(source), "GEN013", "EncoderLayer(\"blocks.0\"", "Attention of 'blocks.0'");
        }
    }
}
