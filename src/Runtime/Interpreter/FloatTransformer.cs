using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Gen.Runtime.Interpreter
{
    /// <summary>
    /// Receives one activation of a traced forward pass of <see cref="FloatTransformer"/>: its name (one of
    /// <see cref="TransformerNames.Activations"/>) and its values, valid only during the call.
    /// </summary>
    public delegate void ActivationTrace(string name, ReadOnlySpan<float> values);

    /// <summary>
    /// The float32 forward pass of a vision transformer (<see cref="TransformerShape"/>) whose weights PyTorch saved:
    /// the accuracy baseline of an INT8 transformer, the model calibration runs to see its activations, and a fast
    /// float competitor in benchmarks.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The weights are read once, transposed to [inputs, outputs] with the outputs padded to 16 floats, and kept with
    /// every intermediate buffer in pinned, 64-byte aligned memory, so <see cref="Run(ReadOnlySpan{float}, Span{float})"/>
    /// allocates nothing. The matrix products use AVX-512 FMA where the CPU has it, <see cref="System.Numerics.Vector{T}"/>
    /// otherwise (see <c>FloatKernels</c>).
    /// </para>
    /// <para>
    /// An instance is not thread-safe: its buffers hold the activations of the image being run. Use one instance per
    /// thread; each keeps its own packed copy of the weights (about 300 KB for the MNIST sample).
    /// </para>
    /// <para>
    /// Numerics: LayerNorm as PyTorch's <c>nn.LayerNorm</c> with epsilon 1e-5 (<see cref="LayerNormEpsilon"/>);
    /// GELU is the exact erf form with a float erf of absolute error below 5e-7; softmax subtracts the row maximum.
    /// The result matches PyTorch's float32 to rounding (the summation order differs).
    /// </para>
    /// </remarks>
    public sealed unsafe class FloatTransformer
    {
        /// <summary>The epsilon of every LayerNorm, PyTorch's default.</summary>
        public const float LayerNormEpsilon = 1e-5f;

        private const int AlignmentFloats = 16; // 64 bytes: one cache line, one AVX-512 vector

        private readonly List<float[]> _pinned = new();
        private readonly Dense _patch;
        private readonly float* _position;
        private readonly Layer[] _layers;
        private readonly Norm _finalNorm;
        private readonly Dense[] _head;
        private readonly FusedActivation[] _headActivation;
        private readonly string[] _headNames;
        private readonly string _patchName, _embeddingName, _finalNormName;

        // Activations, token-major [tokens, features]. Every buffer has one vector of slack at its end, because the
        // matrix product reads whole vectors of B (see FloatKernels.MatMul).
        private readonly float* _patches;   // [T, PatchValues] image cut into patches
        private readonly float* _x;         // [T, W] the residual stream
        private readonly float* _normed;    // [T, W] LayerNorm output
        private readonly float* _q, _k, _v; // [T, W]
        private readonly float* _keysT;     // [W, TokensPadded] K transposed: the B operand of Q K^T
        private readonly float* _scores;    // [T, TokensPadded] one head's attention weights
        private readonly float* _context;   // [T, W]
        private readonly float* _projected; // [T, W] attention output or second feed-forward layer, before the residual add
        private readonly float* _hidden;    // [T, FeedForward] first feed-forward layer, then its GELU
        private readonly float* _pool;      // [W]
        private readonly float* _headA, _headB;
        private readonly int _tokensPadded;

        /// <summary>
        /// Reads the transformer's float32 tensors from <paramref name="weights"/> (names from
        /// <see cref="TransformerNames"/>) and prepares them for <see cref="Run(ReadOnlySpan{float}, Span{float})"/>.
        /// </summary>
        /// <remarks>
        /// Every <c>.weight</c> tensor and the position embedding are required; a missing <c>.bias</c> counts as zeros.
        /// The patch projection may be a Conv2d weight [Width, Channels, PatchSize, PatchSize] or a Linear weight
        /// [Width, Channels * PatchSize^2]; the position embedding [Tokens, Width] or [1, Tokens, Width].
        /// </remarks>
        /// <exception cref="ArgumentException">The shape is inconsistent, or a tensor is missing, not F32, not finite
        /// or not of the expected shape (the message names the tensor and the shape expected).</exception>
        public FloatTransformer(SafeTensorsFile weights, TransformerShape shape)
        {
            if (weights is null) throw new ArgumentNullException(nameof(weights));
            Shape = shape ?? throw new ArgumentNullException(nameof(shape));
            string? problem = shape.Validate();
            if (problem != null) throw new ArgumentException(problem, nameof(shape));

            int t = shape.Tokens, w = shape.Width, pv = shape.PatchValues;
            int p = shape.PatchSize, c = shape.Channels;
            string embed = shape.Embedding;
            var reader = new TensorReader(weights);

            float[] patchWeight = reader.Read(TransformerNames.PatchWeight(embed), new[] { w, c, p, p }, new[] { w, pv });
            _patch = Pack(patchWeight, reader.ReadBias(TransformerNames.PatchBias(embed), w), w, pv);
            _position = Copy(reader.Read(TransformerNames.Position(embed), new[] { t, w }, new[] { 1, t, w }));

            _layers = new Layer[shape.Layers.Count];
            int maxFeedForward = 0;
            for (int l = 0; l < _layers.Length; l++)
            {
                var spec = shape.Layers[l];
                string prefix = spec.Prefix;
                maxFeedForward = Math.Max(maxFeedForward, spec.FeedForward);
                _layers[l] = new Layer
                {
                    Heads = spec.Heads,
                    FeedForward = spec.FeedForward,
                    Norm1 = ReadNorm(reader, TransformerNames.Norm1(prefix), w),
                    Query = ReadLinear(reader, TransformerNames.Query(prefix), w, w),
                    Key = ReadLinear(reader, TransformerNames.Key(prefix), w, w),
                    Value = ReadLinear(reader, TransformerNames.Value(prefix), w, w),
                    Output = ReadLinear(reader, TransformerNames.AttentionOutput(prefix), w, w),
                    Norm2 = ReadNorm(reader, TransformerNames.Norm2(prefix), w),
                    Fc1 = ReadLinear(reader, TransformerNames.Fc1(prefix), spec.FeedForward, w),
                    Fc2 = ReadLinear(reader, TransformerNames.Fc2(prefix), w, spec.FeedForward),
                    Names = new[]
                    {
                        TransformerNames.Norm1(prefix), TransformerNames.Query(prefix), TransformerNames.Key(prefix),
                        TransformerNames.Value(prefix), TransformerNames.Context(prefix), TransformerNames.AttentionOutput(prefix),
                        TransformerNames.AttentionResidual(prefix), TransformerNames.Norm2(prefix), TransformerNames.Fc1(prefix),
                        TransformerNames.Gelu(prefix), TransformerNames.Fc2(prefix), TransformerNames.FeedForwardResidual(prefix),
                    },
                };
            }

            _finalNorm = ReadNorm(reader, shape.FinalNorm, w);
            _head = new Dense[shape.Head.Count];
            _headActivation = new FusedActivation[shape.Head.Count];
            _headNames = new string[shape.Head.Count];
            int inputs = w, maxHead = w;
            for (int h = 0; h < _head.Length; h++)
            {
                var dense = shape.Head[h];
                _head[h] = ReadLinear(reader, dense.Name, dense.Outputs, inputs);
                _headActivation[h] = dense.Activation;
                _headNames[h] = dense.Name;
                inputs = dense.Outputs;
                maxHead = Math.Max(maxHead, dense.Outputs);
            }

            _patchName = TransformerNames.PatchOutput(embed);
            _embeddingName = TransformerNames.EmbeddingOutput(embed);
            _finalNormName = shape.FinalNorm;
            ActivationNames = TransformerNames.Activations(shape);

            _tokensPadded = FloatKernels.Padded(t);
            _patches = Allocate(t * pv);
            _x = Allocate(t * w);
            _normed = Allocate(t * w);
            _q = Allocate(t * w);
            _k = Allocate(t * w);
            _v = Allocate(t * w);
            _keysT = Allocate(w * _tokensPadded);
            _scores = Allocate(t * _tokensPadded);
            _context = Allocate(t * w);
            _projected = Allocate(t * w);
            _hidden = Allocate(t * Math.Max(1, maxFeedForward));
            _pool = Allocate(w);
            _headA = Allocate(maxHead);
            _headB = Allocate(maxHead);
        }

        /// <summary>The architecture.</summary>
        public TransformerShape Shape { get; }

        /// <summary>Values per image (channels x rows x columns, CHW).</summary>
        public int InputSize => Shape.InputSize;

        /// <summary>Values per output (the last head layer's outputs).</summary>
        public int OutputSize => Shape.OutputSize;

        /// <summary>The names a trace reports, in order (<see cref="TransformerNames.Activations"/>).</summary>
        public IReadOnlyList<string> ActivationNames { get; }

        /// <summary>Runs one image (CHW, as the model was trained on it) and writes the outputs (logits).</summary>
        /// <exception cref="ArgumentException">A span does not have <see cref="InputSize"/> or <see cref="OutputSize"/> values.</exception>
        public void Run(ReadOnlySpan<float> image, Span<float> logits) => Run(image, logits, null);

        /// <summary>
        /// Runs one image and, when <paramref name="trace"/> is not null, reports every activation to it in the order
        /// of <see cref="ActivationNames"/>: <c>input</c> is the image as given; token activations are [tokens, features]
        /// row-major; <c>pool</c> and the head layers (after their activation) are single rows.
        /// </summary>
        /// <exception cref="ArgumentException">A span does not have <see cref="InputSize"/> or <see cref="OutputSize"/> values.</exception>
        public void Run(ReadOnlySpan<float> image, Span<float> logits, ActivationTrace? trace)
        {
            var s = Shape;
            if (image.Length != s.InputSize)
            {
                throw new ArgumentException(
                    $"The image has {image.Length} values; the transformer takes {s.InputSize} ({s.Channels} x {s.ImageHeight} x {s.ImageWidth}, CHW).",
                    nameof(image));
            }

            if (logits.Length != s.OutputSize)
            {
                throw new ArgumentException($"The output span has {logits.Length} values; the transformer writes {s.OutputSize}.", nameof(logits));
            }

            int t = s.Tokens, w = s.Width, pv = s.PatchValues;
            trace?.Invoke(TransformerNames.Input, image);

            // Patch embedding: cut the image into patches (features ordered channel, row, column, as a Conv2d weight),
            // project them, then add the position embedding.
            Patchify(image);
            FloatKernels.MatMul(_patches, pv, _patch.Weights, _patch.Stride, _patch.Bias, _x, w, t, w, pv);
            trace?.Invoke(_patchName, Span(_x, t * w));
            FloatKernels.Add(_x, _position, t * w);
            trace?.Invoke(_embeddingName, Span(_x, t * w));

            foreach (var layer in _layers)
            {
                string[] names = layer.Names;
                FloatKernels.LayerNorm(_x, _normed, t, w, layer.Norm1.Gamma, layer.Norm1.Beta, LayerNormEpsilon);
                trace?.Invoke(names[0], Span(_normed, t * w));
                Linear(_normed, layer.Query, _q, t);
                trace?.Invoke(names[1], Span(_q, t * w));
                Linear(_normed, layer.Key, _k, t);
                trace?.Invoke(names[2], Span(_k, t * w));
                Linear(_normed, layer.Value, _v, t);
                trace?.Invoke(names[3], Span(_v, t * w));
                Attention(layer.Heads);
                trace?.Invoke(names[4], Span(_context, t * w));
                Linear(_context, layer.Output, _projected, t);
                trace?.Invoke(names[5], Span(_projected, t * w));
                FloatKernels.Add(_x, _projected, t * w);
                trace?.Invoke(names[6], Span(_x, t * w));

                FloatKernels.LayerNorm(_x, _normed, t, w, layer.Norm2.Gamma, layer.Norm2.Beta, LayerNormEpsilon);
                trace?.Invoke(names[7], Span(_normed, t * w));
                Linear(_normed, layer.Fc1, _hidden, t);
                trace?.Invoke(names[8], Span(_hidden, t * layer.FeedForward));
                FloatKernels.Gelu(_hidden, t * layer.FeedForward);
                trace?.Invoke(names[9], Span(_hidden, t * layer.FeedForward));
                Linear(_hidden, layer.Fc2, _projected, t);
                trace?.Invoke(names[10], Span(_projected, t * w));
                FloatKernels.Add(_x, _projected, t * w);
                trace?.Invoke(names[11], Span(_x, t * w));
            }

            FloatKernels.LayerNorm(_x, _normed, t, w, _finalNorm.Gamma, _finalNorm.Beta, LayerNormEpsilon);
            trace?.Invoke(_finalNormName, Span(_normed, t * w));
            FloatKernels.MeanOfRows(_normed, _pool, t, w);
            trace?.Invoke(TransformerNames.Pool, Span(_pool, w));

            float* current = _pool;
            for (int h = 0; h < _head.Length; h++)
            {
                float* next = current == _headA ? _headB : _headA;
                Linear(current, _head[h], next, 1);
                FloatKernels.Activate(next, _head[h].Outputs, _headActivation[h]);
                trace?.Invoke(_headNames[h], Span(next, _head[h].Outputs));
                current = next;
            }

            Span(current, s.OutputSize).CopyTo(logits);
        }

        /// <summary>The error function as <see cref="FloatTransformer"/> computes it in float32 (absolute error below 5e-7).</summary>
        public static float Erf(float x) => FloatKernels.Erf(x);

        /// <summary>The exact GELU as <see cref="FloatTransformer"/> computes it: <c>x (1 + erf(x / sqrt 2)) / 2</c>.</summary>
        public static float Gelu(float x) => FloatKernels.Gelu(x);

        private void Patchify(ReadOnlySpan<float> image)
        {
            var s = Shape;
            int p = s.PatchSize, columns = s.ImageWidth / p, plane = s.ImageHeight * s.ImageWidth, pv = s.PatchValues;
            for (int token = 0; token < s.Tokens; token++)
            {
                int top = token / columns * p, left = token % columns * p;
                float* patch = _patches + token * pv;
                for (int c = 0; c < s.Channels; c++)
                {
                    for (int r = 0; r < p; r++)
                    {
                        image.Slice(c * plane + (top + r) * s.ImageWidth + left, p).CopyTo(new Span<float>(patch + (c * p + r) * p, p));
                    }
                }
            }
        }

        // Multi-head attention of _q, _k, _v into _context: head h uses features h * hs .. (h + 1) * hs - 1, and its
        // context columns land in the same features.
        private void Attention(int heads)
        {
            int t = Shape.Tokens, w = Shape.Width, hs = w / heads, tp = _tokensPadded;
            for (int i = 0; i < t; i++)
            {
                for (int f = 0; f < w; f++) _keysT[f * tp + i] = _k[i * w + f];
            }

            float scale = 1f / MathF.Sqrt(hs);
            for (int h = 0; h < heads; h++)
            {
                // Scores Q_h K_h^T: rows are queries, columns keys.
                FloatKernels.MatMul(_q + h * hs, w, _keysT + h * hs * tp, tp, null, _scores, tp, t, t, hs);
                for (int i = 0; i < t; i++) FloatKernels.Softmax(_scores + i * tp, t, scale);
                // Context = weights x V_h. V_h's rows are read as whole vectors past the head's hs columns (into the next
                // head's features, or the buffer's slack for the last row); those lanes are not stored.
                FloatKernels.MatMul(_scores, tp, _v + h * hs, w, null, _context + h * hs, w, t, hs, t);
            }
        }

        private static void Linear(float* input, in Dense dense, float* output, int rows) =>
            FloatKernels.MatMul(input, dense.Inputs, dense.Weights, dense.Stride, dense.Bias, output, dense.Outputs, rows, dense.Outputs, dense.Inputs);

        private static ReadOnlySpan<float> Span(float* p, int length) => new ReadOnlySpan<float>(p, length);

        private Dense ReadLinear(TensorReader reader, string prefix, int outputs, int inputs)
        {
            string name = prefix + ".weight";
            float[] weight = reader.Read(name, new[] { outputs, inputs });
            return Pack(weight, reader.ReadBias(prefix + ".bias", outputs), outputs, inputs);
        }

        private Norm ReadNorm(TensorReader reader, string prefix, int width) => new Norm
        {
            Gamma = Copy(reader.Read(prefix + ".weight", new[] { width })),
            Beta = Copy(reader.ReadBias(prefix + ".bias", width) ?? new float[width]),
        };

        // PyTorch's [outputs, inputs] becomes [inputs, padded outputs]: row p holds every output's weight for input p,
        // so one vector load feeds 16 outputs; the padding columns are zero.
        private Dense Pack(float[] weight, float[]? bias, int outputs, int inputs)
        {
            int stride = FloatKernels.Padded(outputs);
            float* packed = Allocate(inputs * stride);
            for (int n = 0; n < outputs; n++)
            {
                for (int k = 0; k < inputs; k++) packed[k * stride + n] = weight[n * inputs + k];
            }

            float* b = null;
            if (bias != null)
            {
                b = Allocate(stride);
                bias.AsSpan().CopyTo(new Span<float>(b, outputs));
            }

            return new Dense { Weights = packed, Bias = b, Inputs = inputs, Outputs = outputs, Stride = stride };
        }

        private float* Copy(float[] values)
        {
            float* p = Allocate(values.Length);
            values.AsSpan().CopyTo(new Span<float>(p, values.Length));
            return p;
        }

        // A zeroed, 64-byte aligned buffer with one vector of slack at the end, in a pinned array (the pinned object
        // heap never moves it, and _pinned keeps it alive as long as this instance).
        private float* Allocate(int count)
        {
            var array = GC.AllocateArray<float>(count + 2 * AlignmentFloats, pinned: true);
            _pinned.Add(array);
            float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            int misalignment = (int)(((nuint)start / sizeof(float)) % AlignmentFloats);
            return start + (AlignmentFloats - misalignment) % AlignmentFloats;
        }

        private struct Dense
        {
            public float* Weights; // [Inputs, Stride]
            public float* Bias;    // [Stride] or null
            public int Inputs, Outputs, Stride;
        }

        private struct Norm
        {
            public float* Gamma, Beta;
        }

        private sealed class Layer
        {
            public int Heads, FeedForward;
            public Norm Norm1, Norm2;
            public Dense Query, Key, Value, Output, Fc1, Fc2;
            public string[] Names = Array.Empty<string>();
        }

        /// <summary>Reads F32 tensors by name with one clear message per problem.</summary>
        private sealed class TensorReader
        {
            private readonly SafeTensorsFile _file;

            public TensorReader(SafeTensorsFile file) => _file = file;

            /// <summary>A required tensor whose shape is one of <paramref name="shapes"/> (the first is the one named in messages).</summary>
            public float[] Read(string name, params int[][] shapes)
            {
                string expected = string.Join(" or ", Array.ConvertAll(shapes, ShapeText));
                if (!_file.Tensors.TryGetValue(name, out var tensor))
                {
                    throw new ArgumentException($"Tensor '{name}' not found in the weights file; the transformer expects F32 {expected}.", "weights");
                }

                return Check(tensor, expected, shapes);
            }

            /// <summary>An optional bias [outputs]: null when the file has none.</summary>
            public float[]? ReadBias(string name, int outputs) =>
                _file.Tensors.TryGetValue(name, out var tensor) ? Check(tensor, ShapeText(new[] { outputs }), new[] { new[] { outputs } }) : null;

            private float[] Check(SafeTensor tensor, string expected, int[][] shapes)
            {
                if (tensor.DataType != "F32")
                {
                    throw new ArgumentException($"Tensor '{tensor.Name}' is {tensor.DataType} {tensor.ShapeText}; the float transformer needs F32 {expected}.", "weights");
                }

                if (!Array.Exists(shapes, s => s.AsSpan().SequenceEqual(tensor.Shape)))
                {
                    throw new ArgumentException($"Tensor '{tensor.Name}' has shape {tensor.ShapeText}; the transformer expects {expected}.", "weights");
                }

                float[] values = _file.ReadFloat32(tensor);
                foreach (float v in values)
                {
                    if (!float.IsFinite(v)) throw new ArgumentException($"Tensor '{tensor.Name}' holds {v}; weights must be finite.", "weights");
                }

                return values;
            }

            private static string ShapeText(int[] shape) => "[" + string.Join(", ", shape) + "]";
        }
    }
}
