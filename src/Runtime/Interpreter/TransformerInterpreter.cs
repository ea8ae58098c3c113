using System;
using Gen.Runtime.Kernels;

namespace Gen.Runtime.Interpreter
{
    /// <summary>Receives an INT8 activation of the integer model: its name (see <see cref="TransformerNames"/>), values and quantization.</summary>
    public delegate void QuantizedActivationTrace(string name, ReadOnlySpan<sbyte> values, QuantizationParameters quantization);

    /// <summary>
    /// Runs a <see cref="QuantizedTransformer"/> step by step with the scalar reference kernels. It defines what
    /// generated transformer code must compute, bit for bit, and is the oracle of the differential tests. Slow by
    /// design; allocates per call.
    /// </summary>
    public sealed class TransformerInterpreter
    {
        /// <summary>Creates an interpreter for <paramref name="model"/>.</summary>
        public TransformerInterpreter(QuantizedTransformer model) => Model = model ?? throw new ArgumentNullException(nameof(model));

        /// <summary>The integer model.</summary>
        public QuantizedTransformer Model { get; }

        /// <summary>Values per input image.</summary>
        public int InputSize => Model.Shape.InputSize;

        /// <summary>Values per output row.</summary>
        public int OutputSize => Model.Shape.OutputSize;

        /// <summary>Runs a batch of whole images; <paramref name="trace"/>, when given, sees every activation of every image.</summary>
        /// <exception cref="ArgumentException">The spans do not hold the same whole, non-zero number of images and outputs.</exception>
        public void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, QuantizedActivationTrace? trace = null)
        {
            if (input.Length == 0 || input.Length % InputSize != 0)
            {
                throw new ArgumentException($"Input of {input.Length} values is not a whole, non-zero number of images of {InputSize}.", nameof(input));
            }

            int batch = input.Length / InputSize;
            if (output.Length != batch * OutputSize)
            {
                throw new ArgumentException($"Output holds {output.Length} values; {batch} images need {batch * OutputSize}.", nameof(output));
            }

            for (int b = 0; b < batch; b++)
            {
                RunOne(input.Slice(b * InputSize, InputSize), output.Slice(b * OutputSize, OutputSize), trace);
            }
        }

        private void RunOne(ReadOnlySpan<sbyte> image, Span<sbyte> output, QuantizedActivationTrace? trace)
        {
            var m = Model;
            var shape = m.Shape;
            int tokens = shape.Tokens, width = shape.Width;
            trace?.Invoke(TransformerNames.Input, image, m.Input);

            sbyte[] patches = Patchify(image, shape);
            sbyte[] projected = Dense(patches, m.Patch, tokens);
            trace?.Invoke(TransformerNames.PatchOutput(shape.Embedding), projected, m.Patch.Output);
            var x = new sbyte[tokens * width];
            Add(projected, m.Position, m.PositionAdd, x);
            trace?.Invoke(TransformerNames.EmbeddingOutput(shape.Embedding), x, m.Embedding);

            foreach (var layer in m.Layers)
            {
                string p = layer.Shape.Prefix;
                sbyte[] n1 = Norm(x, layer.Norm1, tokens);
                trace?.Invoke(TransformerNames.Norm1(p), n1, layer.Query.Input);
                sbyte[] q = Dense(n1, layer.Query, tokens);
                sbyte[] k = Dense(n1, layer.Key, tokens);
                sbyte[] v = Dense(n1, layer.Value, tokens);
                trace?.Invoke(TransformerNames.Query(p), q, layer.Query.Output);
                trace?.Invoke(TransformerNames.Key(p), k, layer.Key.Output);
                trace?.Invoke(TransformerNames.Value(p), v, layer.Value.Output);
                sbyte[] context = Attention(q, k, v, layer, tokens, width);
                trace?.Invoke(TransformerNames.Context(p), context, layer.Context);
                sbyte[] attended = Dense(context, layer.Output, tokens);
                trace?.Invoke(TransformerNames.AttentionOutput(p), attended, layer.Output.Output);
                var residual = new sbyte[x.Length];
                Add(x, attended, layer.AttentionResidual, residual);
                trace?.Invoke(TransformerNames.AttentionResidual(p), residual, layer.AttentionResidualOutput);

                sbyte[] n2 = Norm(residual, layer.Norm2, tokens);
                trace?.Invoke(TransformerNames.Norm2(p), n2, layer.Fc1.Input);
                sbyte[] hidden = Dense(n2, layer.Fc1, tokens);
                trace?.Invoke(TransformerNames.Fc1(p), hidden, layer.Fc1.Output);
                var gelu = new sbyte[hidden.Length];
                IntGelu.Gelu(hidden, gelu, layer.Gelu);
                trace?.Invoke(TransformerNames.Gelu(p), gelu, layer.Fc2.Input);
                sbyte[] fed = Dense(gelu, layer.Fc2, tokens);
                trace?.Invoke(TransformerNames.Fc2(p), fed, layer.Fc2.Output);
                x = new sbyte[residual.Length];
                Add(residual, fed, layer.FeedForwardResidual, x);
                trace?.Invoke(TransformerNames.FeedForwardResidual(p), x, layer.FeedForwardResidualOutput);
            }

            sbyte[] normed = Norm(x, m.FinalNorm, tokens);
            var normQuantization = new QuantizationParameters((float)m.FinalNorm.OutputScale, m.FinalNorm.OutputZeroPoint);
            trace?.Invoke(shape.FinalNorm, normed, normQuantization);

            // Mean over tokens: sum_t (x_t - Z) requantized by S_norm / (T S_pool).
            var pooled = new sbyte[width];
            for (int c = 0; c < width; c++)
            {
                int sum = 0;
                for (int t = 0; t < tokens; t++) sum += normed[t * width + c] - normQuantization.ZeroPoint;
                pooled[c] = ReferenceKernels.Requantize(sum, m.PoolMultiplier, m.PoolShift, m.Pool.ZeroPoint, -128, 127);
            }

            trace?.Invoke(TransformerNames.Pool, pooled, m.Pool);
            sbyte[] current = pooled;
            foreach (var dense in m.Head)
            {
                current = Dense(current, dense, 1);
                trace?.Invoke(dense.Name, current, dense.Output);
            }

            current.CopyTo(output);
        }

