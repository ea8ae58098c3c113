using System;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>
    /// The affine map between real numbers and integers, <c>real = Scale * (q - ZeroPoint)</c>. Scales are
    /// float32, as in TensorFlow Lite's flatbuffer, so products and quotients of scales round the same way.
    /// </summary>
    public readonly struct QuantizationParameters : IEquatable<QuantizationParameters>
    {
        /// <summary>Creates parameters; the scale must be positive and finite.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The scale is not positive and finite.</exception>
        public QuantizationParameters(float scale, int zeroPoint)
        {
            if (!(scale > 0) || float.IsInfinity(scale))
            {
                throw new ArgumentOutOfRangeException(nameof(scale), scale, "A scale must be positive and finite.");
            }

            Scale = scale;
            ZeroPoint = zeroPoint;
        }

        /// <summary>The real value of one integer step.</summary>
        public float Scale { get; }

        /// <summary>The integer that represents the real value 0.</summary>
        public int ZeroPoint { get; }

        /// <inheritdoc />
        public bool Equals(QuantizationParameters other) =>
            Scale.Equals(other.Scale) && ZeroPoint == other.ZeroPoint;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is QuantizationParameters other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => Scale.GetHashCode() * 397 ^ ZeroPoint;

        /// <inheritdoc />
        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "scale {0:R}, zero point {1}", Scale, ZeroPoint);
    }

    /// <summary>The activation fused into a layer's output clamp.</summary>
    public enum FusedActivation
    {
        /// <summary>No activation: the output is only clamped to the INT8 range.</summary>
        None = 0,

        /// <summary>max(x, 0).</summary>
        Relu = 1,

        /// <summary>min(max(x, 0), 6).</summary>
        Relu6 = 2,
    }
}
