using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter.Float;

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

    /// <summary>Receives one activation of a traced forward pass of <see cref="FloatModel"/>: its name and its values,
    /// valid only during the call.</summary>
    public delegate void ActivationTrace(string name, ReadOnlySpan<float> values);

    /// <summary>
    /// The float32 forward pass of any graph whose weights PyTorch saved (an MLP, a vision transformer, ...): the accuracy
    /// baseline of an INT8 model, the model calibration runs to see its activations, and a fast float competitor in
    /// benchmarks. It walks the graph's nodes with one float kernel per op (<c>Interpreter/Float</c>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The weights are read once (a missing <c>.bias</c> counts as zeros), packed, and kept with every activation buffer in
    /// pinned, 64-byte aligned memory, so a run allocates nothing once the buffers fit the batch. Matrix products use
    /// AVX-512 FMA where the CPU has it, <see cref="Vector{T}"/> otherwise.
    /// </para>
    /// <para>
    /// An instance is not thread-safe: its buffers hold the activations being computed. Use one instance per thread.
    /// </para>
    /// <para>
    /// Numerics: LayerNorm as PyTorch's <c>nn.LayerNorm</c> (epsilon per node, 1e-5 by default); GELU is the exact erf
    /// form with a float erf of absolute error below 5e-7; softmax subtracts the row maximum. The result matches
    /// PyTorch's float32 to rounding (the summation order differs).
    /// </para>
    /// </remarks>
    public sealed unsafe class FloatModel
    {
        private readonly Float.FloatOp[] _ops;
        private readonly FloatMemory _memory = new FloatMemory();
        private readonly float*[] _values;
        private readonly bool _rowWise;
        private int _capacity;

        /// <summary>Reads the graph's float32 tensors from <paramref name="weights"/> and prepares every node.</summary>
        /// <exception cref="ModelDefinitionException">A tensor is missing, not F32, not finite or not of the expected shape (the
        /// message names the tensor and the shape expected).</exception>
        public FloatModel(ModelGraph graph, SafeTensorsFile weights)
        {
            Graph = graph ?? throw new ArgumentNullException(nameof(graph));
            Weights = weights ?? throw new ArgumentNullException(nameof(weights));
            var problems = new ProblemList();
            var reader = new WeightReader(weights, problems);
            _ops = new Float.FloatOp[graph.Nodes.Count];
            var dense = new List<FloatDense>();
            for (int i = 0; i < _ops.Length; i++)
            {
                var node = graph.Nodes[i];
                _ops[i] = node.Kind switch
                {
                    OpKind.Dense => new Float.DenseFloat(node, graph, reader, _memory),
                    OpKind.Im2Col => new Float.Im2ColFloat(node),
                    OpKind.Add => new Float.AddFloat(node, graph),
                    OpKind.LayerNorm => new Float.LayerNormFloat(node, graph, reader, _memory),
                    OpKind.Attention => new Float.AttentionFloat(node, graph, _memory),
                    OpKind.Gelu => new Float.GeluFloat(node, graph),
                    OpKind.MeanPool => new Float.MeanPoolFloat(node, graph),
                    OpKind.Embedding => new Float.EmbeddingFloat(node, graph, reader, _memory),
                    OpKind.ClsToken => new Float.ClsTokenFloat(node, graph),
                    OpKind.L2Normalize => new Float.L2NormalizeFloat(node, graph),
                    OpKind.Narrow => new Float.NarrowFloat(node, graph),
                    _ => throw new NotSupportedException($"No float kernel for {node.Kind}."),
                };
                if (_ops[i] is Float.DenseFloat d) dense.Add(d.Layer);
                problems.ThrowIfAny();
            }

            _values = new float*[graph.Values.Count];
            for (int v = 0; v < _values.Length; v++)
            {
                var value = graph.Values[v];
                if (!value.IsConstant) continue;
                var shapes = new int[value.ConstantShapes!.Count][];
                for (int s = 0; s < shapes.Length; s++) shapes[s] = value.ConstantShapes[s].ToArray();
                _values[v] = _memory.Copy(reader.Float(0, value.Name, value.Constant!, null, shapes) ?? new float[value.Elements]);
                problems.ThrowIfAny();
            }

            DenseLayers = dense;
            ActivationNames = graph.Activations();
            _rowWise = graph.IsRowWise;
            Reserve(1);
        }

        /// <summary>An MLP of float layers given in memory (each layer's inputs equal the previous one's outputs).</summary>
        /// <exception cref="ArgumentException">The layers do not chain.</exception>
        public FloatModel(IReadOnlyList<FloatDense> layers)
            : this(Chain(layers), SafeTensorsFile.Parse(SafeTensorsBytes.Write(Tensors(layers))))
        {
        }

        private static ModelGraph Chain(IReadOnlyList<FloatDense> layers)
        {
            if (layers.Count == 0) throw new ArgumentException("A model needs at least one layer.", nameof(layers));
            for (int i = 1; i < layers.Count; i++)
            {
                if (layers[i].Inputs != layers[i - 1].Outputs)
                {
                    throw new ArgumentException($"Layer '{layers[i].Name}' takes {layers[i].Inputs} inputs but '{layers[i - 1].Name}' gives {layers[i - 1].Outputs}.");
                }
            }

            var declarations = new List<DenseLayerDeclaration>();
            foreach (var layer in layers) declarations.Add(new DenseLayerDeclaration(layer.Name, layer.Outputs, layer.Activation));
            return DenseFrontend.Build(layers[0].Inputs, declarations);
        }

        private static IEnumerable<SafeTensorsBytes.Entry> Tensors(IReadOnlyList<FloatDense> layers)
        {
            foreach (var layer in layers)
            {
                yield return SafeTensorsBytes.Entry.Float(layer.Name + ".weight", new[] { layer.Outputs, layer.Inputs }, layer.Weights);
                if (layer.Bias != null) yield return SafeTensorsBytes.Entry.Float(layer.Name + ".bias", new[] { layer.Outputs }, layer.Bias);
            }
        }

        /// <summary>
        /// An MLP: reads the layers' float32 tensors (<c>name.weight</c> [outputs, inputs], optional <c>name.bias</c>
        /// [outputs]) from a safetensors file.
        /// </summary>
        /// <param name="file">The weights.</param>
        /// <param name="layers">The layers in order.</param>
        /// <param name="inputSize">Values per input row, or 0 to take it from the first weight's shape.</param>
        /// <exception cref="ModelDefinitionException">A tensor is missing, not F32, or has the wrong shape.</exception>
        public static FloatModel FromSafeTensors(SafeTensorsFile file, IReadOnlyList<DenseLayerSpec> layers, int inputSize = 0)
        {
            if (inputSize == 0 && layers.Count > 0 && file.Tensors.TryGetValue(layers[0].Name + ".weight", out var first) && first.Shape.Length == 2)
            {
                inputSize = first.Shape[1];
            }

            var declarations = new List<DenseLayerDeclaration>();
            foreach (var layer in layers) declarations.Add(new DenseLayerDeclaration(layer.Name, layer.Outputs, layer.Activation));
            return new FloatModel(DenseFrontend.Build(Math.Max(inputSize, 1), declarations), file);
        }

        /// <summary>A vision transformer (<see cref="TransformerShape"/>) with <see cref="TransformerNames"/> tensors.</summary>
        /// <remarks>
        /// The patch projection may be a Conv2d weight [Width, Channels, PatchSize, PatchSize] or a Linear weight
        /// [Width, Channels * PatchSize^2]; the position embedding [Tokens, Width] or [1, Tokens, Width].
        /// </remarks>
        /// <exception cref="ArgumentException">The shape is inconsistent, or a tensor is missing or unusable.</exception>
        public static FloatModel VisionTransformer(SafeTensorsFile weights, TransformerShape shape)
        {
            if (shape is null) throw new ArgumentNullException(nameof(shape));
            var problems = new ProblemList();
            var graph = VisionTransformerFrontend.Build(shape, problems);
            problems.ThrowIfAny();
            return new FloatModel(graph, weights);
        }

        /// <summary>A BERT encoder (<see cref="BertShape"/>) with Hugging Face's tensor names.</summary>
        /// <exception cref="ArgumentException">The shape is inconsistent, or a tensor is missing or unusable.</exception>
        public static FloatModel Bert(SafeTensorsFile weights, BertShape shape)
        {
            if (shape is null) throw new ArgumentNullException(nameof(shape));
            var problems = new ProblemList();
            var graph = BertFrontend.Build(shape, problems);
            problems.ThrowIfAny();
            return new FloatModel(graph, weights);
        }

        /// <summary>The graph.</summary>
        public ModelGraph Graph { get; }

        /// <summary>The weights file the model was read from (what the integer model is quantized from).</summary>
        public SafeTensorsFile Weights { get; }

        /// <summary>Values per input sample.</summary>
        public int InputSize => Graph.InputSize;

        /// <summary>Values per output sample.</summary>
        public int OutputSize => Graph.OutputSize;

        /// <summary>The names a trace reports, in order: the input, then each node's activation.</summary>
        public IReadOnlyList<string> ActivationNames { get; }

        /// <summary>The dense layers' float weights in the order the graph runs them.</summary>
        public IReadOnlyList<FloatDense> DenseLayers { get; }

        /// <summary>
        /// Runs whole samples stored one after another and writes their outputs; when <paramref name="trace"/> is not null it
        /// sees every activation in the order of <see cref="ActivationNames"/> (for an MLP several rows at a time, for other
        /// graphs one sample at a time).
        /// </summary>
        /// <exception cref="ArgumentException">The spans do not hold the same whole, non-zero number of samples.</exception>
        public void Run(ReadOnlySpan<float> input, Span<float> output, ActivationTrace? trace = null) =>
            Run(input, output, trace, null);

        private void Run(ReadOnlySpan<float> input, Span<float> output, ActivationTrace? trace, ValueTrace? values, ReadOnlySpan<int> lengths = default)
        {
            if (input.Length == 0 || input.Length % InputSize != 0)
            {
                throw new ArgumentException($"The input has {input.Length} values, not a whole, non-zero number of samples of {InputSize}.", nameof(input));
            }

            int samples = input.Length / InputSize;
            if (output.Length != samples * OutputSize)
            {
                throw new ArgumentException($"The output span has {output.Length} values; {samples} samples write {samples * OutputSize}.", nameof(output));
            }

            int chunk = _rowWise ? Math.Min(samples, 256) : 1;
            Reserve(chunk);
            for (int s = 0; s < samples; s += chunk)
            {
                int n = Math.Min(chunk, samples - s);
                RunChunk(input.Slice(s * InputSize, n * InputSize), output.Slice(s * OutputSize, n * OutputSize), n, lengths.IsEmpty ? int.MaxValue : lengths[s], trace, values);
            }
        }

        /// <summary>
        /// Runs a model that reads token ids (<see cref="GraphValue.IsTokenIds"/>): sequences of <see cref="InputSize"/> ids one
        /// after another; the ids travel in the float input buffer, exactly (every id below 2^24 is a float).
        /// </summary>
        /// <exception cref="ArgumentException">The model reads values, or the spans do not hold whole sequences.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An id is outside an embedding's vocabulary.</exception>
        public void Run(ReadOnlySpan<int> ids, Span<float> output, ActivationTrace? trace = null)
        {
            if (!Graph.InputValue.IsTokenIds) throw new ArgumentException("This model reads values, not token ids.", nameof(ids));
            Run(IdsAsFloats(ids), output, trace, null);
        }

        /// <summary>
        /// Runs a padded batch of token-id sequences: <paramref name="lengths"/>[b] real tokens at the start of sequence b,
        /// each sequence <see cref="InputSize"/> ids long (the padding's ids, such as <c>[PAD]</c>, must be in the
        /// vocabulary). Attention attends only to the real tokens and mean pooling averages only them, as a model run with
        /// an attention mask of ones for the real tokens and zeros for the padding; padded rows are still computed.
        /// </summary>
        /// <exception cref="ArgumentException">The model reads values, the spans do not hold one sequence per length, or a
        /// length is not between 1 and <see cref="InputSize"/>.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An id is outside an embedding's vocabulary.</exception>
        public void Run(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths, Span<float> output, ActivationTrace? trace = null)
        {
            if (!Graph.InputValue.IsTokenIds) throw new ArgumentException("This model reads values, not token ids.", nameof(ids));
            if (lengths.IsEmpty || ids.Length != lengths.Length * InputSize)
            {
                throw new ArgumentException($"{ids.Length} ids do not form {lengths.Length} sequences of {InputSize} (pad each sequence to {InputSize} ids).", nameof(ids));
            }

            for (int b = 0; b < lengths.Length; b++)
            {
                if (lengths[b] < 1 || lengths[b] > InputSize)
                {
                    throw new ArgumentException($"Sequence {b} has length {lengths[b]}; lengths run from 1 to the model's {InputSize} tokens.", nameof(lengths));
                }
            }

            Run(IdsAsFloats(ids), output, trace, null, lengths);
        }

        private static float[] IdsAsFloats(ReadOnlySpan<int> ids)
        {
            var values = new float[ids.Length];
            for (int i = 0; i < ids.Length; i++) values[i] = ids[i] < 0 || ids[i] >= 1 << 24 ? -1 : ids[i];
            return values;
        }

        /// <summary>Runs a batch of rows and returns every node's activation (after its activation function), in order.</summary>
        public float[][] Forward(ReadOnlySpan<float> inputs)
        {
            int samples = inputs.Length / Math.Max(InputSize, 1);
            var outputs = new float[Graph.Values.Count][];
            var filled = new int[Graph.Values.Count];
            var result = new float[samples * OutputSize];
            Run(inputs, result, null, (value, values) =>
            {
                var target = outputs[value] ??= new float[Graph.Values[value].Elements * samples];
                values.CopyTo(target.AsSpan(filled[value]));
                filled[value] += values.Length;
            });
            var list = new List<float[]>();
            foreach (var node in Graph.Nodes)
            {
                if (!OpRules.KeepsInputQuantization(node.Kind)) list.Add(outputs[node.Output]!);
            }

            return list.ToArray();
        }

        /// <summary>Runs a batch of rows and returns the outputs.</summary>
        public float[] Run(ReadOnlySpan<float> inputs)
        {
            var result = new float[inputs.Length / Math.Max(InputSize, 1) * OutputSize];
            Run(inputs, result);
            return result;
        }

        private delegate void ValueTrace(int value, ReadOnlySpan<float> values);

        // tokens: the real tokens of the one sequence being run (int.MaxValue when nothing is padded).
        private void RunChunk(ReadOnlySpan<float> input, Span<float> output, int samples, int tokens, ActivationTrace? trace, ValueTrace? valueTrace)
        {
            var graph = Graph;
            float* x = _values[graph.Input];
            input.CopyTo(new Span<float>(x, input.Length));
            if (!graph.InputValue.IsTokenIds) trace?.Invoke(graph.InputValue.Name, input); // ids are no activation
            foreach (var op in _ops)
            {
                op.Run(_values, samples, tokens);
                var node = op.Node;
                if (OpRules.KeepsInputQuantization(node.Kind)) continue;
                var values = new ReadOnlySpan<float>(_values[node.Output], graph.Values[node.Output].Elements * samples);
                trace?.Invoke(graph.Values[node.Output].Name, values);
                valueTrace?.Invoke(node.Output, values);
            }

            new ReadOnlySpan<float>(_values[graph.Output], output.Length).CopyTo(output);
        }

        // Activation buffers for this many samples at once (constants are allocated once, in the constructor).
        private void Reserve(int samples)
        {
            if (samples <= _capacity) return;
            for (int v = 0; v < _values.Length; v++)
            {
                var value = Graph.Values[v];
                if (value.IsConstant) continue;
                _values[v] = _memory.Allocate((long)value.Elements * samples);
            }

            _capacity = samples;
        }

        /// <summary>The error function as the float model computes it in float32 (absolute error below 5e-7).</summary>
        public static float Erf(float x) => FloatKernels.Erf(x);

        /// <summary>The exact GELU as the float model computes it: <c>x (1 + erf(x / sqrt 2)) / 2</c>.</summary>
        public static float Gelu(float x) => FloatKernels.Gelu(x);
    }
}
