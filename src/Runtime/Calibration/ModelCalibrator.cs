using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Runtime.Calibration
{
    /// <summary>Calibrates every activation of a model with one calibrator; weights keep max scales.</summary>
    public static class ModelCalibrator
    {
        /// <summary>The method names <see cref="CreateCalibrator"/> accepts, plus <c>easyquant</c>.</summary>
        public static readonly IReadOnlyList<string> MethodNames = new[] { "max", "max-ma", "percentile", "mse", "entropy", "easyquant" };

        /// <summary>
        /// A calibrator by name: <c>max</c>, <c>max-ma</c> (moving average of batch ranges), <c>percentile</c> or
        /// <c>percentile:P</c> (default 99.99), <c>mse</c>, <c>entropy</c>.
        /// </summary>
        /// <exception cref="ArgumentException">The name is not one of these.</exception>
        public static ICalibrator CreateCalibrator(string name)
        {
            string n = name.Trim().ToLowerInvariant();
            if (n.StartsWith("percentile:", StringComparison.Ordinal))
            {
                string p = n.Substring("percentile:".Length);
                if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double percentile) || !(percentile > 0 && percentile <= 100))
                {
                    throw new ArgumentException($"'{p}' is not a percentile in (0, 100].", nameof(name));
                }

                return new PercentileCalibrator(percentile);
            }

            return n switch
            {
                "max" => new MaxCalibrator(),
                "max-ma" => new MaxCalibrator(movingAverage: true),
                "percentile" => new PercentileCalibrator(),
                "mse" => new MseCalibrator(),
                "entropy" => new EntropyCalibrator(),
                _ => throw new ArgumentException($"Unknown calibration method '{name}'; use one of {string.Join(", ", MethodNames)}.", nameof(name)),
            };
        }

        /// <summary>
        /// Calibrates the input and every layer output with <paramref name="calibrator"/>; weights get the symmetric
        /// max scales the generator derives itself (per output channel or per tensor).
        /// </summary>
        public static CalibratedModel Calibrate(ActivationStatistics statistics, ICalibrator calibrator,
            RangeMode mode = RangeMode.Asymmetric, bool perChannelWeights = true)
        {
            var model = statistics.Model;
            var input = TensorCalibration.Create(calibrator, statistics.Tensors[0], mode);
            var layers = new List<LayerCalibration>();
            for (int l = 0; l < model.Layers.Count; l++)
            {
                var layer = model.Layers[l];
                var output = TensorCalibration.Create(calibrator, statistics.Tensors[l + 1], mode);
                layers.Add(new LayerCalibration(layer, output, MaxWeightScales(layer.Weights, layer.Outputs, perChannelWeights), perChannelWeights, true));
            }

            return new CalibratedModel(model, calibrator.Name, input, layers);
        }

        /// <summary>Symmetric max weight scales, per channel or one for the tensor (the generator's choice for float weights).</summary>
        public static float[] MaxWeightScales(float[] weights, int channels, bool perChannel) => perChannel
            ? QuantizationMath.ChooseSymmetricPerChannel(weights, channels)
            : new[] { QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(weights, 0, weights.Length)).Scale };

        /// <summary>
        /// Per-channel symmetric weight scales from any calibrator: each output channel's row gets its own histogram
        /// and threshold (e.g. MSE-optimal weight scales).
        /// </summary>
        public static float[] PerChannelWeightScales(float[] weights, int channels, ICalibrator calibrator, int binCount = 2048)
        {
            if (channels <= 0 || weights.Length % channels != 0) throw new ArgumentException($"{weights.Length} weights cannot be split into {channels} channels.");
            int k = weights.Length / channels;
            var scales = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                var h = new HistogramCollector("channel " + c.ToString(CultureInfo.InvariantCulture), binCount);
                h.Add(weights.AsSpan(c * k, k));
                double t = calibrator.ChooseRange(h, RangeMode.Symmetric).Threshold;
                scales[c] = QuantizationMath.ChooseSymmetric(t).Scale;
            }

            return scales;
        }
    }
}
