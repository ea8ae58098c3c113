using System;
using System.Globalization;

namespace Gen.Runtime.Calibration
{
    /// <summary>How a calibrated range becomes quantization parameters.</summary>
    public enum RangeMode
    {
        /// <summary>
        /// Affine, <c>[min, max]</c> onto [-128, 127] with a zero point (TFLite's INT8 activations). A range that
        /// does not contain 0 is widened to contain it.
        /// </summary>
        Asymmetric = 0,

        /// <summary>Zero point 0, <c>[-T, T]</c> onto [-127, 127] with <c>T = max(|min|, |max|)</c>.</summary>
        Symmetric = 1,
    }

    /// <summary>A real range chosen by a calibrator: values outside it are clipped.</summary>
    public readonly struct CalibrationRange : IEquatable<CalibrationRange>
    {
        /// <summary>Creates a range; it is widened to contain 0.</summary>
        /// <exception cref="ArgumentException">A bound is not finite or min &gt; max.</exception>
        public CalibrationRange(double min, double max)
        {
            if (double.IsNaN(min) || double.IsNaN(max) || double.IsInfinity(min) || double.IsInfinity(max) || min > max)
            {
                throw new ArgumentException($"[{min}, {max}] is not a finite, non-empty range.");
            }

            Min = Math.Min(min, 0);
            Max = Math.Max(max, 0);
        }

        /// <summary>The lower bound (at most 0).</summary>
        public double Min { get; }

        /// <summary>The upper bound (at least 0).</summary>
        public double Max { get; }

        /// <summary>The symmetric threshold, <c>max(|Min|, |Max|)</c>.</summary>
        public double Threshold => Math.Max(-Min, Max);

        /// <summary>The quantization parameters for this range.</summary>
        public QuantizationParameters ToParameters(RangeMode mode) => mode == RangeMode.Symmetric
            ? QuantizationMath.ChooseSymmetric(Threshold)
            : QuantizationMath.ChooseAsymmetric(Min, Max);

        /// <inheritdoc />
        public bool Equals(CalibrationRange other) => Min.Equals(other.Min) && Max.Equals(other.Max);

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is CalibrationRange other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => Min.GetHashCode() * 397 ^ Max.GetHashCode();

        /// <inheritdoc />
        public override string ToString() => string.Format(CultureInfo.InvariantCulture, "[{0:G6}, {1:G6}]", Min, Max);
    }

    /// <summary>
    /// Chooses the range of one tensor from its statistics. Implementations are small and stateless:
    /// <see cref="MaxCalibrator"/>, <see cref="PercentileCalibrator"/>, <see cref="MseCalibrator"/>,
    /// <see cref="EntropyCalibrator"/>.
    /// </summary>
    public interface ICalibrator
    {
        /// <summary>A short name for reports, e.g. <c>percentile 99.99</c>.</summary>
        string Name { get; }

        /// <summary>Chooses the range for <paramref name="statistics"/> quantized in <paramref name="mode"/>.</summary>
        /// <exception cref="InvalidOperationException">No value was collected.</exception>
        CalibrationRange ChooseRange(HistogramCollector statistics, RangeMode mode);
    }

    /// <summary>One calibrated tensor: what was seen, what was chosen, and what it costs.</summary>
    public sealed class TensorCalibration
    {
        internal TensorCalibration(string name, string method, RangeMode mode, HistogramCollector statistics,
            CalibrationRange range, QuantizationParameters parameters)
        {
            Name = name;
            Method = method;
            Mode = mode;
            Statistics = statistics;
            Range = range;
            Parameters = parameters;
            var bins = HistogramView.Signed(statistics);
            ClippedFraction = bins.ClippedFraction(parameters);
            double mse = bins.QuantizationError(parameters) / Math.Max(1, statistics.Count);
            Sqnr = mse > 0 ? 10 * Math.Log10(statistics.SumOfSquares / statistics.Count / mse) : double.PositiveInfinity;
        }

        /// <summary>The tensor's name (<c>input</c> or a layer name for its output).</summary>
        public string Name { get; }

        /// <summary>The calibrator's name.</summary>
        public string Method { get; }

        /// <summary>Symmetric or asymmetric.</summary>
        public RangeMode Mode { get; }

        /// <summary>The statistics the range was chosen from.</summary>
        public HistogramCollector Statistics { get; }

        /// <summary>The chosen range (before rounding to the INT8 grid).</summary>
        public CalibrationRange Range { get; }

        /// <summary>The chosen scale and zero point.</summary>
        public QuantizationParameters Parameters { get; }

        /// <summary>The real values the INT8 grid can represent, <c>[S * (qmin - Z), S * (qmax - Z)]</c>.</summary>
        public (double Min, double Max) Representable => Grid(Parameters, Mode);

        /// <summary>Fraction of the collected values outside <see cref="Representable"/> (clipped), estimated from the histogram.</summary>
        public double ClippedFraction { get; }

        /// <summary>Signal-to-quantization-noise ratio in dB, <c>10 log10(E[x^2] / E[(x - dq(q(x)))^2])</c>, estimated from the histogram.</summary>
        public double Sqnr { get; }

        /// <summary>Calibrates one tensor.</summary>
        public static TensorCalibration Create(ICalibrator calibrator, HistogramCollector statistics, RangeMode mode)
        {
            var range = calibrator.ChooseRange(statistics, mode);
            return new TensorCalibration(statistics.Name, calibrator.Name, mode, statistics, range, range.ToParameters(mode));
        }

        /// <summary>Wraps parameters chosen elsewhere (EasyQuant) with the same metrics.</summary>
        public static TensorCalibration FromParameters(string method, HistogramCollector statistics, RangeMode mode,
            QuantizationParameters parameters)
        {
            var grid = Grid(parameters, mode);
            return new TensorCalibration(statistics.Name, method, mode, statistics, new CalibrationRange(grid.Min, grid.Max), parameters);
        }

        internal static (double Min, double Max) Grid(QuantizationParameters p, RangeMode mode)
        {
            // Activations are clamped to [-128, 127] at run time in either mode.
            _ = mode;
            return ((double)p.Scale * (QuantizationMath.Int8Min - p.ZeroPoint), (double)p.Scale * (QuantizationMath.Int8Max - p.ZeroPoint));
        }
    }
}
