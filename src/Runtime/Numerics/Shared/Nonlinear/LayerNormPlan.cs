using System;
using System.Collections.Generic;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Compile-time constants of the integer LayerNorm over a row of width N:
    /// <c>y_i = gamma_i (x_i - mean) / std + beta_i</c>, requantized to INT8.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The run-time kernel (<c>Gen.Runtime.Kernels.IntLayerNorm</c>) computes the normalized value
    /// <c>n_i = (x_i - mean) / std</c> exactly in integers (the mean as <c>N q_i - sum q</c>, no rounding; the
    /// variance as a sum of squares; the standard deviation with an exact integer square root) and rounds it to
    /// <see cref="NormalizedFractionBits"/> fractional bits. It does not depend on the input scale or zero point
    /// (both cancel), so this plan only folds gamma, beta and the output quantization:
    /// <c>q_out_i = clamp(Z_out + ((n_fix_i * G_i + B_i + 2^(T - 1)) &gt;&gt; T), -128, 127)</c> with
    /// <c>G_i = round(gamma_i / S_out * 2^(T - F))</c> and <c>B_i = round(beta_i / S_out * 2^T)</c>: one rounding,
    /// signed gamma allowed, T (<see cref="OutputShift"/>) the largest shift &lt;= 62 for which every product fits a long.
    /// </para>
    /// <para>
    /// No epsilon: the integer path needs none, as it never divides by a rounded standard deviation of zero. A row
    /// whose values are all equal (zero variance) normalizes to 0 and the output is <c>beta_i</c> quantized. The
    /// float reference <c>(x - mean) / sqrt(var + eps)</c> differs from it by a relative <c>eps / (2 var)</c>.
    /// </para>
    /// </remarks>
    public sealed class LayerNormPlan : IEquatable<LayerNormPlan>
    {
        /// <summary>F: the kernel's normalized values are integers at scale 2^-F.</summary>
        public const int NormalizedFractionBits = 16;

        /// <summary>The largest row width (keeps N * q_i and every later product within a long).</summary>
        public const int MaxWidth = 1 << 24;

        private readonly long[] _gammaMultipliers;
        private readonly long[] _betaOffsets;
        private readonly IReadOnlyList<long> _gammaView;
        private readonly IReadOnlyList<long> _betaView;

        private LayerNormPlan(int width, double inputScale, double outputScale, int outputZeroPoint, int outputShift,
            long[] gammaMultipliers, long[] betaOffsets)
        {
            Width = width;
            InputScale = inputScale;
            OutputScale = outputScale;
            OutputZeroPoint = outputZeroPoint;
            OutputShift = outputShift;
            _gammaMultipliers = gammaMultipliers;
            _betaOffsets = betaOffsets;
            // Read-only views of the private arrays, which nothing modifies after construction.
            _gammaView = Array.AsReadOnly(gammaMultipliers);
            _betaView = Array.AsReadOnly(betaOffsets);
        }

        /// <summary>N: the row width.</summary>
        public int Width { get; }

        /// <summary>The input scale (documentation only: the normalization does not depend on it).</summary>
        public double InputScale { get; }

        /// <summary>S_out: the INT8 output scale.</summary>
        public double OutputScale { get; }

        /// <summary>Z_out: the INT8 output zero point.</summary>
        public int OutputZeroPoint { get; }

        /// <summary>T: the right shift of <c>n_fix * G + B</c>.</summary>
        public int OutputShift { get; }

        /// <summary>G_i = round(gamma_i / S_out * 2^(T - F)) per channel.</summary>
        public IReadOnlyList<long> GammaMultipliers => _gammaView;

        /// <summary>B_i = round(beta_i / S_out * 2^T) per channel.</summary>
        public IReadOnlyList<long> BetaOffsets => _betaView;

        /// <summary>The per-channel G_i array itself (kernels only; do not modify).</summary>
        internal long[] GammaMultiplierArray => _gammaMultipliers;

        /// <summary>The per-channel B_i array itself (kernels only; do not modify).</summary>
        internal long[] BetaOffsetArray => _betaOffsets;

        /// <summary>
        /// Constants for a LayerNorm with per-channel <paramref name="gamma"/> and <paramref name="beta"/> (float, as
        /// trained) over rows at <paramref name="inputScale"/>, with INT8 output at <paramref name="outputScale"/>
        /// and <paramref name="outputZeroPoint"/>.
        /// </summary>
        /// <exception cref="ArgumentException">gamma and beta differ in length, are empty, longer than
        /// <see cref="MaxWidth"/>, or hold a value that is not finite; or gamma / S_out is so large that no shift
        /// keeps 16 fractional bits.</exception>
        /// <exception cref="ArgumentOutOfRangeException">A scale is not positive and finite or the zero point is
        /// outside [-128, 127].</exception>
        public static LayerNormPlan Create(float[] gamma, float[] beta, double inputScale, double outputScale, int outputZeroPoint)
        {
            if (gamma is null)
            {
                throw new ArgumentNullException(nameof(gamma));
            }

            if (beta is null)
            {
                throw new ArgumentNullException(nameof(beta));
            }

            if (gamma.Length != beta.Length || gamma.Length == 0 || gamma.Length > MaxWidth)
            {
                throw new ArgumentException(
                    $"gamma ({gamma.Length}) and beta ({beta.Length}) must have the same length, between 1 and {MaxWidth}.");
            }

            NonlinearMath.CheckScale(inputScale, nameof(inputScale));
            NonlinearMath.CheckScale(outputScale, nameof(outputScale));
            if (outputZeroPoint < QuantizationMath.Int8Min || outputZeroPoint > QuantizationMath.Int8Max)
            {
                throw new ArgumentOutOfRangeException(nameof(outputZeroPoint), outputZeroPoint, "An INT8 zero point must be in [-128, 127].");
            }

            int width = gamma.Length;
            for (int i = 0; i < width; i++)
            {
                if (float.IsNaN(gamma[i]) || float.IsInfinity(gamma[i]) || float.IsNaN(beta[i]) || float.IsInfinity(beta[i]))
                {
                    throw new ArgumentException($"gamma[{i}] = {gamma[i]} or beta[{i}] = {beta[i]} is not finite.");
                }
            }

            // |n_fix| <= sqrt(N - 1) * 2^F + 1 (a normalized value cannot exceed sqrt(N - 1) in magnitude).
            long normalizedBound = ((long)Math.Ceiling(Math.Sqrt(width)) << NormalizedFractionBits) + 1;
            for (int shift = 62; shift >= NormalizedFractionBits; shift--)
            {
                if (TryBuild(gamma, beta, outputScale, shift, normalizedBound, out long[] g, out long[] b))
                {
                    return new LayerNormPlan(width, inputScale, outputScale, outputZeroPoint, shift, g, b);
                }
            }

            throw new ArgumentException(
                $"gamma / S_out or beta / S_out (S_out = {outputScale}) is too large for the integer LayerNorm.");
        }

        private static bool TryBuild(float[] gamma, float[] beta, double outputScale, int shift, long normalizedBound,
            out long[] g, out long[] b)
        {
            g = new long[gamma.Length];
            b = new long[gamma.Length];
            double gammaUnit = Math.Pow(2.0, shift - NormalizedFractionBits) / outputScale;
            double betaUnit = Math.Pow(2.0, shift) / outputScale;
            for (int i = 0; i < gamma.Length; i++)
            {
                double gi = Math.Round(gamma[i] * gammaUnit, MidpointRounding.AwayFromZero);
                double bi = Math.Round(beta[i] * betaUnit, MidpointRounding.AwayFromZero);
                if (Math.Abs(gi) >= 4.6e18 || Math.Abs(bi) >= 4.6e18)
                {
                    return false;
                }

                g[i] = (long)gi;
                b[i] = (long)bi;
                try
                {
                    checked
                    {
                        // The kernel's worst case: |n_fix * G_i| + |B_i| + 2^(T - 1).
                        long worst = normalizedBound * Math.Abs(g[i]) + Math.Abs(b[i]) + (1L << (shift - 1));
                        _ = worst;
                    }
                }
                catch (OverflowException)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// Guard bits c of the per-row reciprocal for rows of <paramref name="width"/> values:
        /// <c>1 + ceil(ceil(log2 width) / 2)</c>, the smallest c with sqrt(width) &lt;= 2^(c - 1).
        /// </summary>
        public static int ReciprocalGuardBits(int width)
        {
            int log = 0;
            while ((1L << log) < width)
            {
                log++;
            }

            return 1 + (log + 1) / 2;
        }

        /// <summary>The constants with their real meaning (for comments in generated code; per-channel arrays summarized).</summary>
        public string Describe()
        {
            var text = new StringBuilder();
            text.Append("Integer LayerNorm: n = (x - mean) / std exactly in integers (Q")
                .Append(NonlinearMath.Format(NormalizedFractionBits))
                .Append("), q_out = clamp(Z_out + ((n G_i + B_i + 2^(T-1)) >> T), -128, 127); no epsilon\n");
            NonlinearMath.Line(text, "N", NonlinearMath.Format(Width), "row width");
            NonlinearMath.Line(text, "S_in", NonlinearMath.Format(InputScale), "input scale (cancels in the normalization)");
            NonlinearMath.Line(text, "S_out", NonlinearMath.Format(OutputScale), "INT8 output scale");
            NonlinearMath.Line(text, "Z_out", NonlinearMath.Format(OutputZeroPoint), "INT8 output zero point");
            NonlinearMath.Line(text, "T", NonlinearMath.Format(OutputShift), "right shift of n G_i + B_i");
            NonlinearMath.Line(text, "G_0", NonlinearMath.Format(_gammaMultipliers[0]),
                "round(gamma_i / S_out 2^(T - " + NonlinearMath.Format(NormalizedFractionBits) + ")), gamma_0 = "
                + NonlinearMath.Format(_gammaMultipliers[0] * Math.Pow(2.0, NormalizedFractionBits - OutputShift) * OutputScale));
            NonlinearMath.Line(text, "B_0", NonlinearMath.Format(_betaOffsets[0]),
                "round(beta_i / S_out 2^T), beta_0 = " + NonlinearMath.Format(_betaOffsets[0] * Math.Pow(2.0, -OutputShift) * OutputScale));
            return text.ToString();
        }

        /// <inheritdoc />
        public override string ToString() => Describe();

        /// <inheritdoc />
        public bool Equals(LayerNormPlan? other) =>
            other is not null && Width == other.Width && InputScale.Equals(other.InputScale) &&
            OutputScale.Equals(other.OutputScale) && OutputZeroPoint == other.OutputZeroPoint &&
            OutputShift == other.OutputShift && NonlinearMath.SequenceEqual(_gammaMultipliers, other._gammaMultipliers) &&
            NonlinearMath.SequenceEqual(_betaOffsets, other._betaOffsets);

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as LayerNormPlan);

        /// <inheritdoc />
        public override int GetHashCode()
        {
            int hash = NonlinearMath.Combine(Width, NonlinearMath.Hash(OutputScale));
            hash = NonlinearMath.Combine(hash, OutputZeroPoint);
            hash = NonlinearMath.Combine(hash, NonlinearMath.Hash(_gammaMultipliers));
            return NonlinearMath.Combine(hash, NonlinearMath.Hash(_betaOffsets));
        }
    }
}
