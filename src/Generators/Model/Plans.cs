namespace Gen.Generators.Model
{
    /// <summary>How a layer's INT8 products are computed; see Planning/KernelPacker for the proofs.</summary>
    internal enum KernelRoute
    {
        /// <summary>int16 x int16 into int32: always exact.</summary>
        Wide = 0,

        /// <summary>u8 x s8 into saturating int16 pairs, proven not to saturate.</summary>
        Pair = 1,

        /// <summary>As Pair, two steps accumulated in int16, proven not to overflow.</summary>
        Quad = 2,
    }

    /// <summary>One dense layer ready to emit: quantized weights, folded bias and requantization constants.</summary>
    internal sealed record DenseLayerPlan(
        string Name,
        int InputSize,
        int OutputSize,
        int Activation,
        bool PerChannel,
        bool PreQuantized,
        float InputScale,
        int InputZeroPoint,
        float OutputScale,
        int OutputZeroPoint,
        EquatableArray<float> WeightScales,
        EquatableArray<int> Bias,
        EquatableArray<double> RealMultipliers,
        int ActivationMin,
        int ActivationMax,
        KernelRoute Route,
        int PairSafeChannels,
        int QuadSafeChannels,
        EquatableArray<sbyte> PackedWeights,
        EquatableArray<int> PackedBias,
        EquatableArray<int> PackedMultipliers,
        EquatableArray<int> PackedRightShifts,
        bool EmitVnni,
        EquatableArray<sbyte> VnniWeights,
        EquatableArray<int> VnniBias,
        bool VnniVersionCheck)
    {
        /// <summary>
        /// Whether the layer writes a wide value: each channel's requantized INT32 (no zero point, no clamp) as four bytes,
        /// so <c>y</c> advances <see cref="OutputBytes"/> per channel.
        /// </summary>
        public bool WideOutput { get; init; }

        /// <summary>Bytes per output channel: 4 for a wide output, else 1.</summary>
        public int OutputBytes => WideOutput ? 4 : 1;

        /// <summary>
        /// The compilation has <c>AvxVnni.V512</c> (.NET 11): the layer also gets the zmm VNNI kernels, which read the
        /// same unsigned layout as the ymm ones (<see cref="EmitVnni"/> is then true too).
        /// </summary>
        public bool EmitVnni512 { get; init; }

        /// <summary>Whether the VNNI kernels read their own copy of the weights (a Wide layer) or the main one.</summary>
        public bool HasVnniCopy => VnniWeights.Length > 0;

        /// <summary>K as the VNNI kernels see it: the main padding, or the unsigned layout's for a Wide layer.</summary>
        public int VnniPaddedInputSize => HasVnniCopy ? Planning.KernelPacker.PaddedK(KernelRoute.Pair, InputSize) : PaddedInputSize;

        public int PaddedInputSize => Planning.KernelPacker.PaddedK(Route, InputSize);

        public int PaddedOutputSize => Planning.KernelPacker.PadTo(OutputSize, Planning.KernelPacker.PanelWidth);

        public int Panels => PaddedOutputSize / Planning.KernelPacker.PanelWidth;
    }

    /// <summary>A whole model ready to emit, or the diagnostics that stop it.</summary>
    internal sealed record ModelPlan(
        string? Namespace,
        string ClassName,
        string Modifiers,
        string WeightsFile,
        int InputSize,
        float InputScale,
        int InputZeroPoint,
        GraphPlan? Graph,
        EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public string HintName => (Namespace is null ? "" : Namespace + ".") + ClassName;

        /// <summary>The names the user's class already has (from <see cref="ModelSpec.TakenNames"/>).</summary>
        public EquatableArray<string> TakenNames { get; init; } = EquatableArray<string>.Empty;

        /// <summary>The user's class already has <c>[GeneratedCode]</c> (from <see cref="ModelSpec.DeclaresGeneratedCode"/>).</summary>
        public bool DeclaresGeneratedCode { get; init; }

        public bool CanEmit => Graph != null;

        /// <summary>Whether the model is a transformer (its class gets the transformer's fixed members).</summary>
        public bool IsTransformer => Graph != null && !Graph.RowWise;
    }
}
