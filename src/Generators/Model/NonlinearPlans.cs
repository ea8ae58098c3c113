using Gen.Runtime;

namespace Gen.Generators.Model
{
    // The emit-ready constants of the integer nonlinear ops. Like every plan they hold only values and equatable arrays, so the
    // incremental pipeline compares them by value; the shared plan classes they come from stay out of it.

    /// <summary>An INT8 add across scales rounded once (see <see cref="ResidualAddPlan"/>).</summary>
    internal sealed record AddPlan(int MultiplierA, int MultiplierB, int Shift, int Offset, int OutputZeroPoint, string Description)
    {
        public static AddPlan From(ResidualAddPlan p) => new AddPlan(p.MultiplierA, p.MultiplierB, p.Shift, p.Offset, p.Output.ZeroPoint, p.ToString());
    }

    /// <summary>A wide add (<see cref="WideAddPlan"/>): 64-bit multipliers, which inputs and whether the output are INT32.</summary>
    internal sealed record WideAddEmitPlan(bool WideA, bool WideB, bool WideOutput, long MultiplierA, long MultiplierB, int Shift,
        int ZeroPointA, int ZeroPointB, int OutputZeroPoint, string Description)
    {
        public static WideAddEmitPlan From(WideAddPlan p) => new WideAddEmitPlan(p.WideA, p.WideB, p.WideOutput, p.MultiplierA, p.MultiplierB, p.Shift,
            p.InputA.ZeroPoint, p.InputB.ZeroPoint, p.Output.ZeroPoint, p.Description);
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
}
