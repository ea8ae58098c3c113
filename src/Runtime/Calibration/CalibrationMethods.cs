using System;
using System.Collections.Generic;
using System.Globalization;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Calibration
{
    /// <summary>The calibration methods by name, as the <c>--method</c> option and reports spell them.</summary>
    public static class CalibrationMethods
    {
        /// <summary>The name of the EasyQuant search (<see cref="Calibration.EasyQuant"/>), which also searches weight scales.</summary>
        public const string EasyQuant = "easyquant";

        /// <summary>Every method: the names <see cref="Create"/> accepts, then <see cref="EasyQuant"/>.</summary>
        public static readonly IReadOnlyList<string> Names = new[] { "max", "max-ma", "percentile", "mse", "entropy", EasyQuant };

        /// <summary>
        /// Whether <paramref name="method"/> can calibrate <paramref name="graph"/>: every activation calibrator can; EasyQuant
        /// only a chain of dense layers (<see cref="DenseChain"/>). When not, <paramref name="problem"/> says why.
        /// </summary>
        public static bool AppliesTo(string method, ModelGraph graph, out string? problem)
        {
            problem = method == EasyQuant ? DenseChain.Problem(graph) : null;
            if (problem != null) problem = Calibration.EasyQuant.NotApplicable(problem);
            return problem is null;
        }

        /// <summary>
        /// An activation calibrator by name: <c>max</c>, <c>max-ma</c> (moving average of batch ranges), <c>percentile</c> or
        /// <c>percentile:P</c> (default 99.99), <c>mse</c>, <c>entropy</c>.
        /// </summary>
        /// <exception cref="ArgumentException">The name is not one of these (EasyQuant is a search, not a calibrator).</exception>
        public static ICalibrator Create(string name)
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
                EasyQuant => throw new ArgumentException("easyquant searches scales with the model; it is not a calibrator of one activation.", nameof(name)),
                _ => throw new ArgumentException($"Unknown calibration method '{name}'; use one of {string.Join(", ", Names)}.", nameof(name)),
            };
        }
    }

    /// <summary>Weight scales: symmetric INT8, per output channel or per tensor.</summary>
    public static class WeightCalibration
    {
        /// <summary>Symmetric max weight scales, per channel or one for the tensor (the generator's choice for float weights).</summary>
        public static float[] Max(float[] weights, int channels, bool perChannel) => perChannel
            ? QuantizationMath.ChooseSymmetricPerChannel(weights, channels)
            : new[] { QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(weights, 0, weights.Length)).Scale };

        /// <summary>
        /// Per-channel symmetric weight scales from any calibrator: each output channel's row gets its own histogram
        /// and threshold (e.g. MSE-optimal weight scales).
        /// </summary>
        public static float[] PerChannel(float[] weights, int channels, ICalibrator calibrator, int binCount = 2048)
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

        /// <summary>The INT8 weights at <paramref name="scales"/> (symmetric, [-127, 127]), rows of <c>weights.Length / outputs</c>.</summary>
        public static sbyte[] Quantize(float[] weights, int outputs, float[] scales)
        {
            int inputs = weights.Length / outputs;
            bool perChannel = scales.Length == outputs && outputs > 1;
            var q = new sbyte[weights.Length];
            for (int n = 0; n < outputs; n++)
            {
                float scale = scales[perChannel ? n : 0];
                for (int k = 0; k < inputs; k++)
                {
                    int i = n * inputs + k;
                    q[i] = (sbyte)QuantizationMath.Quantize(weights[i], scale, 0, -QuantizationMath.SymmetricInt8Max, QuantizationMath.SymmetricInt8Max);
                }
            }

            return q;
        }
    }

    /// <summary>
    /// Graphs whose nodes are all dense layers, each reading the previous node's output (an MLP, as
    /// <see cref="DenseFrontend"/> builds it): the graphs EasyQuant's weight search covers and whose declaration is one
    /// attribute per activation.
    /// </summary>
    public static class DenseChain
    {
        /// <summary>Null when <paramref name="graph"/> is such a chain; otherwise the first node that breaks it, in words.</summary>
        public static string? Problem(ModelGraph graph)
        {
            int previous = graph.Input;
            foreach (var node in graph.Nodes)
            {
                if (node.Kind != OpKind.Dense) return $"node '{node.Name}' is {node.Kind}, not Dense";
                if (node.Inputs.Count != 1 || node.Inputs[0] != previous) return $"dense layer '{node.Name}' does not read the previous layer's output";
                previous = node.Output;
            }

            return graph.Nodes.Count == 0 ? "the graph has no layers" : null;
        }

        /// <summary>Whether <paramref name="graph"/> is a chain of dense layers.</summary>
        public static bool Is(ModelGraph graph) => Problem(graph) is null;
    }
}
