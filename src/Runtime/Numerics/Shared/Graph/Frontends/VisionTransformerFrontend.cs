using System.Collections.Generic;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Turns a <see cref="TransformerShape"/> into a graph: the image cut into patches (an im2col with stride = patch),
    /// the patch projection, the position embedding added, the pre-LayerNorm encoder layers (<see cref="EncoderBlock"/>),
    /// the final LayerNorm, mean pooling and the head's dense layers. Values and tensors carry
    /// <see cref="TransformerNames"/>.
    /// </summary>
    public static class VisionTransformerFrontend
    {
        /// <summary>
        /// The declared parts in origin order: node origins index this list (the input, the embedding, each encoder layer,
        /// the final LayerNorm, the pooling, each head layer), so a problem can point at the part's declaration.
        /// </summary>
        public static IReadOnlyList<string> Parts(TransformerShape shape)
        {
            var parts = new List<string> { TransformerNames.Input, shape.Embedding };
            foreach (var layer in shape.Layers) parts.Add(layer.Prefix);
            parts.Add(shape.FinalNorm);
            parts.Add(TransformerNames.Pool);
            foreach (var dense in shape.Head) parts.Add(dense.Name);
            return parts;
        }

        /// <summary>Builds the graph; shape problems go to <paramref name="problems"/>.</summary>
        public static ModelGraph Build(TransformerShape shape, ProblemList? problems = null, bool perChannel = true)
        {
            var b = new GraphBuilder(problems);
            int layers = shape.Layers.Count;
            const int embedding = 1;
            int finalNorm = 2 + layers, pool = 3 + layers, head = 4 + layers;
            string? tooLarge = shape.SizeProblem();
            if (tooLarge != null) b.Invalid(embedding, tooLarge);
            if (shape.Width <= 0) b.Invalid(embedding, $"The model width must be positive (got {Text.Int(shape.Width)}).");

            int image = b.Input(TransformerNames.Input, shape.InputSize);
            if (tooLarge != null) return b.Build(image);
            string embed = shape.Embedding;
            int tokens = shape.Tokens, width = System.Math.Max(shape.Width, 1);
            int patches = b.Im2Col(image, embed + ".patches", shape.Channels, shape.ImageHeight, shape.ImageWidth, shape.PatchSize, shape.PatchSize,
                embedding, embed + ".patches");
            int projected = b.Dense(patches, embed, width, FusedActivation.None, perChannel, embedding, TransformerNames.PatchOutput(embed),
                new[] { width, shape.Channels, shape.PatchSize, shape.PatchSize });
            int position = b.Constant(TransformerNames.Position(embed), new[] { tokens, width }, new[] { tokens, width }, new[] { 1, tokens, width });
            int x = b.Add(projected, position, TransformerNames.EmbeddingOutput(embed), "the position embedding add", embedding);

            for (int l = 0; l < layers; l++)
            {
                var declared = shape.Layers[l];
                x = EncoderBlock.Add(b, x, new EncoderLayerDeclaration(declared.Prefix, declared.Heads, declared.FeedForward), EncoderNames.VisionTransformer, 2 + l);
            }

            x = b.LayerNorm(x, shape.FinalNorm, finalNorm);
            x = b.MeanPool(x, TransformerNames.Pool, pool);
            for (int h = 0; h < shape.Head.Count; h++)
            {
                var dense = shape.Head[h];
                x = b.Dense(x, dense.Name, dense.Outputs, dense.Activation, perChannel, head + h);
            }

            return b.Build(x);
        }
    }
}
