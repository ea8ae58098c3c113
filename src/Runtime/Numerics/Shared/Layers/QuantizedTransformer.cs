using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>What is wrong with a model's weights or parameters (see <see cref="ModelDefinitionException"/>).</summary>
    public enum ModelProblem
    {
        /// <summary>A tensor the declaration needs is not in the weights file.</summary>
        TensorMissing,

        /// <summary>A tensor has the wrong shape or element type.</summary>
        ShapeMismatch,

        /// <summary>A value (a weight, a scale, a derived multiplier) is out of the range the integer model supports.</summary>
        OutOfRange,

        /// <summary>A weight or bias is NaN or infinite.</summary>
        NotFinite,

        /// <summary>A tensor has a data type the model cannot use (a transformer's weights must be F32).</summary>
        UnsupportedType,
    }

    /// <summary>
    /// A model's weights or quantization parameters do not fit its declaration. <see cref="Component"/> names the
    /// declared part (a tensor prefix) so that the generator can point at the attribute that declares it.
    /// </summary>
    public sealed class ModelDefinitionException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public ModelDefinitionException(string component, ModelProblem problem, string message, string tensor = "",
            string detail = "", string expected = "")
            : base(message)
        {
            Component = component;
            Problem = problem;
            Tensor = tensor;
            Detail = detail;
            Expected = expected;
        }

        /// <summary>The tensor at fault, if any.</summary>
        public string Tensor { get; }

        /// <summary>For a missing tensor, the tensors the file has; for a mis-shaped one, its shape and type.</summary>
        public string Detail { get; }

        /// <summary>For a mis-shaped tensor, what the declaration needs.</summary>
        public string Expected { get; }

        /// <summary>The declared part at fault: the embedding, an encoder layer's prefix, the final norm or a head layer.</summary>
        public string Component { get; }

        /// <summary>The kind of problem.</summary>
        public ModelProblem Problem { get; }
    }

    /// <summary>
    /// One encoder layer in integer form: the two LayerNorm plans, the four attention projections and the two
    /// feed-forward layers as <see cref="QuantizedDense"/>, the Softmax plan with 1/sqrt(head size) folded in, the
    /// context requantization, the GELU plan and the two residual adds.
    /// </summary>
    public sealed class QuantizedEncoderLayer
    {
        internal QuantizedEncoderLayer(EncoderLayerShape shape, int headSize, LayerNormPlan norm1, QuantizedDense query,
            QuantizedDense key, QuantizedDense value, SoftmaxPlan softmax, QuantizationParameters context,
            int contextMultiplier, int contextShift, QuantizedDense output, ResidualAddPlan attentionResidual,
            QuantizationParameters attentionResidualOutput, LayerNormPlan norm2, QuantizedDense fc1, GeluPlan gelu,
            QuantizedDense fc2, ResidualAddPlan feedForwardResidual, QuantizationParameters feedForwardResidualOutput)
        {
            Shape = shape;
            HeadSize = headSize;
            Norm1 = norm1;
            Query = query;
            Key = key;
            Value = value;
            Softmax = softmax;
            Context = context;
            ContextMultiplier = contextMultiplier;
            ContextShift = contextShift;
            Output = output;
            AttentionResidual = attentionResidual;
            AttentionResidualOutput = attentionResidualOutput;
            Norm2 = norm2;
            Fc1 = fc1;
            Gelu = gelu;
            Fc2 = fc2;
            FeedForwardResidual = feedForwardResidual;
            FeedForwardResidualOutput = feedForwardResidualOutput;
        }

        /// <summary>The declared shape.</summary>
        public EncoderLayerShape Shape { get; }

        /// <summary>Features per head.</summary>
        public int HeadSize { get; }

        /// <summary>LayerNorm before attention.</summary>
        public LayerNormPlan Norm1 { get; }

        /// <summary>Query projection.</summary>
        public QuantizedDense Query { get; }

        /// <summary>Key projection.</summary>
        public QuantizedDense Key { get; }

        /// <summary>Value projection.</summary>
        public QuantizedDense Value { get; }

        /// <summary>
        /// Softmax of the INT32 scores <c>sum_d (q - Z_q)(k - Z_k)</c>: input scale <c>S_q S_k</c> with the factor
        /// <c>1/sqrt(HeadSize)</c>; output INT8 probabilities at 1/256, zero point -128.
        /// </summary>
        public SoftmaxPlan Softmax { get; }

        /// <summary>Quantization of the attention context (all heads side by side).</summary>
        public QuantizationParameters Context { get; }

        /// <summary>M0 of <c>S_v / (256 S_context)</c>: requantizes <c>sum_j (p_j + 128)(v_j - Z_v)</c>.</summary>
        public int ContextMultiplier { get; }

        /// <summary>Shift of <c>S_v / (256 S_context)</c> (<see cref="FixedPoint.QuantizeMultiplier"/>).</summary>
        public int ContextShift { get; }

        /// <summary>Attention output projection.</summary>
        public QuantizedDense Output { get; }

        /// <summary>The add of the layer input and the attention output.</summary>
        public ResidualAddPlan AttentionResidual { get; }

        /// <summary>Quantization of the tokens after the attention residual.</summary>
        public QuantizationParameters AttentionResidualOutput { get; }

        /// <summary>LayerNorm before the feed-forward block.</summary>
        public LayerNormPlan Norm2 { get; }

        /// <summary>First feed-forward layer (its INT8 output feeds GELU).</summary>
        public QuantizedDense Fc1 { get; }

        /// <summary>GELU from Fc1's INT8 output to the GELU activation's INT8 parameters.</summary>
        public GeluPlan Gelu { get; }

        /// <summary>Second feed-forward layer.</summary>
        public QuantizedDense Fc2 { get; }

        /// <summary>The add of the attention residual and the feed-forward output.</summary>
        public ResidualAddPlan FeedForwardResidual { get; }

        /// <summary>Quantization of the layer's output tokens.</summary>
        public QuantizationParameters FeedForwardResidualOutput { get; }
    }

    /// <summary>
    /// A vision transformer (<see cref="TransformerShape"/>) in integer form, built from float weights and the
    /// quantization parameters of every activation. The generator builds it at compile time and the reference
    /// interpreter at run time, with this same code, so both hold the very same integers.
    /// </summary>
    public sealed class QuantizedTransformer
    {
        private QuantizedTransformer(TransformerShape shape, QuantizationParameters input, QuantizedDense patch,
            sbyte[] position, QuantizationParameters positionQuantization, ResidualAddPlan positionAdd,
            QuantizationParameters embedding, QuantizedEncoderLayer[] layers, LayerNormPlan finalNorm,
            QuantizationParameters pool, int poolMultiplier, int poolShift, QuantizedDense[] head)
        {
            Shape = shape;
            Input = input;
            Patch = patch;
            Position = position;
            PositionQuantization = positionQuantization;
            PositionAdd = positionAdd;
            Embedding = embedding;
            Layers = layers;
            FinalNorm = finalNorm;
            Pool = pool;
            PoolMultiplier = poolMultiplier;
            PoolShift = poolShift;
            Head = head;
        }

        /// <summary>The declared architecture.</summary>
        public TransformerShape Shape { get; }

        /// <summary>Quantization of the input image.</summary>
        public QuantizationParameters Input { get; }

        /// <summary>The patch projection, applied to each token's patch values.</summary>
        public QuantizedDense Patch { get; }

        /// <summary>The position embedding, [Tokens, Width], symmetric INT8 at <see cref="PositionQuantization"/>.</summary>
        public sbyte[] Position { get; }

        /// <summary>Symmetric per-tensor quantization of the position embedding: <c>max |position| / 127</c>.</summary>
        public QuantizationParameters PositionQuantization { get; }

        /// <summary>The add of the projected patches and the position embedding.</summary>
        public ResidualAddPlan PositionAdd { get; }

        /// <summary>Quantization of the tokens entering the first encoder layer.</summary>
        public QuantizationParameters Embedding { get; }

        /// <summary>The encoder layers in order.</summary>
        public IReadOnlyList<QuantizedEncoderLayer> Layers { get; }

        /// <summary>LayerNorm before pooling.</summary>
        public LayerNormPlan FinalNorm { get; }

        /// <summary>Quantization of the pooled vector.</summary>
        public QuantizationParameters Pool { get; }

        /// <summary>M0 of <c>S_norm / (Tokens S_pool)</c>: requantizes <c>sum_t (x_t - Z_norm)</c> to the mean.</summary>
        public int PoolMultiplier { get; }

        /// <summary>Shift of <c>S_norm / (Tokens S_pool)</c>.</summary>
        public int PoolShift { get; }

        /// <summary>The head's dense layers.</summary>
        public IReadOnlyList<QuantizedDense> Head { get; }

        /// <summary>Quantization of the output.</summary>
        public QuantizationParameters Output => Head.Count == 0 ? Pool : Head[Head.Count - 1].Output;

        /// <summary>
        /// Quantizes a transformer: weights symmetric INT8 per output channel (or per tensor), biases INT32, and every
        /// fixed-point constant derived from <paramref name="parameters"/>, which gives the quantization of each
        /// activation named by <see cref="TransformerNames.Activations"/>.
        /// </summary>
        /// <exception cref="ModelDefinitionException">A tensor is missing or mis-shaped, or a value is out of range.</exception>
        public static QuantizedTransformer Create(TransformerShape shape, SafeTensorsFile weights,
            Func<string, QuantizationParameters> parameters, bool perChannel = true)
        {
            string? problem = shape.Validate();
            if (problem != null) throw new ModelDefinitionException(shape.Embedding, ModelProblem.OutOfRange, problem);
            var reader = new Reader(weights);
            int width = shape.Width, tokens = shape.Tokens;
            string embed = shape.Embedding;

            var input = parameters(TransformerNames.Input);
            var patchOut = parameters(TransformerNames.PatchOutput(embed));
            float[] patchWeight = reader.Float(embed, TransformerNames.PatchWeight(embed),
                new[] { width, shape.Channels, shape.PatchSize, shape.PatchSize }, new[] { width, shape.PatchValues });
            float[]? patchBias = reader.OptionalFloat(embed, TransformerNames.PatchBias(embed), width);
            var patch = Dense(embed, embed, shape.PatchValues, width, input, patchOut, FusedActivation.None, patchWeight, patchBias, perChannel);

            float[] position = reader.Float(embed, TransformerNames.Position(embed), new[] { tokens, width }, new[] { 1, tokens, width });
            var positionQuantization = QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(position, 0, position.Length));
            var positionValues = new sbyte[position.Length];
            for (int i = 0; i < position.Length; i++)
            {
                positionValues[i] = (sbyte)QuantizationMath.Quantize(position[i], positionQuantization.Scale, 0);
            }

            var embedding = parameters(TransformerNames.EmbeddingOutput(embed));
            var positionAdd = Add(embed, "the position embedding add", patchOut, positionQuantization, embedding);

            var layers = new QuantizedEncoderLayer[shape.Layers.Count];
            var current = embedding;
            for (int l = 0; l < layers.Length; l++)
            {
                layers[l] = Layer(shape.Layers[l], width, tokens, current, reader, parameters, perChannel);
                current = layers[l].FeedForwardResidualOutput;
            }

            var finalOut = parameters(shape.FinalNorm);
            var finalNorm = Norm(shape.FinalNorm, shape.FinalNorm, width, current, finalOut, reader);

            var pool = parameters(TransformerNames.Pool);
            int poolMultiplier, poolShift;
            try
            {
                Multiplier(finalOut.Scale / ((double)tokens * pool.Scale), out poolMultiplier, out poolShift);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ModelDefinitionException(shape.FinalNorm, ModelProblem.OutOfRange, "Mean pooling: " + Reason(e));
            }

            var head = new QuantizedDense[shape.Head.Count];
            int features = width;
            current = pool;
            for (int h = 0; h < head.Length; h++)
            {
                var declared = shape.Head[h];
                var output = parameters(declared.Name);
                float[] w = reader.Float(declared.Name, declared.Name + ".weight", new[] { declared.Outputs, features }, null);
                float[]? b = reader.OptionalFloat(declared.Name, declared.Name + ".bias", declared.Outputs);
                head[h] = Dense(declared.Name, declared.Name, features, declared.Outputs, current, output, declared.Activation, w, b, perChannel);
                features = declared.Outputs;
                current = output;
            }

            return new QuantizedTransformer(shape, input, patch, positionValues, positionQuantization, positionAdd, embedding,
                layers, finalNorm, pool, poolMultiplier, poolShift, head);
        }

        private static QuantizedEncoderLayer Layer(EncoderLayerShape shape, int width, int tokens, QuantizationParameters input,
            Reader reader, Func<string, QuantizationParameters> parameters, bool perChannel)
        {
            string p = shape.Prefix;
            int headSize = width / shape.Heads;

            var norm1Out = parameters(TransformerNames.Norm1(p));
            var norm1 = Norm(p, TransformerNames.Norm1(p), width, input, norm1Out, reader);
            var query = Linear(p, TransformerNames.Query(p), width, width, norm1Out, parameters, reader, perChannel);
            var key = Linear(p, TransformerNames.Key(p), width, width, norm1Out, parameters, reader, perChannel);
            var value = Linear(p, TransformerNames.Value(p), width, width, norm1Out, parameters, reader, perChannel);

            SoftmaxPlan softmax;
            var context = parameters(TransformerNames.Context(p));
            int contextMultiplier, contextShift;
            try
            {
                softmax = SoftmaxPlan.Create((double)query.Output.Scale * key.Output.Scale, 1.0 / Math.Sqrt(headSize));
                Multiplier(value.Output.Scale * SoftmaxPlan.OutputScale / context.Scale, out contextMultiplier, out contextShift);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ModelDefinitionException(p, ModelProblem.OutOfRange, $"Attention of '{p}': {Reason(e)}");
            }

            var output = Linear(p, TransformerNames.AttentionOutput(p), width, width, context, parameters, reader, perChannel);
            var residual1 = parameters(TransformerNames.AttentionResidual(p));
            var add1 = Add(p, $"the attention residual add of '{p}'", input, output.Output, residual1);

            var norm2Out = parameters(TransformerNames.Norm2(p));
            var norm2 = Norm(p, TransformerNames.Norm2(p), width, residual1, norm2Out, reader);
            var fc1 = Linear(p, TransformerNames.Fc1(p), width, shape.FeedForward, norm2Out, parameters, reader, perChannel);
            var geluOut = parameters(TransformerNames.Gelu(p));
            GeluPlan gelu;
            try
            {
                gelu = GeluPlan.CreateInt8(fc1.Output.Scale, fc1.Output.ZeroPoint, geluOut.Scale, geluOut.ZeroPoint);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ModelDefinitionException(p, ModelProblem.OutOfRange, $"GELU of '{p}': {Reason(e)}");
            }

            var fc2 = Linear(p, TransformerNames.Fc2(p), shape.FeedForward, width, geluOut, parameters, reader, perChannel);
            var residual2 = parameters(TransformerNames.FeedForwardResidual(p));
            var add2 = Add(p, $"the feed-forward residual add of '{p}'", residual1, fc2.Output, residual2);

            return new QuantizedEncoderLayer(shape, headSize, norm1, query, key, value, softmax, context, contextMultiplier,
                contextShift, output, add1, residual1, norm2, fc1, gelu, fc2, add2, residual2);
        }

        private static QuantizedDense Linear(string component, string name, int inputs, int outputs, QuantizationParameters input,
            Func<string, QuantizationParameters> parameters, Reader reader, bool perChannel)
        {
            float[] w = reader.Float(component, name + ".weight", new[] { outputs, inputs }, null);
            float[]? b = reader.OptionalFloat(component, name + ".bias", outputs);
            return Dense(component, name, inputs, outputs, input, parameters(name), FusedActivation.None, w, b, perChannel);
        }

        private static QuantizedDense Dense(string component, string name, int inputs, int outputs, QuantizationParameters input,
            QuantizationParameters output, FusedActivation activation, float[] weights, float[]? bias, bool perChannel)
        {
            QuantizedDense dense;
            try
            {
                dense = QuantizedDense.FromFloat(name, inputs, outputs, input, output, activation, weights, bias, perChannel);
            }
            catch (Exception e) when (e is ArgumentException || e is OverflowException)
            {
                throw new ModelDefinitionException(component, ModelProblem.OutOfRange, $"Layer '{name}': {Reason(e)}");
            }

            for (int c = 0; c < dense.Multipliers.Length; c++)
            {
                if (dense.Shifts[c] > 0 || (dense.Multipliers[c] == 0 && dense.RealMultipliers[c] > 0))
                {
                    throw new ModelDefinitionException(component, ModelProblem.OutOfRange, string.Format(CultureInfo.InvariantCulture,
                        "Layer '{0}' channel {1}: the requantization multiplier S_in * S_w / S_out = {2:G9} {3}.", name, c,
                        dense.RealMultipliers[c], dense.Shifts[c] > 0
                            ? "is 1 or more; Gen requires it below 1 (raise the output scale)"
                            : "is below 2^-32 and would flush every output to the zero point (lower the output scale)"));
                }
            }

            for (int n = 0; n < outputs; n++)
            {
                long bound = dense.AccumulatorBound(n);
                if (bound > int.MaxValue)
                {
                    throw new ModelDefinitionException(component, ModelProblem.OutOfRange, string.Format(CultureInfo.InvariantCulture,
                        "Layer '{0}' channel {1}: an INT32 accumulator can reach {2} for some input, beyond 2^31 - 1: {3}.", name, n, bound,
                        dense.AccumulatorOverflowCause(n)));
                }
            }

            return dense;
        }

        private static LayerNormPlan Norm(string component, string name, int width, QuantizationParameters input,
            QuantizationParameters output, Reader reader)
        {
            float[] gamma = reader.Float(component, name + ".weight", new[] { width }, null);
            float[] beta = reader.OptionalFloat(component, name + ".bias", width) ?? new float[width];
            try
            {
                return LayerNormPlan.Create(gamma, beta, input.Scale, output.Scale, output.ZeroPoint);
            }
            catch (ArgumentException e)
            {
                throw new ModelDefinitionException(component, ModelProblem.OutOfRange, $"LayerNorm '{name}': {Reason(e)}");
            }
        }

        private static ResidualAddPlan Add(string component, string what, QuantizationParameters a, QuantizationParameters b,
            QuantizationParameters output)
        {
            try
            {
                return ResidualAddPlan.Create(a, b, output);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ModelDefinitionException(component, ModelProblem.OutOfRange, $"In {what}: {Reason(e)}");
            }
        }

        /// <summary>
        /// An exception's message for a diagnostic: without the " (Parameter 'real')" and "Actual value was ..." that
        /// ArgumentException and ArgumentOutOfRangeException append (in either runtime's wording).
        /// </summary>
        internal static string Reason(Exception e)
        {
            string message = e.Message;
            if (e is ArgumentException argument)
            {
                foreach (string marker in new[] { " (Parameter '", "\r\nParameter name:", "\nParameter name:", "\r\nActual value was", "\nActual value was" })
                {
                    int at = message.IndexOf(marker, StringComparison.Ordinal);
                    if (at >= 0) message = message.Substring(0, at);
                }
            }

            return message.TrimEnd();
        }

        /// <summary>A requantization multiplier below 1 as (M0, shift); throws when it is 1 or more, or underflows.</summary>
        private static void Multiplier(double real, out int m0, out int shift)
        {
            if (!(real > 0) || !(real < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(real), real, string.Format(CultureInfo.InvariantCulture,
                    "the requantization multiplier {0:G9} must be in (0, 1); check the activation scales.", real));
            }

            FixedPoint.QuantizeMultiplier(real, out m0, out shift);
            if (m0 == 0)
            {
                throw new ArgumentOutOfRangeException(nameof(real), real, string.Format(CultureInfo.InvariantCulture,
                    "the requantization multiplier {0:G9} is below 2^-32 and would flush every value to the zero point.", real));
            }
        }

        /// <summary>Reads float tensors by name, checking their shape and values.</summary>
        private sealed class Reader
        {
            private readonly SafeTensorsFile _file;

            public Reader(SafeTensorsFile file) => _file = file;

            public float[] Float(string component, string name, int[] shape, int[]? alternative)
            {
                if (!_file.Tensors.TryGetValue(name, out var tensor))
                {
                    var names = new List<string>(_file.Tensors.Keys);
                    names.Sort(StringComparer.Ordinal);
                    string list = names.Count == 0 ? "no tensors" : string.Join(", ", names.GetRange(0, Math.Min(12, names.Count))) + (names.Count > 12 ? ", ..." : "");
                    throw new ModelDefinitionException(component, ModelProblem.TensorMissing,
                        $"'{component}' needs the tensor '{name}' of shape {Text(shape)}, which the weights file does not have (it has: {list}).",
                        name, list);
                }

                return Read(component, tensor, shape, alternative);
            }

            public float[]? OptionalFloat(string component, string name, int length) =>
                _file.Tensors.TryGetValue(name, out var tensor) ? Read(component, tensor, new[] { length }, null) : null;

            private float[] Read(string component, SafeTensor tensor, int[] shape, int[]? alternative)
            {
                if (!Same(tensor.Shape, shape) && (alternative is null || !Same(tensor.Shape, alternative)))
                {
                    string expected = Text(shape) + (alternative is null ? "" : " or " + Text(alternative)) + $" ('{component}')";
                    throw new ModelDefinitionException(component, ModelProblem.ShapeMismatch,
                        $"'{tensor.Name}' has shape {tensor.ShapeText}; the model declares {expected}.", tensor.Name, tensor.ShapeText, expected);
                }

                if (tensor.DataType != "F32")
                {
                    throw new ModelDefinitionException(component, ModelProblem.UnsupportedType,
                        $"'{tensor.Name}' is {tensor.DataType}; a transformer's weights must be F32 (Gen quantizes them at build time)",
                        tensor.Name, tensor.DataType, "F32");
                }

                float[] values = _file.ReadFloat32(tensor);
                for (int i = 0; i < values.Length; i++)
                {
                    if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                    {
                        throw new ModelDefinitionException(component, ModelProblem.NotFinite,
                            $"'{tensor.Name}' element {i.ToString(CultureInfo.InvariantCulture)} is {values[i].ToString(CultureInfo.InvariantCulture)}; weights must be finite",
                            tensor.Name);
                    }
                }

                return values;
            }

            private static bool Same(int[] a, int[] b)
            {
                if (a.Length != b.Length) return false;
                for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
                return true;
            }

            private static string Text(int[] shape) => "[" + string.Join(", ", shape) + "]";
        }
    }
}
