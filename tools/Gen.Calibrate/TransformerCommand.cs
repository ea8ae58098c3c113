using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Calibrate
{
    /// <summary>
    /// <c>gen-calibrate transformer</c>: builds a vision transformer's graph (<see cref="TransformerShape"/>,
    /// <see cref="VisionTransformerFrontend"/>) and its float model from the shape options, and hands them to
    /// <see cref="CalibrationPipeline"/>, the same pipeline as the MLP verb's: every activation calibrated, the
    /// quantization-parameter file <c>&lt;weights&gt;.calibration.txt</c> (<c>name scale zero_point min max</c>) the
    /// generator reads, the report with each activation's cosine similarity and the held-out accuracy, the histograms.
    /// </summary>
    public static class TransformerCommand
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The subcommand; its action writes to <paramref name="output"/> and reports usage errors on <paramref name="error"/>.</summary>
        public static Command Create(TextWriter output, TextWriter error)
        {
            var shared = new PipelineOptions("The float32 transformer (safetensors, PyTorch names).", "images", "percentile", "max");
            var image = new Option<string>("--image") { Description = "Image rows x columns x channels, e.g. 28x28x1 (data rows are CHW).", Required = true };
            var patch = new Option<int>("--patch") { Description = "Side of the square patches, in pixels.", Required = true };
            var width = new Option<int>("--width") { Description = "Features per token (the model width).", Required = true };
            var layers = new Option<string>("--layers") { Description = "Encoder layers in order, prefix:heads:feed-forward, e.g. blocks.0:4:128,blocks.1:4:128.", Required = true };
            var head = new Option<string>("--head") { Description = "Head layers in order, name:outputs[:activation], e.g. head:10.", Required = true };
            var embedding = new Option<string>("--embedding") { Description = "Tensor prefix of the patch projection and position embedding.", DefaultValueFactory = _ => "embed" };
            var norm = new Option<string>("--norm") { Description = "Tensor prefix of the final LayerNorm.", DefaultValueFactory = _ => "norm" };
            var command = new Command("transformer", "Calibrate the activations of a vision transformer (patch embedding, pre-LayerNorm encoder layers, mean pooling, dense head).");
            foreach (var option in shared.All) command.Options.Add(option);
            foreach (var option in new Option[] { image, patch, width, layers, head, embedding, norm }) command.Options.Add(option);

            command.SetAction(result => CalibrateCommand.Guard(error, () =>
            {
                var shape = ParseShape(result.GetValue(image)!, result.GetValue(patch), result.GetValue(width), result.GetValue(embedding)!,
                    result.GetValue(layers)!, result.GetValue(norm)!, result.GetValue(head)!);
                var settings = shared.Read(result);
                return CalibrationPipeline.Run(settings, VisionTransformer(settings.Weights, shape), shape.ToString(), "images", output);
            }));
            return command;
        }

        /// <summary>Builds the shape from the options; every malformed value is a <see cref="UsageException"/> naming it.</summary>
        public static TransformerShape ParseShape(string image, int patch, int width, string embedding, string layers, string norm, string head)
        {
            string[] sides = image.Split('x', 'X');
            var dims = new int[3];
            bool valid = sides.Length == 3;
            for (int i = 0; valid && i < 3; i++) valid = int.TryParse(sides[i], NumberStyles.None, Invariant, out dims[i]) && dims[i] > 0;
            if (!valid) throw new UsageException($"--image '{image}' is not rows x columns x channels, e.g. 28x28x1.");

            var encoder = new List<EncoderLayerShape>();
            foreach (string raw in layers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = raw.Split(':');
                if (parts.Length != 3 || parts[0].Length == 0
                    || !int.TryParse(parts[1], NumberStyles.None, Invariant, out int heads) || heads <= 0
                    || !int.TryParse(parts[2], NumberStyles.None, Invariant, out int feedForward) || feedForward <= 0)
                {
                    throw new UsageException($"--layers: '{raw}' is not prefix:heads:feed-forward, e.g. blocks.0:4:128.");
                }

                encoder.Add(new EncoderLayerShape(parts[0], heads, feedForward));
            }

            IReadOnlyList<DenseLayerSpec> dense;
            try
            {
                dense = DenseLayerSpec.ParseList(head);
            }
            catch (FormatException e)
            {
                throw new UsageException("--head: " + e.Message);
            }

            var shape = new TransformerShape(dims[0], dims[1], dims[2], patch, width, embedding, encoder, norm,
                dense.Select(d => new HeadLayerShape(d.Name, d.Outputs, d.Activation)).ToArray());
            string? problem = shape.Validate();
            if (problem != null) throw new UsageException(problem);
            return shape;
        }

        // The transformer's graph (VisionTransformerFrontend) and its float model.
        private static FloatModel VisionTransformer(string weightsPath, TransformerShape shape)
        {
            var file = CalibrationPipeline.ReadWeights(weightsPath);
            try
            {
                var problems = new ProblemList();
                var graph = VisionTransformerFrontend.Build(shape, problems);
                problems.ThrowIfAny();
                return new FloatModel(graph, file);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(CalibrationPipeline.Message(e));
            }
        }
    }
}