        /// <summary>
        /// Token t's values: the patch at grid (t / columns, t % columns), ordered (channel, row, column) within it.
        /// </summary>
        private static sbyte[] Patchify(ReadOnlySpan<sbyte> image, TransformerShape shape)
        {
            int p = shape.PatchSize, columns = shape.ImageWidth / p;
            var patches = new sbyte[shape.Tokens * shape.PatchValues];
            int i = 0;
            for (int t = 0; t < shape.Tokens; t++)
            {
                int top = t / columns * p, left = t % columns * p;
                for (int c = 0; c < shape.Channels; c++)
                {
                    for (int dy = 0; dy < p; dy++)
                    {
                        for (int dx = 0; dx < p; dx++)
                        {
                            patches[i++] = image[(c * shape.ImageHeight + top + dy) * shape.ImageWidth + left + dx];
                        }
                    }
                }
            }

            return patches;
        }

        private static void Add(sbyte[] a, sbyte[] b, ResidualAddPlan plan, sbyte[] sum)
        {
            for (int i = 0; i < sum.Length; i++) sum[i] = plan.Apply(a[i], b[i]);
        }

        private static sbyte[] Dense(sbyte[] input, QuantizedDense layer, int rows)
        {
            var output = new sbyte[rows * layer.OutputSize];
            ReferenceKernels.FullyConnected(input, layer.Input.ZeroPoint, layer.Weights, layer.Bias, layer.Multipliers,
                layer.Shifts, layer.Output.ZeroPoint, layer.ActivationMin, layer.ActivationMax, output, layer.InputSize,
                layer.OutputSize);
            return output;
        }

        private static sbyte[] Norm(sbyte[] input, LayerNormPlan plan, int rows)
        {
            var output = new sbyte[input.Length];
            int width = plan.Width;
            for (int t = 0; t < rows; t++)
            {
                IntLayerNorm.LayerNorm(input.AsSpan(t * width, width), output.AsSpan(t * width, width), plan);
            }

            return output;
        }

        /// <summary>
        /// Multi-head attention on INT8 Q, K, V ([tokens, width], head h in features h * d to (h + 1) * d - 1): INT32
        /// scores <c>sum_d (q - Z_q)(k - Z_k)</c>, integer Softmax per row (1/sqrt(d) folded into its constants), then
        /// <c>sum_j (p_j + 128)(v_j - Z_v)</c> requantized to the context's INT8 parameters.
        /// </summary>
        private static sbyte[] Attention(sbyte[] q, sbyte[] k, sbyte[] v, QuantizedEncoderLayer layer, int tokens, int width)
        {
            int d = layer.HeadSize;
            int zq = layer.Query.Output.ZeroPoint, zk = layer.Key.Output.ZeroPoint, zv = layer.Value.Output.ZeroPoint;
            var context = new sbyte[tokens * width];
            var scores = new int[tokens];
            var probabilities = new sbyte[tokens];
            for (int h = 0; h < layer.Shape.Heads; h++)
            {
                int offset = h * d;
                for (int i = 0; i < tokens; i++)
                {
                    for (int j = 0; j < tokens; j++)
                    {
                        int score = 0;
                        for (int e = 0; e < d; e++)
                        {
                            score += (q[i * width + offset + e] - zq) * (k[j * width + offset + e] - zk);
                        }

                        scores[j] = score;
                    }

                    IntSoftmax.Softmax(scores, probabilities, layer.Softmax);
                    for (int e = 0; e < d; e++)
                    {
                        int sum = 0;
                        for (int j = 0; j < tokens; j++)
                        {
                            sum += (probabilities[j] - SoftmaxPlan.OutputZeroPoint) * (v[j * width + offset + e] - zv);
                        }

                        context[i * width + offset + e] = ReferenceKernels.Requantize(sum, layer.ContextMultiplier,
                            layer.ContextShift, layer.Context.ZeroPoint, -128, 127);
                    }
                }
            }

            return context;
        }
    }
}
