using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>
    /// One pre-LayerNorm encoder layer of a vision transformer:
    /// <c>x = x + Out(Attention(Q, K, V of Norm1(x)))</c>, then <c>x = x + Fc2(GELU(Fc1(Norm2(x))))</c>.
    /// Its tensors and activations are named after <see cref="Prefix"/> (see <see cref="TransformerNames"/>).
    /// </summary>
    public sealed class EncoderLayerShape : IEquatable<EncoderLayerShape>
    {
        /// <summary>Declares a layer whose tensors start with <paramref name="prefix"/> (e.g. <c>blocks.0</c>).</summary>
        public EncoderLayerShape(string prefix, int heads, int feedForward)
        {
            Prefix = prefix;
            Heads = heads;
            FeedForward = feedForward;
        }

        /// <summary>The tensor-name prefix, e.g. <c>blocks.0</c>.</summary>
        public string Prefix { get; }

        /// <summary>Attention heads; the model width must be a multiple of it.</summary>
        public int Heads { get; }

        /// <summary>Hidden width of the feed-forward block.</summary>
        public int FeedForward { get; }

        /// <inheritdoc />
        public bool Equals(EncoderLayerShape? other) =>
            other is not null && Prefix == other.Prefix && Heads == other.Heads && FeedForward == other.FeedForward;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as EncoderLayerShape);

        /// <inheritdoc />
        public override int GetHashCode() => (Prefix.GetHashCode() * 31 + Heads) * 31 + FeedForward;
    }

    /// <summary>A dense layer of the classifier head, applied to the pooled token.</summary>
    public sealed class HeadLayerShape : IEquatable<HeadLayerShape>
    {
        /// <summary>Declares a head layer with tensors <c>{name}.weight</c> [outputs, inputs] and <c>{name}.bias</c>.</summary>
        public HeadLayerShape(string name, int outputs, FusedActivation activation = FusedActivation.None)
        {
            Name = name;
            Outputs = outputs;
            Activation = activation;
        }

        /// <summary>The tensor prefix.</summary>
        public string Name { get; }

        /// <summary>Output features.</summary>
        public int Outputs { get; }

        /// <summary>The activation fused into the output clamp.</summary>
        public FusedActivation Activation { get; }

        /// <inheritdoc />
        public bool Equals(HeadLayerShape? other) =>
            other is not null && Name == other.Name && Outputs == other.Outputs && Activation == other.Activation;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as HeadLayerShape);

        /// <inheritdoc />
        public override int GetHashCode() => (Name.GetHashCode() * 31 + Outputs) * 31 + (int)Activation;
    }

    /// <summary>
    /// The architecture of a vision transformer classifier (ViT, pre-LayerNorm): the image is cut into square
    /// patches, each patch is projected to <see cref="Width"/> features and a learned position embedding is added;
    /// the tokens go through the encoder layers, a final LayerNorm and mean pooling over tokens; the head turns the
    /// pooled vector into the outputs.
    /// </summary>
    /// <remarks>
    /// The input is one image of <see cref="Channels"/> x <see cref="ImageHeight"/> x <see cref="ImageWidth"/> values,
    /// channel-major then row-major (PyTorch's CHW). Token t is the patch at grid row <c>t / (ImageWidth / PatchSize)</c>
    /// and column <c>t % (ImageWidth / PatchSize)</c>; its features are ordered (channel, row in patch, column in patch),
    /// the order of a <c>Conv2d(kernel = stride = PatchSize)</c> weight flattened to [Width, Channels * PatchSize^2].
    /// Attention head h uses features <c>h * HeadSize</c> to <c>(h + 1) * HeadSize - 1</c> of Q, K and V.
    /// </remarks>
    public sealed class TransformerShape : IEquatable<TransformerShape>
    {
        /// <summary>Describes a vision transformer.</summary>
        public TransformerShape(int imageHeight, int imageWidth, int channels, int patchSize, int width, string embedding,
            IReadOnlyList<EncoderLayerShape> layers, string finalNorm, IReadOnlyList<HeadLayerShape> head)
        {
            ImageHeight = imageHeight;
            ImageWidth = imageWidth;
            Channels = channels;
            PatchSize = patchSize;
            Width = width;
            Embedding = embedding;
            Layers = layers;
            FinalNorm = finalNorm;
            Head = head;
        }

        /// <summary>Image rows.</summary>
        public int ImageHeight { get; }

        /// <summary>Image columns.</summary>
        public int ImageWidth { get; }

        /// <summary>Image channels (1 for grey).</summary>
        public int Channels { get; }

        /// <summary>Side of a square patch, in pixels.</summary>
        public int PatchSize { get; }

        /// <summary>Features per token (the model width, d_model).</summary>
        public int Width { get; }

        /// <summary>Tensor prefix of the patch projection and position embedding (e.g. <c>embed</c>).</summary>
        public string Embedding { get; }

        /// <summary>The encoder layers in order.</summary>
        public IReadOnlyList<EncoderLayerShape> Layers { get; }

        /// <summary>Tensor prefix of the LayerNorm before pooling (e.g. <c>norm</c>).</summary>
        public string FinalNorm { get; }

        /// <summary>The classifier head's dense layers, applied to the mean of the tokens.</summary>
        public IReadOnlyList<HeadLayerShape> Head { get; }

        /// <summary>Values per input image.</summary>
        public int InputSize => Channels * ImageHeight * ImageWidth;

        /// <summary>Number of tokens (patches).</summary>
        public int Tokens => ImageHeight / PatchSize * (ImageWidth / PatchSize);

        /// <summary>Values per patch: Channels * PatchSize^2.</summary>
        public int PatchValues => Channels * PatchSize * PatchSize;

        /// <summary>Values per output row.</summary>
        public int OutputSize => Head.Count == 0 ? Width : Head[Head.Count - 1].Outputs;

        /// <summary>The most values one tensor of a model may hold: every index and length in Gen's code is an int.</summary>
        public const long MaxTensorValues = int.MaxValue;

        /// <summary>The product of the factors, saturated at <see cref="long.MaxValue"/> instead of wrapping around; 0 if one is not positive.</summary>
        public static long Product(params long[] factors)
        {
            long product = 1;
            foreach (long f in factors)
            {
                if (f <= 0) return 0;
                if (product > long.MaxValue / f) return long.MaxValue;
                product *= f;
            }

            return product;
        }

        private static string? TooLarge(string what, long values, string detail) => values <= MaxTensorValues ? null :
            string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "{0} would hold {1} values ({2}), more than the {3:N0} one tensor can hold.", what, values == long.MaxValue ? "more than 2^63" : values.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), detail, MaxTensorValues);

        /// <summary>
        /// The first buffer of this shape that would hold more than <see cref="MaxTensorValues"/> values, or null. Every size
        /// is an int in the generated code and in the buffers, so the products are computed here in 64 bits: one that
        /// wraps around (641 x 6700417 is 2^32 + 1) is refused instead of becoming a tiny model. Sides, widths and
        /// patch sizes that are not positive are <see cref="Validate"/>'s to report, and are skipped here.
        /// </summary>
        public string? SizeProblem()
        {
            // A patch, and all patches together, hold no more values than the image.
            long tokens = PatchSize <= 0 ? 0 : Product(ImageHeight / PatchSize, ImageWidth / PatchSize);
            string? problem = TooLarge("The image", Product(Channels, ImageHeight, ImageWidth), $"{Channels} x {ImageHeight} x {ImageWidth} values")
                ?? TooLarge("The token grid", Product(tokens, Width), $"{tokens} tokens of width {Width}");
            foreach (var layer in Layers)
            {
                problem ??= TooLarge($"Encoder layer '{layer.Prefix}''s feed-forward block", Product(tokens, layer.FeedForward), $"{tokens} tokens of width {layer.FeedForward}");
            }

            return problem;
        }

        /// <summary>The first problem with the shape's numbers, or null when it is consistent.</summary>
        public string? Validate()
        {
            if (ImageHeight <= 0 || ImageWidth <= 0 || Channels <= 0) return $"The image must have positive sides and channels (got {Channels} x {ImageHeight} x {ImageWidth}).";
            if (PatchSize <= 0 || ImageHeight % PatchSize != 0 || ImageWidth % PatchSize != 0)
            {
                return $"The patch size {PatchSize} must divide the image's {ImageHeight} rows and {ImageWidth} columns.";
            }

            if (Width <= 0) return $"The model width must be positive (got {Width}).";

            string? tooLarge = SizeProblem();
            if (tooLarge != null) return tooLarge;
            foreach (var layer in Layers)
            {
                if (layer.Heads <= 0 || Width % layer.Heads != 0)
                {
                    return $"Encoder layer '{layer.Prefix}': {layer.Heads} heads do not divide the width {Width}.";
                }

                if (layer.FeedForward <= 0) return $"Encoder layer '{layer.Prefix}': the feed-forward width must be positive (got {layer.FeedForward}).";
            }

            foreach (var dense in Head)
            {
                if (dense.Outputs <= 0) return $"Head layer '{dense.Name}' needs a positive number of outputs (got {dense.Outputs}).";
            }

            return null;
        }

        /// <inheritdoc />
        public bool Equals(TransformerShape? other)
        {
            if (other is null || ImageHeight != other.ImageHeight || ImageWidth != other.ImageWidth || Channels != other.Channels ||
                PatchSize != other.PatchSize || Width != other.Width || Embedding != other.Embedding || FinalNorm != other.FinalNorm ||
                Layers.Count != other.Layers.Count || Head.Count != other.Head.Count)
            {
                return false;
            }

            for (int i = 0; i < Layers.Count; i++) if (!Layers[i].Equals(other.Layers[i])) return false;
            for (int i = 0; i < Head.Count; i++) if (!Head[i].Equals(other.Head[i])) return false;
            return true;
        }

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as TransformerShape);

        /// <inheritdoc />
        public override int GetHashCode() => ((ImageHeight * 31 + ImageWidth) * 31 + PatchSize) * 31 + Width * 7 + Layers.Count;

        /// <summary>A one-line summary, e.g. <c>ViT 1x28x28, 7x7 patches (16 tokens), width 64, 2 layers, head 10</c>.</summary>
        public override string ToString() => string.Format(CultureInfo.InvariantCulture,
            "ViT {0}x{1}x{2}, {3}x{3} patches ({4} tokens), width {5}, {6} encoder layers, output {7}",
            Channels, ImageHeight, ImageWidth, PatchSize, Tokens, Width, Layers.Count, OutputSize);
    }

    /// <summary>
    /// The tensor names a vision transformer's weights file uses and the names of its activations (the lines of a
    /// quantization-parameter file). PyTorch modules named this way save exactly these tensors.
    /// </summary>
    public static class TransformerNames
    {
        /// <summary>The input image's activation name.</summary>
        public const string Input = "input";

        // --- Tensors (PyTorch state_dict keys) ---

        /// <summary>Patch projection weight, [Width, Channels, PatchSize, PatchSize] (Conv2d) or [Width, PatchValues] (Linear).</summary>
        public static string PatchWeight(string embedding) => embedding + ".weight";

        /// <summary>Patch projection bias, [Width] (optional).</summary>
        public static string PatchBias(string embedding) => embedding + ".bias";

        /// <summary>Learned position embedding, [Tokens, Width] (or [1, Tokens, Width]).</summary>
        public static string Position(string embedding) => embedding + ".position";

        /// <summary>Prefix of the first LayerNorm of an encoder layer (tensors <c>.weight</c> = gamma, <c>.bias</c> = beta).</summary>
        public static string Norm1(string layer) => layer + ".norm1";

        /// <summary>Prefix of the query projection (a Linear: <c>.weight</c> [Width, Width], <c>.bias</c>).</summary>
        public static string Query(string layer) => layer + ".attn.q";

        /// <summary>Prefix of the key projection.</summary>
        public static string Key(string layer) => layer + ".attn.k";

        /// <summary>Prefix of the value projection.</summary>
        public static string Value(string layer) => layer + ".attn.v";

        /// <summary>Prefix of the attention output projection.</summary>
        public static string AttentionOutput(string layer) => layer + ".attn.out";

        /// <summary>Prefix of the second LayerNorm of an encoder layer.</summary>
        public static string Norm2(string layer) => layer + ".norm2";

        /// <summary>Prefix of the first feed-forward Linear ([FeedForward, Width]).</summary>
        public static string Fc1(string layer) => layer + ".ffn.fc1";

        /// <summary>Prefix of the second feed-forward Linear ([Width, FeedForward]).</summary>
        public static string Fc2(string layer) => layer + ".ffn.fc2";

        // --- Activations (lines of the quantization-parameter file) ---

        /// <summary>The patch projection's output, before the position embedding.</summary>
        public static string PatchOutput(string embedding) => embedding + ".patch";

        /// <summary>The tokens entering the first encoder layer (patches plus positions).</summary>
        public static string EmbeddingOutput(string embedding) => embedding;

        /// <summary>Attention context: softmax(Q K^T / sqrt(d)) V, all heads side by side, before the output projection.</summary>
        public static string Context(string layer) => layer + ".attn.context";

        /// <summary>The tokens after the attention residual add.</summary>
        public static string AttentionResidual(string layer) => layer + ".attn.residual";

        /// <summary>GELU of the first feed-forward layer's output.</summary>
        public static string Gelu(string layer) => layer + ".ffn.gelu";

        /// <summary>The tokens after the feed-forward residual add: the encoder layer's output.</summary>
        public static string FeedForwardResidual(string layer) => layer + ".ffn.residual";

        /// <summary>The mean of the tokens after the final LayerNorm.</summary>
        public const string Pool = "pool";

        /// <summary>The twelve activations of the encoder layer <paramref name="prefix"/>, in the order it computes them.</summary>
        public static IReadOnlyList<string> LayerActivations(string prefix) => new[]
        {
            Norm1(prefix), Query(prefix), Key(prefix), Value(prefix), Context(prefix), AttentionOutput(prefix), AttentionResidual(prefix),
            Norm2(prefix), Fc1(prefix), Gelu(prefix), Fc2(prefix), FeedForwardResidual(prefix),
        };

        /// <summary>
        /// Every activation in the order the model computes it. A Linear's or LayerNorm's output is named by its
        /// prefix (e.g. <c>blocks.0.attn.q</c>, <c>blocks.0.norm1</c>, <c>norm</c>, <c>head</c>).
        /// </summary>
        public static IReadOnlyList<string> Activations(TransformerShape shape)
        {
            var names = new List<string> { Input, PatchOutput(shape.Embedding), EmbeddingOutput(shape.Embedding) };
            foreach (var layer in shape.Layers) names.AddRange(LayerActivations(layer.Prefix));

            names.Add(shape.FinalNorm);
            names.Add(Pool);
            foreach (var dense in shape.Head) names.Add(dense.Name);
            return names;
        }
    }
}
