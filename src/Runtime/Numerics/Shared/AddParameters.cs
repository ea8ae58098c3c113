using System;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time constants of an INT8 elementwise add of two tensors with different scales (a residual
    /// connection), as TensorFlow Lite's int8 Add prepares them: both inputs are shifted left by
    /// <see cref="LeftShift"/> bits for headroom, rescaled to the common scale <c>2 * max(S1, S2)</c>, added, then
    /// rescaled to the output scale.
    /// </summary>
    public sealed class AddParameters : IEquatable<AddParameters>
    {
        /// <summary>Headroom bits given to both inputs before they are rescaled (TensorFlow Lite uses 20 for INT8).</summary>
        public const int LeftShift = 20;

        private AddParameters() { }

        /// <summary>Minus the zero point of input 1.</summary>
        public int Input1Offset { get; private set; }

        /// <summary>Minus the zero point of input 2.</summary>
        public int Input2Offset { get; private set; }

        /// <summary>M0 of <c>S1 / (2 max(S1, S2))</c>.</summary>
        public int Input1Multiplier { get; private set; }

        /// <summary>Shift of <c>S1 / (2 max(S1, S2))</c> (never positive).</summary>
        public int Input1Shift { get; private set; }

        /// <summary>M0 of <c>S2 / (2 max(S1, S2))</c>.</summary>
        public int Input2Multiplier { get; private set; }

        /// <summary>Shift of <c>S2 / (2 max(S1, S2))</c> (never positive).</summary>
        public int Input2Shift { get; private set; }

        /// <summary>M0 of <c>2 max(S1, S2) / (2^20 S_out)</c>.</summary>
        public int OutputMultiplier { get; private set; }

        /// <summary>Shift of the output multiplier (never positive).</summary>
        public int OutputShift { get; private set; }

        /// <summary>The output zero point.</summary>
        public int OutputOffset { get; private set; }

        /// <summary>Lower clamp of the output.</summary>
        public int ActivationMin { get; private set; }

        /// <summary>Upper clamp of the output.</summary>
        public int ActivationMax { get; private set; }

        /// <summary>Derives the constants; float arithmetic follows TensorFlow Lite's int8 Add.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The output multiplier is 1 or more (output scale far
        /// smaller than the inputs'), which the kernel cannot represent.</exception>
        public static AddParameters Create(QuantizationParameters input1, QuantizationParameters input2,
            QuantizationParameters output, FusedActivation activation = FusedActivation.None)
        {
            float twiceMaxFloat = 2 * Math.Max(input1.Scale, input2.Scale);
            double twiceMax = twiceMaxFloat;
            double real1 = input1.Scale / twiceMax;
            double real2 = input2.Scale / twiceMax;
            double realOut = twiceMax / ((1 << LeftShift) * output.Scale);

            var p = new AddParameters
            {
                Input1Offset = -input1.ZeroPoint,
                Input2Offset = -input2.ZeroPoint,
                OutputOffset = output.ZeroPoint,
            };
            p.Input1Multiplier = SmallerThanOne(real1, out int s1, "input 1");
            p.Input1Shift = s1;
            p.Input2Multiplier = SmallerThanOne(real2, out int s2, "input 2");
            p.Input2Shift = s2;
            p.OutputMultiplier = SmallerThanOne(realOut, out int so, "output");
            p.OutputShift = so;
            QuantizationMath.ActivationRange(activation, output.Scale, output.ZeroPoint, out int min, out int max);
            p.ActivationMin = min;
            p.ActivationMax = max;
            return p;
        }

        private static int SmallerThanOne(double real, out int shift, string what)
        {
            if (!(real < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(real), real,
                    $"The {what} multiplier of an add must be below 1; the scales are too far apart.");
            }

            FixedPoint.QuantizeMultiplier(real, out int m0, out shift);
            return m0;
        }

        /// <inheritdoc />
        public bool Equals(AddParameters? other) =>
            other is not null && Input1Offset == other.Input1Offset && Input2Offset == other.Input2Offset &&
            Input1Multiplier == other.Input1Multiplier && Input1Shift == other.Input1Shift &&
            Input2Multiplier == other.Input2Multiplier && Input2Shift == other.Input2Shift &&
            OutputMultiplier == other.OutputMultiplier && OutputShift == other.OutputShift &&
            OutputOffset == other.OutputOffset && ActivationMin == other.ActivationMin && ActivationMax == other.ActivationMax;

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as AddParameters);

        /// <inheritdoc />
        public override int GetHashCode() =>
            ((Input1Multiplier * 31 + Input2Multiplier) * 31 + OutputMultiplier) * 31 + OutputOffset;

        /// <inheritdoc />
        public override string ToString() => string.Format(CultureInfo.InvariantCulture,
            "add: in1 x{0:G9}, in2 x{1:G9}, out x{2:G9}, clamp [{3}, {4}]",
            FixedPoint.MultiplierValue(Input1Multiplier, Input1Shift),
            FixedPoint.MultiplierValue(Input2Multiplier, Input2Shift),
            FixedPoint.MultiplierValue(OutputMultiplier, OutputShift), ActivationMin, ActivationMax);
    }
}
