using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// The calibration of a model (any graph): per activation name, the scale and zero point (asymmetric INT8 by default,
    /// as the MLP's activations), the observed minimum and maximum and the chosen range; and, from a method that searches
    /// them (<see cref="EasyQuant"/>), the weight scales of the dense layers. Without searched scales the weights are not
    /// part of it: the generator derives their symmetric scales from the float weights itself.
    /// </summary>
    public sealed class ActivationCalibration
    {
        private readonly Dictionary<string, TensorCalibration> _byName = new(StringComparer.Ordinal);

        /// <summary>Creates a calibration; <paramref name="tensors"/> must follow <see cref="ModelGraph.Activations"/>.</summary>
        /// <exception cref="ArgumentException">The tensors are not the graph's activations in order, or a weight scale list
        /// names no dense layer.</exception>
        public ActivationCalibration(ModelGraph graph, string method, long samples, IReadOnlyList<TensorCalibration> tensors,
            IReadOnlyDictionary<string, float[]>? weightScales = null)
        {
            Graph = graph ?? throw new ArgumentNullException(nameof(graph));
            var names = graph.Activations();
            if (tensors.Count != names.Count) throw new ArgumentException($"{tensors.Count} tensor calibrations for {names.Count} activations.", nameof(tensors));
            for (int i = 0; i < names.Count; i++)
            {
                if (tensors[i].Name != names[i]) throw new ArgumentException($"Calibration {i} is '{tensors[i].Name}'; the graph's activation {i} is '{names[i]}'.", nameof(tensors));
                _byName.Add(tensors[i].Name, tensors[i]);
            }

            if (weightScales != null)
            {
                foreach (var name in weightScales.Keys)
                {
                    if (!graph.Nodes.Any(n => n.Kind == OpKind.Dense && n.Name == name)) throw new ArgumentException($"Weight scales for '{name}', which is no dense layer.", nameof(weightScales));
                }
            }

            Method = method;
            Samples = samples;
            Tensors = tensors;
            WeightScales = weightScales;
        }

        /// <summary>The architecture.</summary>
        public ModelGraph Graph { get; }

        /// <summary>The calibrator of the activations (and of the input, after a semicolon, when it differs), for reports.</summary>
        public string Method { get; }

        /// <summary>Calibration samples seen.</summary>
        public long Samples { get; }

        /// <summary>One calibration per activation, in the order of the graph's activations.</summary>
        public IReadOnlyList<TensorCalibration> Tensors { get; }

        /// <summary>Symmetric activations (zero point 0) or asymmetric ones.</summary>
        public RangeMode Mode => Tensors[0].Mode;

        /// <summary>
        /// Searched weight scales by dense layer name (one per output channel, or one for the tensor); null when every
        /// weight keeps the max scales the generator derives from float weights.
        /// </summary>
        public IReadOnlyDictionary<string, float[]>? WeightScales { get; }

        /// <summary>Whether every weight scale is what the generator derives from float weights (no searched scales).</summary>
        public bool UsesGeneratorWeightScales => WeightScales is null || WeightScales.Count == 0;

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

            // A model of token ids has no input to calibrate, so the input's calibrator is not part of its method.
            bool input = !statistics.Model.Graph.InputValue.IsTokenIds;
            string method = !input || inputCalibrator.Name == calibrator.Name ? calibrator.Name : calibrator.Name + "; input " + inputCalibrator.Name;
            return new ActivationCalibration(statistics.Model.Graph, method, statistics.Samples, tensors);
        }

        /// <summary>Collects statistics over <paramref name="samples"/> and calibrates them (see the other overload).</summary>
        public static ActivationCalibration Calibrate(FloatModel model, ReadOnlySpan<float> samples, ICalibrator calibrator,
            ICalibrator? inputCalibrator = null, RangeMode mode = RangeMode.Asymmetric, IProgress<long>? progress = null) =>
            Calibrate(ActivationStatistics.Collect(model, samples, progress: progress), calibrator, inputCalibrator, mode);

        /// <summary>
        /// The integer model of this calibration, built by <see cref="QuantizedGraph.Create"/> exactly as the generator builds
        /// it: from <paramref name="model"/>'s float weights, or, with searched weight scales, from the INT8 weights file
        /// <see cref="CalibrationWriters.WriteQuantizedWeights"/> writes (the file the attribute lines then point at).
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="model"/> is not of this calibration's graph.</exception>
        /// <exception cref="ModelDefinitionException">A parameter does not fit a node (a multiplier out of range, say).</exception>
        public QuantizedGraph Quantize(FloatModel model)
        {
            if (model is null) throw new ArgumentNullException(nameof(model));
            if (!model.Graph.Equals(Graph)) throw new ArgumentException("The float model is not of the calibrated graph.", nameof(model));
            var weights = UsesGeneratorWeightScales ? model.Weights : SafeTensorsFile.Parse(CalibrationWriters.WriteQuantizedWeights(this, model));
            return QuantizedGraph.Create(Graph, weights, name => this[name].Parameters);
        }

        /// <summary>
        /// The quantization-parameter file, in the format of the MNIST sample's <c>mnist_mlp.calibration.txt</c>
        /// (<see cref="CalibrationWriters.CalibrationText(IEnumerable{TensorCalibration})"/>): one line
        /// <c>name scale zero_point min max</c> per activation, min and max being the calibrated range.
        /// </summary>
        public string ToText() => CalibrationWriters.CalibrationText(Tensors);
    }
}
