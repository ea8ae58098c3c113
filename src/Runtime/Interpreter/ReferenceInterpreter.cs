using System;
using System.Collections.Generic;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter.Reference;

namespace Gen.Runtime.Interpreter
{
    /// <summary>
    /// Receives an activation of the integer model: its name (the graph value's), values and quantization. A wide value
    /// (<see cref="GraphValue.IsWide"/>) arrives as the bytes of its ints (<c>MemoryMarshal.Cast&lt;sbyte, int&gt;</c> reads them).
    /// </summary>
    public delegate void QuantizedActivationTrace(string name, ReadOnlySpan<sbyte> values, QuantizationParameters quantization);

    /// <summary>
    /// Runs a <see cref="QuantizedGraph"/> node by node with the scalar reference kernels (one file per op in
    /// <c>Interpreter/Reference</c>). It defines what generated code must compute, bit for bit, and is the oracle of the
    /// differential tests, for every model family. Slow by design; allocates per call.
    /// </summary>
    public sealed class ReferenceInterpreter
    {
        /// <summary>Creates an interpreter for <paramref name="model"/>.</summary>
        public ReferenceInterpreter(QuantizedGraph model) => Model = model ?? throw new ArgumentNullException(nameof(model));

        /// <summary>Creates an interpreter for a chain of fully connected layers (an MLP built from its integer layers).</summary>
        /// <exception cref="ArgumentException">The layers do not chain: a layer's input size or quantization differs
        /// from the previous layer's output.</exception>
        public ReferenceInterpreter(int inputSize, QuantizationParameters input, IReadOnlyList<QuantizedDense> layers)
            : this(Chain(inputSize, input, layers))
        {
        }

        /// <summary>The integer model.</summary>
        public QuantizedGraph Model { get; }

        /// <summary>Values per input sample.</summary>
        public int InputSize => Model.Graph.InputSize;

        /// <summary>Values per output sample.</summary>
        public int OutputSize => Model.Graph.OutputSize;

        /// <summary>Quantization of the input.</summary>
        public QuantizationParameters InputQuantization => Model.Input;

        /// <summary>Quantization of the output.</summary>
        public QuantizationParameters OutputQuantization => Model.Output;

        /// <summary>
        /// Runs a batch of whole samples one after another; <paramref name="trace"/>, when given, sees every activation of
        /// every sample (the input first, then each node's output, as <see cref="ModelGraph.Activations"/> lists them).
        /// </summary>
        /// <exception cref="ArgumentException">The spans do not hold the same whole, non-zero number of samples.</exception>
        public void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, QuantizedActivationTrace? trace = null)
        {
            if (Model.Graph.InputValue.IsTokenIds) throw new ArgumentException("This model reads token ids: pass them as ints.", nameof(input));
            if (input.Length == 0 || input.Length % InputSize != 0)
            {
                throw new ArgumentException($"Input of {input.Length} values is not a whole, non-zero number of rows of {InputSize}.", nameof(input));
            }

            int batch = input.Length / InputSize;
            if (output.Length != batch * OutputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values; {batch} rows need {batch * OutputSize}.", nameof(output));
            }

            // A graph whose ops all work row by row runs the whole batch as rows at once; any other one sample at a time.
            int together = Model.Graph.IsRowWise && trace is null ? batch : 1;
            for (int b = 0; b < batch; b += together)
            {
                RunSamples(input.Slice(b * InputSize, together * InputSize), null, output.Slice(b * OutputSize, together * OutputSize), together, int.MaxValue, trace);
            }
        }

        /// <summary>Runs a model that reads token ids (<see cref="GraphValue.IsTokenIds"/>): sequences of <see cref="InputSize"/> ids one after another.</summary>
        /// <exception cref="ArgumentException">The model reads INT8 values, or the spans do not hold the same whole, non-zero number of sequences.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An id is outside an embedding's vocabulary.</exception>
        public void Run(ReadOnlySpan<int> ids, Span<sbyte> output, QuantizedActivationTrace? trace = null)
        {
            if (!Model.Graph.InputValue.IsTokenIds) throw new ArgumentException("This model reads INT8 values, not token ids.", nameof(ids));
            if (ids.Length == 0 || ids.Length % InputSize != 0)
            {
                throw new ArgumentException($"{ids.Length} ids are not a whole, non-zero number of sequences of {InputSize}.", nameof(ids));
            }

            int batch = ids.Length / InputSize;
            if (output.Length != batch * OutputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values; {batch} sequences need {batch * OutputSize}.", nameof(output));
            }

            for (int b = 0; b < batch; b++)
            {
                RunSamples(default, ids.Slice(b * InputSize, InputSize).ToArray(), output.Slice(b * OutputSize, OutputSize), 1, int.MaxValue, trace);
            }
        }

