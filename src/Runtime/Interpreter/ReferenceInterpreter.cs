using System;
using System.Collections.Generic;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter
{
    /// <summary>
    /// Runs a model description layer by layer with the scalar reference kernels. It defines what generated code
    /// must compute, bit for bit, and is the oracle of the differential tests. Slow by design; allocates per call.
    /// </summary>
    public sealed class ReferenceInterpreter
    {
        private readonly QuantizedDense[] _layers;

        /// <summary>Creates an interpreter for a chain of fully connected layers.</summary>
        /// <exception cref="ArgumentException">The layers do not chain: a layer's input size or quantization differs
        /// from the previous layer's output.</exception>
        public ReferenceInterpreter(int inputSize, QuantizationParameters input, IReadOnlyList<QuantizedDense> layers)
        {
            if (layers.Count == 0) throw new ArgumentException("A model needs at least one layer.", nameof(layers));
            int size = inputSize;
            QuantizationParameters q = input;
            foreach (var layer in layers)
            {
                if (layer.InputSize != size) throw new ArgumentException($"Layer '{layer.Name}' takes {layer.InputSize} inputs but receives {size}.");
                if (!layer.Input.Equals(q)) throw new ArgumentException($"Layer '{layer.Name}' expects input {layer.Input} but receives {q}.");
                size = layer.OutputSize;
                q = layer.Output;
            }

            InputSize = inputSize;
            InputQuantization = input;
            _layers = new QuantizedDense[layers.Count];
            for (int i = 0; i < layers.Count; i++) _layers[i] = layers[i];
        }

        /// <summary>Values per input row.</summary>
        public int InputSize { get; }

        /// <summary>Values per output row.</summary>
        public int OutputSize => _layers[_layers.Length - 1].OutputSize;

        /// <summary>Quantization of the input.</summary>
        public QuantizationParameters InputQuantization { get; }

        /// <summary>Quantization of the output.</summary>
        public QuantizationParameters OutputQuantization => _layers[_layers.Length - 1].Output;

        /// <summary>The layers in order.</summary>
        public IReadOnlyList<QuantizedDense> Layers => _layers;

        /// <summary>Runs a batch: <paramref name="input"/> holds whole rows of <see cref="InputSize"/>.</summary>
        public void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output)
        {
            if (input.Length == 0 || input.Length % InputSize != 0)
            {
                throw new ArgumentException($"Input of {input.Length} values is not a whole, non-zero number of rows of {InputSize}.", nameof(input));
            }

            int batch = input.Length / InputSize;
            if (output.Length != batch * OutputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values; {batch} rows need {batch * OutputSize}.", nameof(output));
            }

            sbyte[] current = input.ToArray();
            foreach (var layer in _layers)
            {
                var next = new sbyte[batch * layer.OutputSize];
                ReferenceKernels.FullyConnected(current, layer.Input.ZeroPoint, layer.Weights, layer.Bias,
                    layer.Multipliers, layer.Shifts, layer.Output.ZeroPoint, layer.ActivationMin, layer.ActivationMax,
                    next, layer.InputSize, layer.OutputSize);
                current = next;
            }

            current.CopyTo(output);
        }
    }
}
