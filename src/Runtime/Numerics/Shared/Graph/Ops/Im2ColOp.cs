namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Attributes of an im2col: a CHW image cut into <see cref="Kernel"/> x <see cref="Kernel"/> windows taken every
    /// <see cref="Stride"/> pixels, one output row per window, its values ordered (channel, row, column) as a Conv2d
    /// weight flattens. A ViT's patchify is the case <c>Stride == Kernel</c>; a convolution is this followed by a dense layer.
    /// </summary>
    /// <param name="Channels">Image channels.</param>
    /// <param name="Height">Image rows.</param>
    /// <param name="Width">Image columns.</param>
    /// <param name="Kernel">Side of a square window.</param>
    /// <param name="Stride">Pixels between windows.</param>
    public sealed record Im2ColAttributes(int Channels, int Height, int Width, int Kernel, int Stride) : OpAttributes
    {
        /// <summary>Windows per column of the image.</summary>
        public int OutputHeight => (Height - Kernel) / Stride + 1;

        /// <summary>Windows per row of the image.</summary>
        public int OutputWidth => (Width - Kernel) / Stride + 1;

        /// <summary>Output rows: one per window.</summary>
        public int Windows => OutputHeight * OutputWidth;

        /// <summary>Values per window.</summary>
        public int WindowValues => Channels * Kernel * Kernel;
    }

    /// <summary>The im2col: shape inference and validation (it has no quantization of its own: the output keeps the input's).</summary>
    public static class Im2ColOp
    {
        /// <summary>Adds an im2col of the image <paramref name="input"/> (Channels x Height x Width values, CHW).</summary>
        public static int Im2Col(this GraphBuilder b, int input, string name, int channels, int height, int width, int kernel, int stride,
            int origin, string outputName)
        {
            var a = new Im2ColAttributes(channels, height, width, kernel, stride);
            if (height <= 0 || width <= 0 || channels <= 0)
            {
                b.Invalid(origin, $"The image must have positive sides and channels (got {Text.Int(channels)} x {Text.Int(height)} x {Text.Int(width)}).");
            }
            else if (kernel <= 0 || stride <= 0 || kernel > height || kernel > width || (height - kernel) % stride != 0 || (width - kernel) % stride != 0)
            {
                b.Invalid(origin, stride == kernel
                    ? $"The patch size {Text.Int(kernel)} must divide the image's {Text.Int(height)} rows and {Text.Int(width)} columns."
                    : $"Windows of {Text.Int(kernel)} every {Text.Int(stride)} pixels do not tile the {Text.Int(height)} x {Text.Int(width)} image.");
            }
            else if ((long)channels * height * width != b.Value(input).Elements)
            {
                b.Invalid(origin, $"The input has {Text.Int(b.Value(input).Elements)} values but the image has {Text.Int((long)channels * height * width)}.");
            }

            bool valid = kernel > 0 && stride > 0 && height >= kernel && width >= kernel;
            int rows = valid ? a.Windows : 1, columns = valid ? a.WindowValues : 1;
            return b.Node(OpKind.Im2Col, name, new[] { input }, outputName, new[] { rows, columns }, origin, a);
        }

        /// <summary>Nothing to quantize: the attributes are the op.</summary>
        public static Im2ColAttributes? Quantize(QuantizeContext c, GraphNode node)
        {
            var a = (Im2ColAttributes)node.Attributes;
            return c.Prove(node, $"The im2col '{node.Name}'", Bounds(a)) ? a : null;
        }

        /// <summary>
        /// The im2col's one integer: the INT32 indices into the image and into the windows, at most one below their sizes
        /// (reached by the last value of the last window). No arithmetic touches the values: it copies them.
        /// </summary>
        public static OpBounds Bounds(Im2ColAttributes a)
        {
            var largest = System.Numerics.BigInteger.Max((System.Numerics.BigInteger)a.Channels * a.Height * a.Width,
                (System.Numerics.BigInteger)a.Windows * a.WindowValues) - 1;
            return new OpBounds(new IntegerBound("index", "the INT32 index into the image or the windows", largest, 31, "use a smaller image"));
        }
    }
}
