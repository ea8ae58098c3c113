using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning.Frontends
{
    /// <summary>
    /// A vision transformer's attributes ([PatchEmbedding], [EncoderLayer]s, [LayerNorm], [MeanPool], the head's [Dense]s,
    /// [Quantization] overrides) through <see cref="VisionTransformerFrontend"/>.
    /// </summary>
    internal static class VisionTransformerDeclaration
    {
        public static DeclaredGraph? Build(ModelSpec spec, ProblemList problems, List<DiagnosticInfo> diagnostics)
        {
            var t = spec.Transformer!;
            var e = t.Embedding!;
            var input = spec.Input!;
            var shape = Shape(spec);
            var graph = VisionTransformerFrontend.Build(shape, problems);
            // Origins in VisionTransformerFrontend.Parts order: input, embedding, layers, final norm, pool, head.
            var origins = new List<LocationInfo?> { input.Location, e.Location };
            origins.AddRange(t.Layers.Select(l => l.Location));
            origins.Add(t.FinalNorm!.Location);
            // A pooling problem is the final LayerNorm's output scale against the pool's: it points where the old model did.
            origins.Add(t.FinalNorm.Location);
            origins.AddRange(spec.Layers.Select(l => l.Location));

            if (shape.SizeProblem() is null && shape.InputSize != input.Size)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, input.Location, string.Format(CultureInfo.InvariantCulture,
                    "The input has {0} values but [PatchEmbedding] declares a {1} x {2} x {3} image ({4} values)",
                    input.Size, shape.Channels, shape.ImageHeight, shape.ImageWidth, shape.InputSize)));
            }

            var known = new HashSet<string>(graph.Activations(), StringComparer.Ordinal);
            foreach (var o in t.Overrides.Where(o => !known.Contains(o.Name)))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, o.Location,
                    $"[Quantization] names '{o.Name}', which is not an activation of this model (they are: {string.Join(", ", known.Take(14))}, ...)"));
            }

            return new DeclaredGraph(graph, origins.ToArray(), Requests(spec));
        }

        /// <summary>The declared architecture as the shared code describes it.</summary>
        internal static TransformerShape Shape(ModelSpec spec)
        {
            var t = spec.Transformer!;
            var e = t.Embedding!;
            return new TransformerShape(e.ImageHeight, e.ImageWidth, e.Channels, e.PatchSize, e.Width, e.Name,
                t.Layers.Select(l => new EncoderLayerShape(l.Prefix, l.Heads, l.FeedForward)).ToArray(), t.FinalNorm!.Name,
                spec.Layers.Select(d => new HeadLayerShape(d.Name, d.Outputs, (FusedActivation)d.Activation)).ToArray());
        }

        /// <summary>Every activation with what the attributes say about it and where a missing value is reported.</summary>
        private static List<QuantizationSpec> Requests(ModelSpec spec)
        {
            var t = spec.Transformer!;
            var overrides = t.Overrides.ToDictionary(o => o.Name, StringComparer.Ordinal);
            var requests = new List<QuantizationSpec>();
            void Add(string name, float? scale, int? zeroPoint, LocationInfo? location)
            {
                if (overrides.TryGetValue(name, out var o)) requests.Add(o);
                else requests.Add(new QuantizationSpec(name, scale, zeroPoint, location));
            }

            var e = t.Embedding!;
            Add(TransformerNames.Input, spec.Input!.Scale, spec.Input.ZeroPoint, spec.Input.Location);
            Add(TransformerNames.PatchOutput(e.Name), null, null, e.Location);
            Add(TransformerNames.EmbeddingOutput(e.Name), e.OutputScale, e.OutputZeroPoint, e.Location);
            foreach (var layer in t.Layers)
            {
                foreach (string name in TransformerNames.LayerActivations(layer.Prefix)) Add(name, null, null, layer.Location);
            }

            Add(t.FinalNorm!.Name, t.FinalNorm.Scale, t.FinalNorm.ZeroPoint, t.FinalNorm.Location);
            Add(TransformerNames.Pool, t.Pool!.Scale, t.Pool.ZeroPoint, t.Pool.Location);
            foreach (var dense in spec.Layers) Add(dense.Name, dense.OutputScale, dense.OutputZeroPoint, dense.Location);
            return requests;
        }
    }
}
