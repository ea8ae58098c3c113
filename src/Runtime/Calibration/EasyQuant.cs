using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>Settings of the EasyQuant scale search.</summary>
    public sealed class EasyQuantOptions
    {
        /// <summary>Smallest scale factor tried, relative to the max-calibrated scale (the paper's alpha, 0.5).</summary>
        public double LowFactor { get; set; } = 0.5;

        /// <summary>Largest scale factor tried (the paper's beta is 2; above 1 only coarsens the grid, so 1 by default).</summary>
        public double HighFactor { get; set; } = 1.0;

        /// <summary>Factors tried between the two, evenly spaced, both ends included.</summary>
        public int Steps { get; set; } = 26;

        /// <summary>Alternations of the activation search and the weight search per layer.</summary>
        public int Rounds { get; set; } = 2;

        internal double Factor(int i) => Steps <= 1 ? HighFactor : LowFactor + (HighFactor - LowFactor) * i / (Steps - 1);
    }

    /// <summary>
    /// EasyQuant (Wu et al., 2020): layer by layer, starting from max calibration, alternately search the scale of
    /// the layer's input activation and then each output channel's weight scale for the values that maximize the
    /// cosine similarity between the layer's float output and its quantized output. A layer is searched on the
    /// outputs of the already-quantized layers before it, so later layers see (and can absorb) earlier errors. The
    /// model output's own scale is searched last, by the cosine of the output and its INT8 round trip.
    /// Activations are asymmetric INT8 (scaling the max range), weights symmetric.
    /// </summary>
    /// <remarks>
    /// The weight scales it tunes are those of dense layers, and each layer's search needs the quantized output of the one
    /// before: it covers graphs that are a chain of dense layers (<see cref="DenseChain"/>, an MLP). For any other graph
    /// (a vision transformer, say) use one of the activation calibrators.
    /// </remarks>
    public static class EasyQuant
    {
        /// <summary>Why EasyQuant cannot calibrate a graph, given the <see cref="DenseChain.Problem"/> of the graph.</summary>
        public static string NotApplicable(string chainProblem) =>
            "easyquant searches the weight scales of a chain of dense layers (an MLP), and in this graph " + chainProblem +
            "; use max, max-ma, percentile[:P], mse or entropy.";

        /// <summary>Runs the search on <paramref name="samples"/> (rows; a few hundred suffice) from max-calibrated statistics.</summary>
        /// <exception cref="ArgumentException">The model is not a chain of dense layers.</exception>
        public static ActivationCalibration Calibrate(ActivationStatistics statistics, ReadOnlySpan<float> samples, EasyQuantOptions? options = null,
            IProgress<int>? progress = null)
        {
            options ??= new EasyQuantOptions();
            var model = statistics.Model;
            string? problem = DenseChain.Problem(model.Graph);
            if (problem != null) throw new ArgumentException(NotApplicable(problem), nameof(statistics));
            var layers = model.DenseLayers;
            var floats = model.Forward(samples);
            int rows = samples.Length / model.InputSize;
            var max = new MaxCalibrator();
            float[] a = samples.ToArray(); // the layer input as the quantized model computes it, before quantization
            var scalesPerLayer = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var chosen = new List<QuantizationParameters>();
            for (int l = 0; l < layers.Count; l++)
            {
                var layer = layers[l];
                // Per output channel or one per tensor, as the layer is declared.
                bool perChannel = ((DenseAttributes)model.Graph.Nodes[l].Attributes).PerChannel;
                var range = max.ChooseRange(statistics.Tensors[l], RangeMode.Asymmetric);
                float[] scales0 = WeightCalibration.Max(layer.Weights, layer.Outputs, perChannel);
                float[] scales = (float[])scales0.Clone();
                float[] target = floats[l];
                QuantizationParameters best = range.ToParameters(RangeMode.Asymmetric);
                float[] ahat = FakeQuantize(a, best);
                for (int round = 0; round < options.Rounds; round++)
                {
                    // Activation scale, weights fixed.
                    float[] wq = FakeQuantizeWeights(layer, scales, perChannel);
                    double bestCos = double.NegativeInfinity;
                    for (int i = options.Steps - 1; i >= 0; i--)
                    {
                        double f = options.Factor(i);
                        var p = new CalibrationRange(range.Min * f, range.Max * f).ToParameters(RangeMode.Asymmetric);
                        var candidate = FakeQuantize(a, p);
                        double cos = CalibrationMetrics.CosineSimilarity(target, Layer(layer, candidate, wq, rows));
                        if (cos > bestCos)
                        {
                            bestCos = cos;
                            best = p;
                            ahat = candidate;
                        }
                    }

                    // Weight scales, activation fixed: each channel on its own output column.
                    SearchWeightScales(layer, ahat, target, rows, scales0, scales, perChannel, options);
                }

                chosen.Add(best);
                scalesPerLayer.Add(layer.Name, scales);
                a = Layer(layer, ahat, FakeQuantizeWeights(layer, scales, perChannel), rows);
                progress?.Report(l + 1);
            }

            // The model output: its own round trip.
            var outRange = max.ChooseRange(statistics.Tensors[layers.Count], RangeMode.Asymmetric);
            var last = floats[floats.Length - 1];
            QuantizationParameters outBest = outRange.ToParameters(RangeMode.Asymmetric);
            double outCos = double.NegativeInfinity;
            for (int i = options.Steps - 1; i >= 0; i--)
            {
                double f = options.Factor(i);
                var p = new CalibrationRange(outRange.Min * f, outRange.Max * f).ToParameters(RangeMode.Asymmetric);
                double cos = CalibrationMetrics.CosineSimilarity(last, FakeQuantize(a, p));
                if (cos > outCos)
                {
                    outCos = cos;
                    outBest = p;
                }
            }

            chosen.Add(outBest);
            // chosen[l] is the input of layer l (the graph input for l = 0), the last one the model output.
            var tensors = new List<TensorCalibration>();
            for (int t = 0; t < chosen.Count; t++)
            {
                tensors.Add(TensorCalibration.FromParameters(CalibrationMethods.EasyQuant, statistics.Tensors[t], RangeMode.Asymmetric, chosen[t]));
            }

            return new ActivationCalibration(model.Graph, CalibrationMethods.EasyQuant, statistics.Samples, tensors, scalesPerLayer);
        }

        private static void SearchWeightScales(FloatDense layer, float[] ahat, float[] target, int rows, float[] scales0, float[] scales,
            bool perChannel, EasyQuantOptions options)
        {
            int k = layer.Inputs, n = layer.Outputs;
            if (!perChannel)
            {
                double bestCos = double.NegativeInfinity;
                float chosen = scales[0];
                for (int i = options.Steps - 1; i >= 0; i--)
                {
                    float s = (float)(scales0[0] * options.Factor(i));
                    if (!(s > 0)) continue;
                    double cos = CalibrationMetrics.CosineSimilarity(target, Layer(layer, ahat, FakeQuantizeWeights(layer, new[] { s }, false), rows));
                    if (cos > bestCos)
                    {
                        bestCos = cos;
                        chosen = s;
                    }
                }

                scales[0] = chosen;
                return;
            }

            Parallel.For(0, n, c =>
            {
                var column = new float[rows];
                for (int r = 0; r < rows; r++) column[r] = target[r * n + c];
                var w = layer.Weights.AsSpan(c * k, k);
                var wq = new float[k];
                var y = new float[rows];
                float bias = layer.Bias?[c] ?? 0;
                double bestCos = double.NegativeInfinity;
                float chosen = scales[c];
                for (int i = options.Steps - 1; i >= 0; i--)
                {
                    float s = (float)(scales0[c] * options.Factor(i));
                    if (!(s > 0)) continue;
                    for (int j = 0; j < k; j++) wq[j] = s * QuantizationMath.Quantize(w[j], s, 0, -QuantizationMath.SymmetricInt8Max, QuantizationMath.SymmetricInt8Max);
                    for (int r = 0; r < rows; r++) y[r] = FloatDense.Activate(FloatDense.Dot(ahat.AsSpan(r * k, k), wq) + bias, layer.Activation);
                    double cos = CalibrationMetrics.CosineSimilarity(column, y);
                    if (cos > bestCos)
                    {
                        bestCos = cos;
                        chosen = s;
                    }
                }

                scales[c] = chosen;
            });
        }

        private static float[] FakeQuantize(float[] values, QuantizationParameters p)
        {
            var result = new float[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                result[i] = QuantizationMath.Dequantize(QuantizationMath.Quantize(values[i], p.Scale, p.ZeroPoint), p.Scale, p.ZeroPoint);
            }

            return result;
        }

        private static float[] FakeQuantizeWeights(FloatDense layer, float[] scales, bool perChannel)
        {
            var result = new float[layer.Weights.Length];
            for (int n = 0; n < layer.Outputs; n++)
            {
                float s = scales[perChannel ? n : 0];
                for (int k = 0; k < layer.Inputs; k++)
                {
                    int i = n * layer.Inputs + k;
                    result[i] = s * QuantizationMath.Quantize(layer.Weights[i], s, 0, -QuantizationMath.SymmetricInt8Max, QuantizationMath.SymmetricInt8Max);
                }
            }

            return result;
        }

        private static float[] Layer(FloatDense layer, float[] input, float[] weights, int rows)
        {
            var output = new float[rows * layer.Outputs];
            Parallel.For(0, rows, r => FloatDense.RunRow(input.AsSpan(r * layer.Inputs, layer.Inputs),
                output.AsSpan(r * layer.Outputs, layer.Outputs), weights, layer.Bias, layer.Activation));
            return output;
        }
    }
}
