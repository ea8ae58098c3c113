using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Calibration
{
    /// <summary>The calibration of one layer: its output tensor and its weight scales.</summary>
    public sealed class LayerCalibration
    {
        /// <summary>Creates a layer calibration.</summary>
        public LayerCalibration(FloatDense layer, TensorCalibration output, float[] weightScales, bool perChannel, bool maxWeightScales)
        {
            if (weightScales.Length != (perChannel ? layer.Outputs : 1)) throw new ArgumentException($"{layer.Name}: {weightScales.Length} weight scales.", nameof(weightScales));
            Layer = layer;
            Output = output;
            WeightScales = weightScales;
            PerChannel = perChannel;
            MaxWeightScales = maxWeightScales;
        }

        /// <summary>The float layer.</summary>
        public FloatDense Layer { get; }

        /// <summary>The calibrated output activation.</summary>
        public TensorCalibration Output { get; }

        /// <summary>Symmetric weight scales, one per output channel or one for the tensor.</summary>
        public float[] WeightScales { get; }

        /// <summary>Whether the weights are quantized per output channel.</summary>
        public bool PerChannel { get; }

        /// <summary>
        /// Whether <see cref="WeightScales"/> are the max-calibrated scales the generator derives itself from float
        /// weights; when false (EasyQuant), the generator needs the INT8 weights and their scales in the file.
        /// </summary>
        public bool MaxWeightScales { get; }

        /// <summary>The INT8 weights at <see cref="WeightScales"/> (symmetric, [-127, 127]).</summary>
        public sbyte[] QuantizedWeights()
        {
            var q = new sbyte[Layer.Weights.Length];
            for (int n = 0; n < Layer.Outputs; n++)
            {
                float scale = WeightScales[PerChannel ? n : 0];
                for (int k = 0; k < Layer.Inputs; k++)
                {
                    int i = n * Layer.Inputs + k;
                    q[i] = (sbyte)QuantizationMath.Quantize(Layer.Weights[i], scale, 0, -QuantizationMath.SymmetricInt8Max, QuantizationMath.SymmetricInt8Max);
                }
            }

            return q;
        }
    }

    /// <summary>
    /// A float model with every activation calibrated and every weight scale chosen: everything the generator's
    /// attributes need, and the INT8 model the reference interpreter runs.
    /// </summary>
    public sealed class CalibratedModel
    {
        /// <summary>Creates a calibrated model.</summary>
        public CalibratedModel(FloatModel model, string method, TensorCalibration input, IReadOnlyList<LayerCalibration> layers)
        {
            if (layers.Count != model.Layers.Count) throw new ArgumentException($"{layers.Count} layer calibrations for {model.Layers.Count} layers.", nameof(layers));
            Model = model;
            Method = method;
            Input = input;
            Layers = layers;
        }

        /// <summary>The float model.</summary>
        public FloatModel Model { get; }

        /// <summary>The method's name, for reports.</summary>
        public string Method { get; }

        /// <summary>The input's calibration.</summary>
        public TensorCalibration Input { get; }

        /// <summary>Each layer's calibration, in order.</summary>
        public IReadOnlyList<LayerCalibration> Layers { get; }

        /// <summary>Every activation tensor: the input, then each layer output.</summary>
        public IEnumerable<TensorCalibration> Tensors
        {
            get
            {
                yield return Input;
                foreach (var layer in Layers) yield return layer.Output;
            }
        }

        /// <summary>Whether every weight scale is what the generator derives from float weights (max per channel or per tensor).</summary>
        public bool UsesGeneratorWeightScales
        {
            get
            {
                foreach (var layer in Layers) if (!layer.MaxWeightScales) return false;
                return true;
            }
        }

        /// <summary>The integer layers, built exactly as the generator builds them.</summary>
        public IReadOnlyList<QuantizedDense> QuantizedLayers()
        {
            var result = new List<QuantizedDense>();
            var input = Input.Parameters;
            foreach (var l in Layers)
            {
                var f = l.Layer;
                var output = l.Output.Parameters;
                if (l.MaxWeightScales)
                {
                    result.Add(QuantizedDense.FromFloat(f.Name, f.Inputs, f.Outputs, input, output, f.Activation, f.Weights, f.Bias, l.PerChannel));
                }
                else
                {
                    var bias = new int[f.Outputs];
                    for (int n = 0; n < f.Outputs; n++)
                    {
                        bias[n] = f.Bias is null ? 0 : QuantizationMath.QuantizeBias(f.Bias[n], input.Scale, l.WeightScales[l.PerChannel ? n : 0]);
                    }

                    result.Add(new QuantizedDense(f.Name, f.Inputs, f.Outputs, input, output, f.Activation, l.QuantizedWeights(),
                        l.WeightScales, bias, l.PerChannel));
                }

                input = output;
            }

            return result;
        }

        /// <summary>The INT8 model in the reference interpreter (the semantics generated code follows bit for bit).</summary>
        public ReferenceInterpreter BuildInterpreter() =>
            new ReferenceInterpreter(Model.InputSize, Input.Parameters, QuantizedLayers());

        /// <summary>
        /// The cosine similarity of each layer's float output and the dequantized INT8 output of the integer model
        /// (errors of earlier layers included), over the given rows.
        /// </summary>
        public double[] LayerCosineSimilarities(ReadOnlySpan<float> rows)
        {
            var floats = Model.Forward(rows);
            var q = new sbyte[rows.Length];
            QuantizationMath.Quantize(rows, q, Input.Parameters);
            var layers = QuantizedLayers();
            var result = new double[layers.Count];
            int batch = rows.Length / Model.InputSize;
            for (int l = 0; l < layers.Count; l++)
            {
                var layer = layers[l];
                var next = new sbyte[batch * layer.OutputSize];
                ReferenceKernels.FullyConnected(q, layer.Input.ZeroPoint, layer.Weights, layer.Bias, layer.Multipliers, layer.Shifts,
                    layer.Output.ZeroPoint, layer.ActivationMin, layer.ActivationMax, next, layer.InputSize, layer.OutputSize);
                var dq = new float[next.Length];
                QuantizationMath.Dequantize(next, dq, layer.Output);
                result[l] = CosineSimilarity(floats[l], dq);
                q = next;
            }

            return result;
        }

        /// <summary>Classification accuracy (arg max of the INT8 outputs against labels) of the integer model, in percent.</summary>
        public double Accuracy(ReadOnlySpan<float> rows, ReadOnlySpan<byte> labels)
        {
            var q = new sbyte[rows.Length];
            QuantizationMath.Quantize(rows, q, Input.Parameters);
            var interpreter = BuildInterpreter();
            var output = new sbyte[labels.Length * interpreter.OutputSize];
            interpreter.Run(q, output);
            int correct = 0;
            for (int r = 0; r < labels.Length; r++)
            {
                if (ArgMax(output.AsSpan(r * interpreter.OutputSize, interpreter.OutputSize)) == labels[r]) correct++;
            }

            return 100.0 * correct / labels.Length;
        }

        /// <summary>Classification accuracy of a float model, in percent.</summary>
        public static double FloatAccuracy(FloatModel model, ReadOnlySpan<float> rows, ReadOnlySpan<byte> labels)
        {
            var output = model.Run(rows);
            int correct = 0;
            for (int r = 0; r < labels.Length; r++)
            {
                if (ArgMax(output.AsSpan(r * model.OutputSize, model.OutputSize)) == labels[r]) correct++;
            }

            return 100.0 * correct / labels.Length;
        }

        /// <summary><c>a . b / (|a| |b|)</c>; 1 when both are zero, 0 when only one is.</summary>
        public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            if (a.Length != b.Length) throw new ArgumentException("The vectors differ in length.");
            double dot = 0, aa = 0, bb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                dot += (double)a[i] * b[i];
                aa += (double)a[i] * a[i];
                bb += (double)b[i] * b[i];
            }

            if (aa == 0 && bb == 0) return 1;
            if (aa == 0 || bb == 0) return 0;
            return dot / Math.Sqrt(aa * bb);
        }

        private static int ArgMax<T>(ReadOnlySpan<T> values) where T : IComparable<T>
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i].CompareTo(values[best]) > 0) best = i;
            return best;
        }
    }
}
