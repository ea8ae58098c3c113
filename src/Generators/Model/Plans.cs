namespace Gen.Generators.Model
{
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
        EquatableArray<sbyte> Weights,
        EquatableArray<float> WeightScales,
        EquatableArray<int> Bias,
        EquatableArray<int> FoldedBias,
        EquatableArray<int> Multipliers,
        EquatableArray<int> Shifts,
        EquatableArray<double> RealMultipliers,
        int ActivationMin,
        int ActivationMax,
        long AccumulatorBound);

    /// <summary>A whole model ready to emit, or the diagnostics that stop it.</summary>
    internal sealed record ModelPlan(
        string? Namespace,
        string ClassName,
        string Modifiers,
        string WeightsFile,
        int InputSize,
        float InputScale,
        int InputZeroPoint,
        EquatableArray<DenseLayerPlan> Layers,
        EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public string HintName => (Namespace is null ? "" : Namespace + ".") + ClassName;

        public bool CanEmit => Layers.Length > 0;
    }
}
