using System;

namespace Gen
{
    /// <summary>
    /// Declares the model as a vision transformer and its first step: the image (given by
    /// <see cref="ModelInputAttribute"/>, channel-major then row-major) is cut into square patches, each patch is
    /// projected to <c>width</c> features (tensors <c>{Name}.weight</c> [width, channels, patch, patch] as a PyTorch
    /// <c>Conv2d</c> saves it, or [width, channels * patch^2]; optional <c>{Name}.bias</c>), and the learned position
    /// embedding <c>{Name}.position</c> [tokens, width] is added. Then come the <see cref="EncoderLayerAttribute"/>s in
    /// order, the final <see cref="LayerNormAttribute"/>, <see cref="MeanPoolAttribute"/> and the head's
    /// <see cref="DenseAttribute"/>s.
    /// </summary>
    /// <example>
    /// <code>
    /// [QuantizedModel("mnist_vit.safetensors")]              // scales from mnist_vit.calibration.txt
    /// [ModelInput(784)]
    /// [PatchEmbedding("embed", 28, 28, 7, 64)]
    /// [EncoderLayer("blocks.0", Heads = 4, FeedForward = 128)]
    /// [EncoderLayer("blocks.1", Heads = 4, FeedForward = 128)]
    /// [LayerNorm("norm")]
    /// [MeanPool]
    /// [Dense("head", 10)]
    /// public static partial class MnistVit { }
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class PatchEmbeddingAttribute : Attribute
    {
        /// <summary>Declares the patch embedding whose tensors start with <paramref name="name"/>.</summary>
        public PatchEmbeddingAttribute(string name, int imageHeight, int imageWidth, int patchSize, int width)
        {
            Name = name;
            ImageHeight = imageHeight;
            ImageWidth = imageWidth;
            PatchSize = patchSize;
            Width = width;
        }

        /// <summary>The tensor prefix, e.g. <c>embed</c>.</summary>
        public string Name { get; }

        /// <summary>Image rows.</summary>
        public int ImageHeight { get; }

        /// <summary>Image columns.</summary>
        public int ImageWidth { get; }

        /// <summary>Side of a square patch; it must divide both image sides.</summary>
        public int PatchSize { get; }

        /// <summary>Features per token (the model width).</summary>
        public int Width { get; }

        /// <summary>Image channels (default 1).</summary>
        public int Channels { get; set; } = 1;

        /// <summary>Scale of the tokens after the position embedding (the <c>{Name}</c> activation). Leave it out to
        /// take it from the quantization-parameter file.</summary>
        public float OutputScale { get; set; }

        /// <summary>Zero point of the tokens after the position embedding.</summary>
        public int OutputZeroPoint { get; set; }
    }

    /// <summary>
    /// A pre-LayerNorm transformer encoder layer: <c>x = x + Out(MultiHeadAttention(Q, K, V of Norm1(x)))</c>, then
    /// <c>x = x + Fc2(GELU(Fc1(Norm2(x))))</c>. Its tensors are <c>{Prefix}.norm1</c>, <c>{Prefix}.attn.q</c>,
    /// <c>.attn.k</c>, <c>.attn.v</c>, <c>.attn.out</c>, <c>{Prefix}.norm2</c>, <c>{Prefix}.ffn.fc1</c> and
    /// <c>{Prefix}.ffn.fc2</c>, each with <c>.weight</c> and <c>.bias</c> (PyTorch <c>Linear</c> and <c>LayerNorm</c>).
    /// </summary>
    /// <remarks>
    /// The scales of its twelve activations (<c>{Prefix}.norm1</c>, <c>.attn.q</c>, <c>.attn.k</c>, <c>.attn.v</c>,
    /// <c>.attn.context</c>, <c>.attn.out</c>, <c>.attn.residual</c>, <c>.norm2</c>, <c>.ffn.fc1</c>, <c>.ffn.gelu</c>,
    /// <c>.ffn.fc2</c>, <c>.ffn.residual</c>) come from the quantization-parameter file, or from
    /// <see cref="QuantizationAttribute"/>s. Attention heads split the width into equal, consecutive slices; the
    /// attention scale 1/sqrt(head size) is folded into the Softmax constants.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class EncoderLayerAttribute : Attribute
    {
        /// <summary>Declares an encoder layer whose tensors start with <paramref name="prefix"/> (e.g. <c>blocks.0</c>).</summary>
        public EncoderLayerAttribute(string prefix) => Prefix = prefix;

        /// <summary>The tensor prefix.</summary>
        public string Prefix { get; }

        /// <summary>Attention heads; they must divide the width.</summary>
        public int Heads { get; set; }

        /// <summary>Hidden width of the feed-forward block.</summary>
        public int FeedForward { get; set; }

        /// <summary>Features per head (optional): when set, Gen checks that it is the width divided by
        /// <see cref="Heads"/>.</summary>
        public int HeadSize { get; set; }
    }

    /// <summary>
    /// The LayerNorm after the last encoder layer (tensors <c>{Name}.weight</c> = gamma and <c>{Name}.bias</c> = beta),
    /// computed in integers: exact mean and variance, integer square root, one reciprocal per token.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class LayerNormAttribute : Attribute
    {
        /// <summary>Declares the final LayerNorm whose tensors start with <paramref name="name"/>.</summary>
        public LayerNormAttribute(string name) => Name = name;

        /// <summary>The tensor prefix, e.g. <c>norm</c>.</summary>
        public string Name { get; }

        /// <summary>Scale of the output. Leave it out to take it from the quantization-parameter file.</summary>
        public float OutputScale { get; set; }

        /// <summary>Zero point of the output.</summary>
        public int OutputZeroPoint { get; set; }
    }

    /// <summary>Mean pooling over the tokens (the <c>pool</c> activation), feeding the head.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class MeanPoolAttribute : Attribute
    {
        /// <summary>Scale of the pooled vector. Leave it out to take it from the quantization-parameter file.</summary>
        public float OutputScale { get; set; }

        /// <summary>Zero point of the pooled vector.</summary>
        public int OutputZeroPoint { get; set; }
    }

    /// <summary>
    /// Sets the quantization of one named activation (a line of the quantization-parameter file, e.g.
    /// <c>blocks.0.attn.q</c>), overriding the file.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class QuantizationAttribute : Attribute
    {
        /// <summary>Sets activation <paramref name="name"/> to <paramref name="scale"/> and <paramref name="zeroPoint"/>.</summary>
        public QuantizationAttribute(string name, float scale, int zeroPoint)
        {
            Name = name;
            Scale = scale;
            ZeroPoint = zeroPoint;
        }

        /// <summary>The activation's name.</summary>
        public string Name { get; }

        /// <summary>Real value of one INT8 step (positive, finite).</summary>
        public float Scale { get; }

        /// <summary>The INT8 value that represents real 0, in [-128, 127].</summary>
        public int ZeroPoint { get; }
    }
}
