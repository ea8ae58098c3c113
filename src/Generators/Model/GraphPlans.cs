namespace Gen.Generators.Model
{
    // The graph ready to emit. Like every plan it holds only values and equatable arrays, so the incremental pipeline
    // compares it by value; the shared graph and op classes it comes from stay out of the pipeline.

    /// <summary>One value of the graph, per sample: its name, rows and row length, and whether it is a constant.</summary>
    internal sealed record ValuePlan(string Name, int Rows, int Columns, bool IsConstant)
    {
        public long Elements => (long)Rows * Columns;
    }

    /// <summary>One node ready to emit: the values it reads and writes (indices into <see cref="GraphPlan.Values"/>).</summary>
    /// <remarks>Each op's emitter (Emitting/Ops) has its own derived record with the op's constants.</remarks>
    internal abstract record NodePlan(string Name, EquatableArray<int> Inputs, int Output);

    /// <summary>A dense layer over every row of its input.</summary>
    internal sealed record DenseNodePlan(string Name, EquatableArray<int> Inputs, int Output, DenseLayerPlan Layer) : NodePlan(Name, Inputs, Output);

    /// <summary>An im2col of a CHW image (a ViT's patchify when <see cref="Stride"/> equals <see cref="Kernel"/>).</summary>
    internal sealed record Im2ColNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Channels, int Height, int Width, int Kernel,
        int Stride, int OutputWidth, int Windows) : NodePlan(Name, Inputs, Output)
    {
        public int WindowValues => Channels * Kernel * Kernel;
    }

    /// <summary>An add across scales; <see cref="Constant"/> holds the second input's INT8 data when it is a constant.</summary>
    internal sealed record AddNodePlan(string Name, EquatableArray<int> Inputs, int Output, AddPlan Add, string What,
        EquatableArray<sbyte> Constant, float ConstantScale) : NodePlan(Name, Inputs, Output);

    /// <summary>An integer LayerNorm of every row.</summary>
    internal sealed record LayerNormNodePlan(string Name, EquatableArray<int> Inputs, int Output, LayerNormEmitPlan Norm, int Rows)
        : NodePlan(Name, Inputs, Output);

    /// <summary>Multi-head attention of Q, K, V over <see cref="Tokens"/> rows.</summary>
    internal sealed record AttentionNodePlan(string Name, EquatableArray<int> Inputs, int Output, string Prefix, int Heads, int HeadSize,
        int Tokens, int Width, SoftmaxEmitPlan Softmax, int QueryZeroPoint, int KeyZeroPoint, int ValueZeroPoint, int ContextMultiplier,
        int ContextRightShift, int ContextZeroPoint) : NodePlan(Name, Inputs, Output);

    /// <summary>GELU by table lookup: the integer i-GELU of each of the 256 INT8 inputs, computed at build time.</summary>
    internal sealed record GeluNodePlan(string Name, EquatableArray<int> Inputs, int Output, string Part, long Count, EquatableArray<sbyte> Table,
        string Description, float InputScale, int InputZeroPoint) : NodePlan(Name, Inputs, Output);

    /// <summary>The mean of <see cref="Rows"/> rows of <see cref="Width"/>.</summary>
    internal sealed record MeanPoolNodePlan(string Name, EquatableArray<int> Inputs, int Output, int Rows, int Width, int InputZeroPoint,
        int Multiplier, int RightShift, int OutputZeroPoint, float OutputScale) : NodePlan(Name, Inputs, Output);

    /// <summary>A public constant of the generated class beyond the sizes and scales every model has.</summary>
    internal sealed record ConstantPlan(string Name, long Value, string Summary);

    /// <summary>
    /// A whole model ready to emit: the values, the nodes in order, the input and output, whether samples run as rows of
    /// one batch (<see cref="RowWise"/>, an MLP) or one at a time (a transformer), what the class's documentation says, and
    /// a heading comment before each node that starts a block (an encoder layer), or "". <see cref="EmitVnni"/> and
    /// <see cref="VnniVersionCheck"/> say which kernel paths the compilation offers (see <see cref="CompilationFacts"/>).
    /// </summary>
    internal sealed record GraphPlan(
        EquatableArray<ValuePlan> Values,
        EquatableArray<NodePlan> Nodes,
        int Input,
        int Output,
        float OutputScale,
        int OutputZeroPoint,
        bool RowWise,
        bool EmitVnni,
        bool VnniVersionCheck,
        string Family,
        string Summary,
        string SampleName,
        EquatableArray<ConstantPlan> Constants,
        EquatableArray<string> Headings)
    {
        public ValuePlan InputValue => Values[Input];

        public ValuePlan OutputValue => Values[Output];

        /// <summary>Every dense layer in the order the model runs them.</summary>
        public DenseLayerPlan[] DenseLayers()
        {
            var all = new System.Collections.Generic.List<DenseLayerPlan>();
            foreach (var node in Nodes)
            {
                if (node is DenseNodePlan d) all.Add(d.Layer);
            }

            return all.ToArray();
        }
    }
}
