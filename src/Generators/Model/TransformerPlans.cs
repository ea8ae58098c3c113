using Gen.Runtime;

namespace Gen.Generators.Model
{
    // The transformer's emit-ready constants. Like every plan they hold only values and equatable arrays, so the
    // incremental pipeline compares them by value; the shared plan classes they come from stay out of it.

    /// <summary>An INT8 add across scales rounded once (see <see cref="ResidualAddPlan"/>).</summary>
    internal sealed record AddPlan(int MultiplierA, int MultiplierB, int Shift, int Offset, int OutputZeroPoint, string Description)
    {
        public static AddPlan From(ResidualAddPlan p) => new AddPlan(p.MultiplierA, p.MultiplierB, p.Shift, p.Offset, p.Output.ZeroPoint, p.ToString());
    }

    /// <summary>An integer LayerNorm of rows of <see cref="Width"/>: gamma and beta folded into per-channel integers.</summary>
    internal sealed record LayerNormEmitPlan(string Name, int Width, int OutputShift, int OutputZeroPoint,
        EquatableArray<long> Gamma, EquatableArray<long> Beta, string Description)
    {
        public static LayerNormEmitPlan From(string name, LayerNormPlan p) => new LayerNormEmitPlan(name, p.Width, p.OutputShift,
            p.OutputZeroPoint, new EquatableArray<long>(p.GammaMultiplierArray), new EquatableArray<long>(p.BetaOffsetArray), p.Describe());
    }

    /// <summary>The integer exp of a Softmax (the plan's constants in units of its effective scale).</summary>
    internal sealed record SoftmaxEmitPlan(int InputShift, long Ln2, long PolynomialB, long PolynomialC, long InputClamp, string Description)
    {
        public static SoftmaxEmitPlan From(SoftmaxPlan p) => new SoftmaxEmitPlan(p.Exp.InputShift, p.Exp.Ln2Int, p.Exp.PolynomialB,
            p.Exp.PolynomialC, p.Exp.InputClamp, p.Describe());
    }

    /// <summary>One encoder layer ready to emit.</summary>
    internal sealed record EncoderLayerPlan(
        string Prefix,
        int Heads,
        int HeadSize,
        int FeedForward,
        LayerNormEmitPlan Norm1,
        DenseLayerPlan Query,
        DenseLayerPlan Key,
        DenseLayerPlan Value,
        SoftmaxEmitPlan Softmax,
        int ContextMultiplier,
        int ContextRightShift,
        int ContextZeroPoint,
        DenseLayerPlan Output,
        AddPlan AttentionResidual,
        LayerNormEmitPlan Norm2,
        DenseLayerPlan Fc1,
        EquatableArray<sbyte> GeluTable,
        string GeluDescription,
        DenseLayerPlan Fc2,
        AddPlan FeedForwardResidual);

    /// <summary>A whole vision transformer ready to emit.</summary>
    internal sealed record TransformerPlan(
        int ImageHeight,
        int ImageWidth,
        int Channels,
        int PatchSize,
        int Width,
        int Tokens,
        DenseLayerPlan Patch,
        EquatableArray<sbyte> Position,
        float PositionScale,
        AddPlan PositionAdd,
        EquatableArray<EncoderLayerPlan> Layers,
        LayerNormEmitPlan FinalNorm,
        int PoolInputZeroPoint,
        int PoolMultiplier,
        int PoolRightShift,
        int PoolZeroPoint,
        float PoolScale,
        EquatableArray<DenseLayerPlan> Head,
        float OutputScale,
        int OutputZeroPoint)
    {
        public int PatchValues => Channels * PatchSize * PatchSize;

        public int InputSize => Channels * ImageHeight * ImageWidth;

        public int OutputSize => Head.Length == 0 ? Width : Head[Head.Length - 1].OutputSize;

        /// <summary>Every dense layer in the order the model runs them.</summary>
        public DenseLayerPlan[] DenseLayers()
        {
            var all = new System.Collections.Generic.List<DenseLayerPlan> { Patch };
            foreach (var layer in Layers)
            {
                all.AddRange(new[] { layer.Query, layer.Key, layer.Value, layer.Output, layer.Fc1, layer.Fc2 });
            }

            all.AddRange(Head);
            return all.ToArray();
        }
    }
}