        /// <summary>
        /// Runs a padded batch of token-id sequences: <paramref name="lengths"/>[b] real tokens at the start of sequence b,
        /// each sequence <see cref="InputSize"/> ids long (the padding's ids must be in the vocabulary). Attention attends
        /// only to the real tokens and mean pooling averages only them; padded rows are computed like any other.
        /// </summary>
        /// <exception cref="ArgumentException">The model reads INT8 values, the spans do not hold one sequence per length, or
        /// a length is not between 1 and <see cref="InputSize"/>.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An id is outside an embedding's vocabulary.</exception>
        public void Run(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths, Span<sbyte> output, QuantizedActivationTrace? trace = null)
        {
            if (!Model.Graph.InputValue.IsTokenIds) throw new ArgumentException("This model reads INT8 values, not token ids.", nameof(ids));
            if (lengths.IsEmpty || ids.Length != lengths.Length * InputSize)
            {
                throw new ArgumentException($"{ids.Length} ids do not form {lengths.Length} sequences of {InputSize} (pad each sequence to {InputSize} ids).", nameof(ids));
            }

            if (output.Length != lengths.Length * OutputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values; {lengths.Length} sequences need {lengths.Length * OutputSize}.", nameof(output));
            }

            for (int b = 0; b < lengths.Length; b++)
            {
                if (lengths[b] < 1 || lengths[b] > InputSize)
                {
                    throw new ArgumentException($"Sequence {b} has length {lengths[b]}; lengths run from 1 to the model's {InputSize} tokens.", nameof(lengths));
                }

                RunSamples(default, ids.Slice(b * InputSize, InputSize).ToArray(), output.Slice(b * OutputSize, OutputSize), 1, lengths[b], trace);
            }
        }

        // tokens: the real tokens of the one sequence being run (int.MaxValue when nothing is padded).
        private void RunSamples(ReadOnlySpan<sbyte> input, int[]? ids, Span<sbyte> output, int samples, int tokens, QuantizedActivationTrace? trace)
        {
            var graph = Model.Graph;
            var values = new sbyte[graph.Values.Count][];
            for (int i = 0; i < values.Length; i++) values[i] = Model.Constants[i] ?? Array.Empty<sbyte>();
            values[graph.Input] = input.ToArray();
            if (ids is null) trace?.Invoke(graph.InputValue.Name, values[graph.Input], Model.Input);
            for (int n = 0; n < graph.Nodes.Count; n++)
            {
                var node = graph.Nodes[n];
                // A wide value's ints are held as their bytes (the kernels view them as ints).
                var output1 = values[node.Output] = new sbyte[graph.Values[node.Output].Bytes * samples];
                sbyte[] In(int i) => values[node.Inputs[i]];
                object op = Model.Ops[n];
                switch (node.Kind)
                {
                    case OpKind.Dense: DenseReference.Run((QuantizedDense)op, In(0), output1); break;
                    case OpKind.Im2Col: Im2ColReference.Run((Im2ColAttributes)op, In(0), output1); break;
                    case OpKind.Add: AddReference.Run(op, In(0), In(1), output1); break;
                    case OpKind.LayerNorm: LayerNormReference.Run((LayerNormPlan)op, In(0), graph.Values[node.Inputs[0]].IsWide, output1, graph.Values[node.Output].IsWide); break;
                    case OpKind.Narrow: NarrowReference.Run((NarrowPlan)op, In(0), output1); break;
                    case OpKind.Attention: AttentionReference.Run((AttentionPlan)op, In(0), In(1), In(2), output1, tokens); break;
                    case OpKind.Gelu: GeluReference.Run((GeluPlan)op, In(0), output1); break;
                    case OpKind.MeanPool: MeanPoolReference.Run((MeanPoolPlan)op, In(0), output1, tokens); break;
                    case OpKind.Embedding: EmbeddingReference.Run((EmbeddingPlan)op, ids!, output1); break;
                    case OpKind.ClsToken: ClsTokenReference.Run((ClsTokenAttributes)op, In(0), output1); break;
                    default: throw new NotSupportedException($"No reference kernel for {node.Kind}.");
                }

                // An op that only rearranges its input (im2col) makes no activation of its own.
                if (!OpRules.KeepsInputQuantization(node.Kind)) trace?.Invoke(graph.Values[node.Output].Name, output1, Model.Quantization[node.Output]);
            }

            values[graph.Output].CopyTo(output);
        }

        // The MLP's integer layers as a graph, checking that they chain.
        private static QuantizedGraph Chain(int inputSize, QuantizationParameters input, IReadOnlyList<QuantizedDense> layers)
        {
            if (layers.Count == 0) throw new ArgumentException("A model needs at least one layer.", nameof(layers));
            int size = inputSize;
            QuantizationParameters q = input;
            var declarations = new List<DenseLayerDeclaration>();
            foreach (var layer in layers)
            {
                if (layer.InputSize != size) throw new ArgumentException($"Layer '{layer.Name}' takes {layer.InputSize} inputs but receives {size}.");
                if (!layer.Input.Equals(q)) throw new ArgumentException($"Layer '{layer.Name}' expects input {layer.Input} but receives {q}.");
                size = layer.OutputSize;
                q = layer.Output;
                declarations.Add(new DenseLayerDeclaration(layer.Name, layer.OutputSize, layer.Activation, layer.PerChannel));
            }

            return QuantizedGraph.FromLayers(DenseFrontend.Build(inputSize, declarations), input, layers);
        }
    }
}
