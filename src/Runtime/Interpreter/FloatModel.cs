using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Threading.Tasks;

namespace Gen.Runtime.Interpreter
{
    /// <summary>A layer as the user declares it: the tensor prefix, the output count and the fused activation.</summary>
    public sealed class DenseLayerSpec
    {
        /// <summary>Creates a layer description.</summary>
        public DenseLayerSpec(string name, int outputs, FusedActivation activation = FusedActivation.None)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A layer needs a name.", nameof(name));
            if (outputs <= 0) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"Layer '{name}' needs a positive number of outputs.");
            Name = name;
            Outputs = outputs;
            Activation = activation;
        }

        /// <summary>The tensor prefix: <c>fc1</c> for <c>fc1.weight</c> and <c>fc1.bias</c>.</summary>
        public string Name { get; }

        /// <summary>Output features.</summary>
        public int Outputs { get; }

        /// <summary>The fused activation.</summary>
        public FusedActivation Activation { get; }

        /// <summary>
        /// Parses <c>name:outputs[:activation]</c> items separated by commas, e.g. <c>fc1:128:relu,fc2:10</c>;
        /// activations are <c>none</c>, <c>relu</c> and <c>relu6</c>.
        /// </summary>
        /// <exception cref="FormatException">An item is malformed, with the item in the message.</exception>
        public static IReadOnlyList<DenseLayerSpec> ParseList(string text)
        {
            var layers = new List<DenseLayerSpec>();
            foreach (string raw in text.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
            {
                string item = raw.Trim();
                string[] parts = item.Split(':');
                if (parts.Length < 2 || parts.Length > 3 || parts[0].Length == 0)
                {
                    throw new FormatException($"Layer '{item}' is not name:outputs[:activation] (e.g. fc1:128:relu).");
                }

                if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int outputs) || outputs <= 0)
                {
                    throw new FormatException($"Layer '{item}': '{parts[1]}' is not a positive number of outputs.");
                }

                var activation = FusedActivation.None;
                if (parts.Length == 3)
                {
                    activation = parts[2].ToLowerInvariant() switch
                    {
                        "" or "none" or "linear" => FusedActivation.None,
                        "relu" => FusedActivation.Relu,
                        "relu6" => FusedActivation.Relu6,
                        _ => throw new FormatException($"Layer '{item}': activation '{parts[2]}' is not none, relu or relu6."),
                    };
                }

                layers.Add(new DenseLayerSpec(parts[0], outputs, activation));
            }

            if (layers.Count == 0) throw new FormatException("No layers given; expected e.g. fc1:128:relu,fc2:10.");
            return layers;
        }
    }

    /// <summary>A float32 fully connected layer as PyTorch stores it: weight [outputs, inputs], bias [outputs].</summary>
    public sealed class FloatDense
    {
        /// <summary>Creates a layer; checks the sizes.</summary>
        public FloatDense(string name, int inputs, int outputs, FusedActivation activation, float[] weights, float[]? bias)
        {
            if (inputs <= 0 || outputs <= 0) throw new ArgumentOutOfRangeException(nameof(inputs), "Layer sizes must be positive.");
            if (weights.Length != inputs * outputs) throw new ArgumentException($"{name}: {weights.Length} weights for [{outputs}, {inputs}].", nameof(weights));
            if (bias != null && bias.Length != outputs) throw new ArgumentException($"{name}: {bias.Length} bias values for {outputs} outputs.", nameof(bias));
            Name = name;
            Inputs = inputs;
            Outputs = outputs;
            Activation = activation;
            Weights = weights;
            Bias = bias;
        }

        /// <summary>The tensor prefix.</summary>
        public string Name { get; }

        /// <summary>K.</summary>
        public int Inputs { get; }

        /// <summary>N.</summary>
        public int Outputs { get; }

        /// <summary>The fused activation.</summary>
        public FusedActivation Activation { get; }

        /// <summary>Row-major [Outputs, Inputs].</summary>
        public float[] Weights { get; }

        /// <summary>The bias, or null.</summary>
        public float[]? Bias { get; }

        /// <summary>Applies the layer to a batch of rows.</summary>
        public void Run(ReadOnlySpan<float> input, Span<float> output)
        {
            int batch = input.Length / Inputs;
            if (input.Length != batch * Inputs || output.Length != batch * Outputs)
            {
                throw new ArgumentException($"{Name}: {input.Length} inputs and {output.Length} outputs do not form rows of {Inputs} and {Outputs}.");
            }

            for (int r = 0; r < batch; r++)
            {
                RunRow(input.Slice(r * Inputs, Inputs), output.Slice(r * Outputs, Outputs), Weights, Bias, Activation);
            }
        }

        /// <summary>One row through a layer with the given (possibly fake-quantized) weights.</summary>
        internal static void RunRow(ReadOnlySpan<float> x, Span<float> y, float[] weights, float[]? bias, FusedActivation activation)
        {
            int k = x.Length;
            for (int n = 0; n < y.Length; n++)
            {
                float sum = Dot(x, weights.AsSpan(n * k, k)) + (bias?[n] ?? 0);
                y[n] = Activate(sum, activation);
            }
        }

        internal static float Activate(float v, FusedActivation activation) => activation switch
        {
            FusedActivation.Relu => Math.Max(v, 0f),
            FusedActivation.Relu6 => Math.Min(Math.Max(v, 0f), 6f),
            _ => v,
        };

        internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            int width = Vector<float>.Count, i = 0;
            var acc0 = Vector<float>.Zero;
            var acc1 = Vector<float>.Zero;
            for (; i <= a.Length - 2 * width; i += 2 * width)
            {
                acc0 += new Vector<float>(a.Slice(i)) * new Vector<float>(b.Slice(i));
                acc1 += new Vector<float>(a.Slice(i + width)) * new Vector<float>(b.Slice(i + width));
            }

            float sum = Vector.Dot(acc0 + acc1, Vector<float>.One);
            for (; i < a.Length; i++) sum += a[i] * b[i];
            return sum;
        }
    }

    /// <summary>
    /// The float32 form of a chain of fully connected layers, described as the generator's attributes describe it
    /// (names, output counts, activations) and read from the same safetensors file. It is what calibration runs to
    /// see the activations, and the accuracy baseline an INT8 model is compared with.
    /// </summary>
    public sealed class FloatModel
    {
        private readonly FloatDense[] _layers;

        /// <summary>Creates a model from layers that chain (each layer's inputs equal the previous outputs).</summary>
        public FloatModel(IReadOnlyList<FloatDense> layers)
        {
            if (layers.Count == 0) throw new ArgumentException("A model needs at least one layer.", nameof(layers));
            for (int i = 1; i < layers.Count; i++)
            {
                if (layers[i].Inputs != layers[i - 1].Outputs)
                {
                    throw new ArgumentException($"Layer '{layers[i].Name}' takes {layers[i].Inputs} inputs but '{layers[i - 1].Name}' gives {layers[i - 1].Outputs}.");
                }
            }

            _layers = new FloatDense[layers.Count];
            for (int i = 0; i < layers.Count; i++) _layers[i] = layers[i];
        }

        /// <summary>The layers in order.</summary>
        public IReadOnlyList<FloatDense> Layers => _layers;

        /// <summary>Values per input row.</summary>
        public int InputSize => _layers[0].Inputs;

        /// <summary>Values per output row.</summary>
        public int OutputSize => _layers[_layers.Length - 1].Outputs;

        /// <summary>
        /// Reads the layers' float32 tensors (<c>name.weight</c> [outputs, inputs], optional <c>name.bias</c>
        /// [outputs]) from a safetensors file.
        /// </summary>
        /// <param name="file">The weights.</param>
        /// <param name="layers">The layers in order.</param>
        /// <param name="inputSize">Values per input row, or 0 to take it from the first weight's shape.</param>
        /// <exception cref="ModelDescriptionException">A tensor is missing, not F32, or has the wrong shape.</exception>
        public static FloatModel FromSafeTensors(SafeTensorsFile file, IReadOnlyList<DenseLayerSpec> layers, int inputSize = 0)
        {
            var result = new List<FloatDense>();
            int inputs = inputSize;
            foreach (var spec in layers)
            {
                string weightName = spec.Name + ".weight", biasName = spec.Name + ".bias";
                if (!file.Tensors.TryGetValue(weightName, out var weight))
                {
                    throw new ModelDescriptionException($"Tensor '{weightName}' not found; the file holds {string.Join(", ", file.Tensors.Keys)}.");
                }

                if (weight.DataType != "F32")
                {
                    throw new ModelDescriptionException($"Tensor '{weightName}' is {weight.DataType}; calibration needs the float32 model.");
                }

                if (inputs == 0 && weight.Shape.Length == 2) inputs = weight.Shape[1];
                if (weight.Shape.Length != 2 || weight.Shape[0] != spec.Outputs || weight.Shape[1] != inputs)
                {
                    throw new ModelDescriptionException($"Tensor '{weightName}' has shape {weight.ShapeText}; layer '{spec.Name}' expects [{spec.Outputs}, {inputs}].");
                }

                float[]? bias = null;
                if (file.Tensors.TryGetValue(biasName, out var b))
                {
                    if (b.DataType != "F32" || b.Shape.Length != 1 || b.Shape[0] != spec.Outputs)
                    {
                        throw new ModelDescriptionException($"Tensor '{biasName}' is {b.DataType} {b.ShapeText}; layer '{spec.Name}' expects F32 [{spec.Outputs}].");
                    }

                    bias = file.ReadFloat32(b);
                }

                float[] w = file.ReadFloat32(weight);
                foreach (float v in w)
                {
                    if (float.IsNaN(v) || float.IsInfinity(v)) throw new ModelDescriptionException($"Tensor '{weightName}' holds {v}; weights must be finite.");
                }

                result.Add(new FloatDense(spec.Name, inputs, spec.Outputs, spec.Activation, w, bias));
                inputs = spec.Outputs;
            }

            return new FloatModel(result);
        }

        /// <summary>Runs a batch of rows and returns every layer's output (after its activation), in order.</summary>
        public float[][] Forward(ReadOnlySpan<float> inputs)
        {
            if (inputs.Length == 0 || inputs.Length % InputSize != 0)
            {
                throw new ArgumentException($"{inputs.Length} values are not a whole, non-zero number of rows of {InputSize}.", nameof(inputs));
            }

            int batch = inputs.Length / InputSize;
            var outputs = new float[_layers.Length][];
            float[] current = inputs.ToArray();
            for (int l = 0; l < _layers.Length; l++)
            {
                var layer = _layers[l];
                var next = new float[batch * layer.Outputs];
                var source = current;
                Parallel.For(0, batch, r => FloatDense.RunRow(source.AsSpan(r * layer.Inputs, layer.Inputs),
                    next.AsSpan(r * layer.Outputs, layer.Outputs), layer.Weights, layer.Bias, layer.Activation));
                outputs[l] = next;
                current = next;
            }

            return outputs;
        }

        /// <summary>Runs a batch of rows and returns the last layer's outputs.</summary>
        public float[] Run(ReadOnlySpan<float> inputs)
        {
            var all = Forward(inputs);
            return all[all.Length - 1];
        }
    }

    /// <summary>A model description does not match its weights file (a missing tensor, a wrong shape or type).</summary>
    public sealed class ModelDescriptionException : Exception
    {
        /// <summary>Creates the exception with a message naming the tensor and what was expected.</summary>
        public ModelDescriptionException(string message) : base(message) { }
    }
}
