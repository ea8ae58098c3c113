using System.Collections.Generic;

namespace Gen.Runtime.Graph
{
    /// <summary>How a BERT encoder turns its token rows into one sentence embedding.</summary>
    public enum BertPooling
    {
        /// <summary>No pooling: the model's output is the last hidden state, one row per token.</summary>
        None,

        /// <summary>The mean of the rows of the real tokens, padding left out (sentence-transformers' mean pooling).</summary>
        Mean,

        /// <summary>The first row, the <c>[CLS]</c> token's.</summary>
        Cls,
    }

    /// <summary>
    /// A BERT encoder as Hugging Face's <c>BertModel</c> computes it, with the numbers a declaration gives and the weights
    /// must agree with.
    /// </summary>
    /// <param name="Vocabulary">Rows of the word embedding table.</param>
    /// <param name="Positions">Rows of the position embedding table (the most tokens the checkpoint knows).</param>
    /// <param name="Segments">Rows of the token type table (2 for BERT).</param>
    /// <param name="Tokens">Tokens the model reads (at most <paramref name="Positions"/>): shorter sentences are padded.</param>
    /// <param name="Layers">Encoder layers.</param>
    /// <param name="Heads">Attention heads per layer.</param>
    /// <param name="Width">Hidden width.</param>
    /// <param name="FeedForward">Inner width of the feed-forward block.</param>
    /// <param name="Epsilon">The LayerNorms' epsilon (1e-12 in BERT).</param>
    /// <param name="Pooling">How the rows become one embedding.</param>
    /// <param name="Normalize">Whether the embedding is divided by its L2 norm.</param>
    /// <param name="WideResidual">Whether the residual stream (the output projections, residual adds and LayerNorms) is
    /// wide, INT32 at 16 bits of resolution (<see cref="GraphValue.IsWide"/>), with INT8 narrowings for the matrix products.
    /// Its outliers leave INT8 a handful of levels for the bulk of the values: all-MiniLM-L6-v2's embeddings keep a cosine of
    /// about 0.85 to the float model's in INT8 (docs/bert.md).</param>
    public sealed record BertShape(int Vocabulary, int Positions, int Segments, int Tokens, int Layers, int Heads, int Width, int FeedForward,
        float Epsilon = 1e-12f, BertPooling Pooling = BertPooling.Mean, bool Normalize = false, bool WideResidual = true)
    {
        /// <summary>The name of the graph input: the token ids.</summary>
        public const string InputIds = "input_ids";

        /// <summary>The tensor prefix of encoder layer <paramref name="layer"/>: <c>encoder.layer.{layer}</c>.</summary>
        public static string LayerPrefix(int layer) => "encoder.layer." + Text.Int(layer);

        /// <summary>The activation that is the last hidden state (the last layer's output LayerNorm).</summary>
        public string LastHiddenState => LayerPrefix(Layers - 1) + "." + EncoderNames.Bert.Norm2;
    }

    /// <summary>
    /// Turns a <see cref="BertShape"/> into a graph: the token ids, the summed word, position and segment embeddings and
    /// their LayerNorm, the post-LayerNorm encoder layers (<see cref="EncoderBlock"/> with <see cref="EncoderNames.Bert"/>),
    /// then the pooling and the optional L2 normalization. Tensors carry Hugging Face's names
    /// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>, ...).
    /// </summary>
    public static class BertFrontend
    {
        /// <summary>The word table's prefix; its node is the embeddings' lookup.</summary>
        public const string Words = "embeddings.word_embeddings";

        /// <summary>The summed embeddings, before their LayerNorm.</summary>
        public const string Embeddings = "embeddings";

        /// <summary>The embeddings' LayerNorm.</summary>
        public const string EmbeddingNorm = "embeddings.LayerNorm";

        /// <summary>The pooled embedding.</summary>
        public const string Pooled = "pooling";

        /// <summary>The normalized embedding.</summary>
        public const string Normalized = "normalize";

        /// <summary>
        /// The declared parts in origin order: the input, the embeddings, each encoder layer, the pooling, the
        /// normalization. Node origins index this list.
        /// </summary>
        public static IReadOnlyList<string> Parts(BertShape shape)
        {
            var parts = new List<string> { BertShape.InputIds, Embeddings };
            for (int l = 0; l < shape.Layers; l++) parts.Add(BertShape.LayerPrefix(l));
            parts.Add(Pooled);
            parts.Add(Normalized);
            return parts;
        }

        /// <summary>Builds the graph; declaration problems go to <paramref name="problems"/>.</summary>
        public static ModelGraph Build(BertShape shape, ProblemList? problems = null)
        {
            var b = new GraphBuilder(problems);
            const int input = 0, embeddings = 1;
            int pool = 2 + shape.Layers, normalize = 3 + shape.Layers;
            if (shape.Tokens <= 0) b.Invalid(input, $"The model must read at least one token (got {Text.Int(shape.Tokens)}).");
            if (shape.Layers <= 0 || shape.Layers > 1024) b.Invalid(embeddings, $"A BERT encoder has 1 to 1024 layers (got {Text.Int(shape.Layers)}).");
            if (shape.Width <= 0 || shape.Vocabulary <= 0) b.Invalid(embeddings, $"The width and vocabulary must be positive (got {Text.Int(shape.Width)} and {Text.Int(shape.Vocabulary)}).");
            if (!(shape.Epsilon > 0 && shape.Epsilon < 1)) b.Invalid(embeddings, $"The LayerNorm epsilon must be in (0, 1) (got {shape.Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");

            int ids = b.TokenIds(BertShape.InputIds, System.Math.Max(shape.Tokens, 1));
            if (b.Problems.Any) return b.Build(ids);
            int x = b.Embedding(ids, Words, shape.Vocabulary, shape.Width, "embeddings.position_embeddings.weight", shape.Positions,
                "embeddings.token_type_embeddings.weight", shape.Segments, embeddings, Embeddings);
            x = shape.WideResidual ? b.Widen(b.LayerNorm(x, EmbeddingNorm, embeddings, shape.Epsilon, EncoderBlock.WideName(EmbeddingNorm)))
                : b.LayerNorm(x, EmbeddingNorm, embeddings, shape.Epsilon);
            for (int l = 0; l < shape.Layers; l++)
            {
                var layer = new EncoderLayerDeclaration(BertShape.LayerPrefix(l), shape.Heads, shape.FeedForward, NormPlacement.Post, shape.Epsilon,
                    shape.WideResidual);
                x = EncoderBlock.Add(b, x, layer, EncoderNames.Bert, 2 + l);
            }

            // The pooling (and a model's output) reads the last hidden state as INT8.
            x = EncoderBlock.Int8(b, x, 1 + shape.Layers);

            if (shape.Pooling == BertPooling.Mean) x = b.MeanPool(x, Pooled, pool);
            else if (shape.Pooling == BertPooling.Cls) x = b.ClsToken(x, Pooled, pool);
            if (shape.Normalize) x = b.L2Normalize(x, Normalized, normalize);
            return b.Build(x);
        }
    }
}
