using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Transformer;

namespace Gen.Tests.Support
{
    /// <summary>
    /// A random vision transformer for differential tests: float weights (<see cref="TransformerModels.Random"/>), the
    /// quantization of every activation (calibrated by <see cref="NaiveTransformer"/>, the double-precision forward pass,
    /// over random images), its declaration and its reference interpreter.
    /// </summary>
    internal sealed class RandomTransformer
    {
        public required TransformerShape Shape { get; init; }
        public required byte[] Weights { get; init; }
        public required Dictionary<string, QuantizationParameters> Parameters { get; init; }
        public required ReferenceInterpreter Reference { get; init; }

        /// <summary>Lines of a quantization-parameter file for every activation.</summary>
        public string CalibrationText => string.Concat(Parameters.Select(p => string.Format(CultureInfo.InvariantCulture,
            "{0} {1} {2}\n", p.Key, p.Value.Scale.ToString("R", CultureInfo.InvariantCulture), p.Value.ZeroPoint)));

        public string Description => Shape.ToString();

        /// <summary>The declaration; scales come from the calibration file unless <paramref name="inlineScales"/>.</summary>
        public string Source(string className = "Vit", bool inlineScales = false)
        {
            var s = new StringBuilder("using Gen;\nnamespace DiffTest;\n[QuantizedModel(\"weights/vit.safetensors\")]\n");
            var input = Parameters[TransformerNames.Input];
            s.Append(CultureInfo.InvariantCulture, $"[ModelInput({Shape.InputSize}, Scale = {RandomModel.F(input.Scale)}, ZeroPoint = {input.ZeroPoint})]\n");
            s.Append(CultureInfo.InvariantCulture,
                $"[PatchEmbedding({Literal(Shape.Embedding)}, {Shape.ImageHeight}, {Shape.ImageWidth}, {Shape.PatchSize}, {Shape.Width}, Channels = {Shape.Channels})]\n");
            foreach (var layer in Shape.Layers)
            {
                s.Append(CultureInfo.InvariantCulture, $"[EncoderLayer({Literal(layer.Prefix)}, Heads = {layer.Heads}, FeedForward = {layer.FeedForward})]\n");
            }

            s.Append(CultureInfo.InvariantCulture, $"[LayerNorm({Literal(Shape.FinalNorm)})]\n[MeanPool]\n");
            foreach (var dense in Shape.Head) s.Append(CultureInfo.InvariantCulture, $"[Dense({Literal(dense.Name)}, {dense.Outputs})]\n");
            if (inlineScales)
            {
                foreach (var p in Parameters.Where(p => p.Key != TransformerNames.Input))
                {
                    s.Append(CultureInfo.InvariantCulture, $"[Quantization({Literal(p.Key)}, {RandomModel.F(p.Value.Scale)}, {p.Value.ZeroPoint})]\n");
                }
            }

            s.Append(CultureInfo.InvariantCulture, $"public static partial class {className} {{ }}\n");
            return s.ToString();
        }

        /// <summary>A C# string literal of <paramref name="text"/> (any character: names with newlines are tested too).</summary>
        public static string Literal(string text) => "\"" + string.Concat(text.Select(c =>
            c == '"' || c == '\\' ? "\\" + c : c < 0x20 || c > 0x7e ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString())) + "\"";

        /// <param name="names">The tensor prefixes: the patch embedding, the encoder layers (each followed by
        /// <c>.0</c>, <c>.1</c>, ...), the final LayerNorm and the head layer.</param>
        public static RandomTransformer Create(Random rng, int image = 8, int channels = 1, int patch = 4, int width = 16,
            int heads = 2, int feedForward = 24, int layers = 1, int outputs = 5,
            (string Embedding, string Blocks, string Norm, string Head)? names = null)
        {
            var (embedding, blocks, norm, headName) = names ?? ("embed", "blocks", "norm", "head");
            var layerShapes = Enumerable.Range(0, layers).Select(i => new EncoderLayerShape($"{blocks}.{i}", heads, feedForward)).ToArray();
            var shape = new TransformerShape(image, image, channels, patch, width, embedding, layerShapes, norm,
                new[] { new HeadLayerShape(headName, outputs) });
            var (tensors, bytes) = TransformerModels.Random(shape, rng.Next());

            // Calibrate: the range of every activation over random images, widened to include 0.
            var ranges = new Dictionary<string, (double Min, double Max)>();
            var inputQuantization = new QuantizationParameters((float)(0.004 + 0.01 * rng.NextDouble()), rng.Next(-128, 0));
            for (int sample = 0; sample < 12; sample++)
            {
                var pixels = new double[shape.InputSize];
                for (int i = 0; i < pixels.Length; i++)
                {
                    int q = rng.Next(-128, 128);
                    pixels[i] = inputQuantization.Scale * (q - inputQuantization.ZeroPoint);
                }

                NaiveTransformer.Run(shape, tensors, pixels, (name, values) =>
                {
                    double min = Math.Min(0, values.Min()), max = Math.Max(0, values.Max());
                    ranges[name] = ranges.TryGetValue(name, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
                });
            }

            var parameters = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
            foreach (string name in TransformerNames.Activations(shape))
            {
                parameters[name] = name == TransformerNames.Input
                    ? inputQuantization
                    : QuantizationMath.ChooseAsymmetric(ranges[name].Min, ranges[name].Max);
            }

            var model = QuantizedGraph.Create(VisionTransformerFrontend.Build(shape), SafeTensorsFile.Parse(bytes), name => parameters[name]);
            return new RandomTransformer { Shape = shape, Weights = bytes, Parameters = parameters, Reference = new ReferenceInterpreter(model) };
        }
    }
}
