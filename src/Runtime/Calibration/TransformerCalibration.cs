using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// The INT8 parameters of every activation of a vision transformer, calibrated from the statistics its float
    /// model produced: per activation name, the scale and zero point (asymmetric INT8 by default, as the MLP's
    /// activations), the observed minimum and maximum and the chosen range. Weights are not part of it: the generator
    /// derives their symmetric scales from the float weights itself.
    /// </summary>
    public sealed class TransformerCalibration
    {
        private readonly Dictionary<string, TensorCalibration> _byName = new(StringComparer.Ordinal);

        private TransformerCalibration(TransformerShape shape, string method, long images, IReadOnlyList<TensorCalibration> tensors)
        {
            Shape = shape;
            Method = method;
            Images = images;
            Tensors = tensors;
            foreach (var t in tensors) _byName.Add(t.Name, t);
        }

        /// <summary>The architecture.</summary>
        public TransformerShape Shape { get; }

        /// <summary>The calibrator of the activations (and of the input, after a semicolon, when it differs), for reports.</summary>
        public string Method { get; }

        /// <summary>Calibration images seen.</summary>
        public long Images { get; }

        /// <summary>One calibration per activation, in the order of <see cref="TransformerNames.Activations"/>.</summary>
        public IReadOnlyList<TensorCalibration> Tensors { get; }

        /// <summary>The calibration of one activation.</summary>
        /// <exception cref="KeyNotFoundException">The model has no activation of that name.</exception>
        public TensorCalibration this[string name] =>
            _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"The transformer has no activation '{name}'.");

        /// <summary>
        /// Calibrates every activation with <paramref name="calibrator"/>, except the input, which gets
        /// <paramref name="inputCalibrator"/> (max calibration when null: images in [0, 1] then get scale 1/255 and zero
        /// point -128, exactly the MLP's input parameters).
        /// </summary>
        public static TransformerCalibration Calibrate(TransformerStatistics statistics, ICalibrator calibrator,
            ICalibrator? inputCalibrator = null, RangeMode mode = RangeMode.Asymmetric)
        {
            if (statistics is null) throw new ArgumentNullException(nameof(statistics));
            if (calibrator is null) throw new ArgumentNullException(nameof(calibrator));
            inputCalibrator ??= new MaxCalibrator();
            var tensors = new List<TensorCalibration>();
            foreach (var collector in statistics.Tensors)
            {
                if (collector.Count == 0) throw new InvalidOperationException($"{collector.Name}: no values were collected; run some images first.");
                var chosen = collector.Name == TransformerNames.Input ? inputCalibrator : calibrator;
                tensors.Add(TensorCalibration.Create(chosen, collector, mode));
            }

            string method = inputCalibrator.Name == calibrator.Name ? calibrator.Name : calibrator.Name + "; input " + inputCalibrator.Name;
            return new TransformerCalibration(statistics.Model.Shape, method, statistics.Images, tensors);
        }

        /// <summary>Collects statistics over <paramref name="images"/> and calibrates them (see the other overload).</summary>
        public static TransformerCalibration Calibrate(FloatTransformer model, ReadOnlySpan<float> images, ICalibrator calibrator,
            ICalibrator? inputCalibrator = null, RangeMode mode = RangeMode.Asymmetric, IProgress<long>? progress = null) =>
            Calibrate(TransformerStatistics.Collect(model, images, progress: progress), calibrator, inputCalibrator, mode);

        /// <summary>
        /// The quantization-parameter file, in the format of the MNIST sample's <c>mnist_mlp.calibration.txt</c>
        /// (<see cref="CalibrationWriters.CalibrationText(IEnumerable{TensorCalibration})"/>): one line
        /// <c>name scale zero_point min max</c> per activation, min and max being the calibrated range.
        /// </summary>
        public string ToText() => CalibrationWriters.CalibrationText(Tensors);
    }
}
