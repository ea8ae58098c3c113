using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// The INT8 parameters of every activation of a model (any graph), calibrated from the statistics its float
    /// model produced: per activation name, the scale and zero point (asymmetric INT8 by default, as the MLP's
    /// activations), the observed minimum and maximum and the chosen range. Weights are not part of it: the generator
    /// derives their symmetric scales from the float weights itself.
    /// </summary>
    public sealed class ActivationCalibration
    {
        private readonly Dictionary<string, TensorCalibration> _byName = new(StringComparer.Ordinal);

        private ActivationCalibration(Graph.ModelGraph graph, string method, long samples, IReadOnlyList<TensorCalibration> tensors)
        {
            Graph = graph;
            Method = method;
            Samples = samples;
            Tensors = tensors;
            foreach (var t in tensors) _byName.Add(t.Name, t);
        }

        /// <summary>The architecture.</summary>
        public Graph.ModelGraph Graph { get; }

        /// <summary>The calibrator of the activations (and of the input, after a semicolon, when it differs), for reports.</summary>
        public string Method { get; }

        /// <summary>Calibration samples seen.</summary>
        public long Samples { get; }

        /// <summary>One calibration per activation, in the order of the graph's activations.</summary>
        public IReadOnlyList<TensorCalibration> Tensors { get; }

        /// <summary>The calibration of one activation.</summary>
        /// <exception cref="KeyNotFoundException">The model has no activation of that name.</exception>
        public TensorCalibration this[string name] =>
            _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"The model has no activation '{name}'.");

        /// <summary>
        /// Calibrates every activation with <paramref name="calibrator"/>, except the input, which gets
        /// <paramref name="inputCalibrator"/> (max calibration when null: images in [0, 1] then get scale 1/255 and zero
        /// point -128, exactly the MLP's input parameters).
        /// </summary>
        public static ActivationCalibration Calibrate(ActivationStatistics statistics, ICalibrator calibrator,
            ICalibrator? inputCalibrator = null, RangeMode mode = RangeMode.Asymmetric)
        {
            if (statistics is null) throw new ArgumentNullException(nameof(statistics));
            if (calibrator is null) throw new ArgumentNullException(nameof(calibrator));
            inputCalibrator ??= new MaxCalibrator();
            var tensors = new List<TensorCalibration>();
            foreach (var collector in statistics.Tensors)
            {
                if (collector.Count == 0) throw new InvalidOperationException($"{collector.Name}: no values were collected; run some samples first.");
                var chosen = collector.Name == statistics.Model.Graph.InputValue.Name ? inputCalibrator : calibrator;
                tensors.Add(TensorCalibration.Create(chosen, collector, mode));
            }

            string method = inputCalibrator.Name == calibrator.Name ? calibrator.Name : calibrator.Name + "; input " + inputCalibrator.Name;
            return new ActivationCalibration(statistics.Model.Graph, method, statistics.Samples, tensors);
        }

        /// <summary>Collects statistics over <paramref name="samples"/> and calibrates them (see the other overload).</summary>
        public static ActivationCalibration Calibrate(FloatModel model, ReadOnlySpan<float> samples, ICalibrator calibrator,
            ICalibrator? inputCalibrator = null, RangeMode mode = RangeMode.Asymmetric, IProgress<long>? progress = null) =>
            Calibrate(ActivationStatistics.Collect(model, samples, progress: progress), calibrator, inputCalibrator, mode);

        /// <summary>
        /// The quantization-parameter file, in the format of the MNIST sample's <c>mnist_mlp.calibration.txt</c>
        /// (<see cref="CalibrationWriters.CalibrationText(IEnumerable{TensorCalibration})"/>): one line
        /// <c>name scale zero_point min max</c> per activation, min and max being the calibrated range.
        /// </summary>
        public string ToText() => CalibrationWriters.CalibrationText(Tensors);
    }
}
