using Gen.Generators.Emitting.Ops;
namespace Gen.Generators.Model
{
    // The graph ready to emit. Like every plan it holds only values and equatable arrays, so the incremental pipeline
    // compares it by value; the shared graph and op classes it comes from stay out of the pipeline.

    /// <summary>One value of the graph, per sample: its name, rows and row length, whether it is a constant or token ids.</summary>
    internal sealed record ValuePlan(string Name, int Rows, int Columns, bool IsConstant, bool IsTokenIds = false, bool IsWide = false)
    {
        public long Elements => (long)Rows * Columns;

        /// <summary>Its bytes in the workspace: four per element for a wide (INT32) value.</summary>
        public long Bytes => Elements * (IsWide ? 4 : 1);
    }

    /// <summary>One node ready to emit: the values it reads and writes (indices into <see cref="GraphPlan.Values"/>).</summary>
    /// <remarks>Each op's emitter file (Emitting/Ops) declares its derived record, with the op's constants.</remarks>
    internal abstract record NodePlan(string Name, EquatableArray<int> Inputs, int Output)
    {
        /// <summary>
        /// The comment stating the bounds the op proved for its integers, line by line (<see cref="Runtime.Graph.OpBounds"/>):
        /// the emitter writes it above the op's code.
        /// </summary>
        public EquatableArray<string> Bounds { get; init; } = EquatableArray<string>.Empty;
    }

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
        /// <summary>The compilation has <c>AvxVnni.V512</c> (.NET 11): the KernelPath enum gets the zmm VNNI path.</summary>
        public bool EmitVnni512 { get; init; }

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
