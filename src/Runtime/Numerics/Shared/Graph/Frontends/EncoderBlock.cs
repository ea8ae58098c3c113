namespace Gen.Runtime.Graph
{
    /// <summary>Where an encoder layer's LayerNorms sit.</summary>
    public enum NormPlacement
    {
        /// <summary>Before each block (ViT, GPT-2): <c>y = x + Attn(Norm1(x))</c>, <c>x' = y + Ffn(Norm2(y))</c>.</summary>
        Pre,

        /// <summary>After each residual add (BERT): <c>y = Norm1(x + Attn(x))</c>, <c>x' = Norm2(y + Ffn(y))</c>.</summary>
        Post,
    }

    /// <summary>
    /// The tensor prefixes and activation names of one encoder layer, relative to the layer's prefix. A frontend picks the
    /// scheme its checkpoints use.
    /// </summary>
    /// <param name="Norm1">The first LayerNorm (before attention, or after its residual add).</param>
    /// <param name="Query">The query projection.</param>
    /// <param name="Key">The key projection.</param>
    /// <param name="Value">The value projection.</param>
    /// <param name="Context">The attention context (an activation).</param>
    /// <param name="AttentionOutput">The attention output projection.</param>
    /// <param name="AttentionResidual">The residual add after attention (an activation).</param>
    /// <param name="Norm2">The second LayerNorm.</param>
    /// <param name="Fc1">The first feed-forward projection.</param>
    /// <param name="Gelu">Its GELU (an activation).</param>
    /// <param name="Fc2">The second feed-forward projection.</param>
    /// <param name="FeedForwardResidual">The residual add after the feed-forward block (an activation).</param>
    public sealed record EncoderNames(string Norm1, string Query, string Key, string Value, string Context, string AttentionOutput,
        string AttentionResidual, string Norm2, string Fc1, string Gelu, string Fc2, string FeedForwardResidual)
    {
        /// <summary>Gen's ViT names (<see cref="TransformerNames"/>): <c>norm1</c>, <c>attn.q</c>, ..., <c>ffn.residual</c>.</summary>
        public static EncoderNames VisionTransformer { get; } = new EncoderNames("norm1", "attn.q", "attn.k", "attn.v", "attn.context", "attn.out",
            "attn.residual", "norm2", "ffn.fc1", "ffn.gelu", "ffn.fc2", "ffn.residual");

        /// <summary>
        /// Hugging Face's BERT names (<c>BertLayer</c>): <c>attention.self.query</c>, ..., <c>attention.output.LayerNorm</c>
        /// after the attention residual, <c>intermediate.dense</c>, <c>output.dense</c> and <c>output.LayerNorm</c>. The
        /// activations that have no module of their own are named beside their neighbours.
        /// </summary>
        public static EncoderNames Bert { get; } = new EncoderNames("attention.output.LayerNorm", "attention.self.query", "attention.self.key",
            "attention.self.value", "attention.self.context", "attention.output.dense", "attention.output.residual", "output.LayerNorm",
            "intermediate.dense", "intermediate.gelu", "output.dense", "output.residual");
    }

    /// <summary>One encoder layer as a frontend declares it.</summary>
    /// <param name="Prefix">The tensor prefix (<c>blocks.0</c>).</param>
    /// <param name="Heads">Attention heads; they must divide the width.</param>
    /// <param name="FeedForward">The feed-forward block's hidden width.</param>
    /// <param name="Norms">Pre- or post-LayerNorm.</param>
    /// <param name="Epsilon">The LayerNorms' epsilon in the float model (PyTorch's 1e-5; BERT's 1e-12).</param>
    /// <param name="WideResidual">Whether the residual stream is wide (INT32, <see cref="GraphValue.IsWide"/>): the output
    /// projections, the residual adds and the LayerNorms write it, and the matrix products read an INT8 narrowing of it
    /// (post-LayerNorm layers only).</param>
    public sealed record EncoderLayerDeclaration(string Prefix, int Heads, int FeedForward, NormPlacement Norms = NormPlacement.Pre,
        float Epsilon = LayerNormOp.DefaultEpsilon, bool WideResidual = false);

    /// <summary>
    /// Builds an encoder layer into a graph: attention (Q, K, V projections, <see cref="AttentionOp"/>, the output
    /// projection), the feed-forward block (dense, GELU, dense), two residual adds and two LayerNorms, pre or post. Every
    /// transformer frontend (the ViT now, BERT next) builds its layers here, so their order is written once.
    /// </summary>
    public static class EncoderBlock
    {
        /// <summary>The name of a LayerNorm's wide output, whose INT8 narrowing takes the LayerNorm's own name.</summary>
        public static string WideName(string norm) => norm + ".wide";

        /// <summary>
        /// The INT8 form of <paramref name="x"/>: x itself, or for a wide LayerNorm output its narrowing, named as the
        /// LayerNorm (so its calibration means what the INT8 LayerNorm's did).
        /// </summary>
        public static int Int8(GraphBuilder b, int x, int origin)
        {
            var value = b.Value(x);
            if (!value.IsWide) return x;
            string name = value.Name.EndsWith(".wide", System.StringComparison.Ordinal) ? value.Name.Substring(0, value.Name.Length - 5) : value.Name + ".int8";
            return b.Narrow(x, name, name, origin);
        }

        /// <summary>Adds the layer reading the residual stream <paramref name="x"/>; returns the layer's output.</summary>
        public static int Add(GraphBuilder b, int x, EncoderLayerDeclaration layer, EncoderNames names, int origin)
        {
            string p = layer.Prefix;
            string N(string relative) => p + "." + relative;
            int width = b.Value(x).Columns;
            if (layer.FeedForward <= 0) b.Invalid(origin, $"Encoder layer '{p}': the feed-forward width must be positive (got {Text.Int(layer.FeedForward)}).");
            bool pre = layer.Norms == NormPlacement.Pre;
            if (!pre && layer.WideResidual) return AddWidePost(b, x, layer, names, origin);

            int attentionIn = pre ? b.LayerNorm(x, N(names.Norm1), origin, layer.Epsilon) : x;
            int q = b.Dense(attentionIn, N(names.Query), width, FusedActivation.None, true, origin);
            int k = b.Dense(attentionIn, N(names.Key), width, FusedActivation.None, true, origin);
            int v = b.Dense(attentionIn, N(names.Value), width, FusedActivation.None, true, origin);
            int context = b.Attention(q, k, v, N(names.Context), layer.Heads, p, origin);
            int attended = b.Dense(context, N(names.AttentionOutput), width, FusedActivation.None, true, origin);
            int y = b.Add(x, attended, N(names.AttentionResidual), $"the attention residual add of '{p}'", origin);
            if (!pre) y = b.LayerNorm(y, N(names.Norm1), origin, layer.Epsilon);

            int feedIn = pre ? b.LayerNorm(y, N(names.Norm2), origin, layer.Epsilon) : y;
            int hidden = b.Dense(feedIn, N(names.Fc1), layer.FeedForward, FusedActivation.None, true, origin);
            int gelu = b.Gelu(hidden, N(names.Gelu), p, origin);
            int fed = b.Dense(gelu, N(names.Fc2), width, FusedActivation.None, true, origin);
            int output = b.Add(y, fed, N(names.FeedForwardResidual), $"the feed-forward residual add of '{p}'", origin);
            return pre ? output : b.LayerNorm(output, N(names.Norm2), origin, layer.Epsilon);
        }

        // A post-LayerNorm layer on a wide residual stream: x and the result are wide LayerNorm outputs; the products read
        // their INT8 narrowings, and the output projections write wide values straight into the wide adds.
        private static int AddWidePost(GraphBuilder b, int x, EncoderLayerDeclaration layer, EncoderNames names, int origin)
        {
            string p = layer.Prefix;
            string N(string relative) => p + "." + relative;
            int width = b.Value(x).Columns;
            int x8 = Int8(b, x, origin);
            int q = b.Dense(x8, N(names.Query), width, FusedActivation.None, true, origin);
            int k = b.Dense(x8, N(names.Key), width, FusedActivation.None, true, origin);
            int v = b.Dense(x8, N(names.Value), width, FusedActivation.None, true, origin);
            int context = b.Attention(q, k, v, N(names.Context), layer.Heads, p, origin);
            int attended = b.Widen(b.Dense(context, N(names.AttentionOutput), width, FusedActivation.None, true, origin));
            int y = b.Widen(b.Add(b.Value(x).IsWide ? x : x8, attended, N(names.AttentionResidual), $"the attention residual add of '{p}'", origin));
            y = b.Widen(b.LayerNorm(y, N(names.Norm1), origin, layer.Epsilon, WideName(N(names.Norm1))));

            int y8 = Int8(b, y, origin);
            int hidden = b.Dense(y8, N(names.Fc1), layer.FeedForward, FusedActivation.None, true, origin);
            int gelu = b.Gelu(hidden, N(names.Gelu), p, origin);
            int fed = b.Widen(b.Dense(gelu, N(names.Fc2), width, FusedActivation.None, true, origin));
            int output = b.Widen(b.Add(y, fed, N(names.FeedForwardResidual), $"the feed-forward residual add of '{p}'", origin));
            return b.Widen(b.LayerNorm(output, N(names.Norm2), origin, layer.Epsilon, WideName(N(names.Norm2))));
        }
    }
}
