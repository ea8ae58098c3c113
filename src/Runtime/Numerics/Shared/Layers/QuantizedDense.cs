using System;

namespace Gen.Runtime
{
    /// <summary>
    /// A fully connected layer in its integer form: INT8 weights, INT32 bias and the requantization constants.
    /// The generator builds it at compile time and the reference interpreter at run time, with the same code.
    /// </summary>
    public sealed class QuantizedDense
    {
        /// <summary>Creates a layer from already-quantized parts; checks every size and range.</summary>
        public QuantizedDense(string name, int inputSize, int outputSize, QuantizationParameters input,
            QuantizationParameters output, FusedActivation activation, sbyte[] weights, float[] weightScales,
            int[] bias, bool perChannel)
        {
            if (inputSize <= 0 || outputSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), "Layer sizes must be positive.");
            if (weights.Length != inputSize * outputSize) throw new ArgumentException($"{name}: {weights.Length} weights for [{outputSize}, {inputSize}].");
            if (bias.Length != outputSize) throw new ArgumentException($"{name}: {bias.Length} bias values for {outputSize} outputs.");
            int channels = perChannel ? outputSize : 1;
            if (weightScales.Length != channels) throw new ArgumentException($"{name}: {weightScales.Length} weight scales, expected {channels}.");
            foreach (sbyte w in weights)
            {
                if (w == sbyte.MinValue) throw new ArgumentException($"{name}: weight -128 found; symmetric INT8 weights live in [-127, 127].");
            }

            Name = name;
            InputSize = inputSize;
            OutputSize = outputSize;
            Input = input;
            Output = output;
            Activation = activation;
            Weights = weights;
            WeightScales = weightScales;
            Bias = bias;
            PerChannel = perChannel;
            Multipliers = new int[channels];
            Shifts = new int[channels];
            RealMultipliers = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                double real = perChannel
                    ? QuantizationMath.PerChannelMultiplier(input.Scale, weightScales[c], output.Scale)
                    : QuantizationMath.PerTensorMultiplier(input.Scale, weightScales[c], output.Scale);
                RealMultipliers[c] = real;
                FixedPoint.QuantizeMultiplier(real, out Multipliers[c], out Shifts[c]);
            }

            QuantizationMath.ActivationRange(activation, output.Scale, output.ZeroPoint, out int min, out int max);
            _activationMin = min;
            _activationMax = max;
        }

        private readonly int _activationMin, _activationMax;

        /// <summary>The layer's name, the prefix of its tensors (<c>fc1</c> for <c>fc1.weight</c>).</summary>
        public string Name { get; }

        /// <summary>K: input features.</summary>
        public int InputSize { get; }

        /// <summary>N: output features.</summary>
        public int OutputSize { get; }

        /// <summary>Quantization of the input activations.</summary>
        public QuantizationParameters Input { get; }

        /// <summary>Quantization of the output activations.</summary>
        public QuantizationParameters Output { get; }

        /// <summary>The fused activation.</summary>
        public FusedActivation Activation { get; }

        /// <summary>Row-major [OutputSize, InputSize] symmetric INT8 weights.</summary>
        public sbyte[] Weights { get; }

        /// <summary>One scale per output channel, or one for the tensor.</summary>
        public float[] WeightScales { get; }

        /// <summary>INT32 bias at scale <c>S_in * S_w[n]</c> (zeros when the layer has none).</summary>
        public int[] Bias { get; }

        /// <summary>Whether weights are quantized per output channel.</summary>
        public bool PerChannel { get; }

        /// <summary>Whether the weights file held the layer already quantized (INT8 weights with their scales).</summary>
        public bool PreQuantized { get; init; }

        /// <summary>M0 per channel (or one).</summary>
        public int[] Multipliers { get; }

        /// <summary>Shift per channel (or one).</summary>
        public int[] Shifts { get; }

        /// <summary>The real multipliers that <see cref="Multipliers"/> and <see cref="Shifts"/> encode.</summary>
        public double[] RealMultipliers { get; }

        /// <summary>Lower output clamp (the INT32 range for a wide output).</summary>
        public int ActivationMin => WideOutput ? int.MinValue : _activationMin;

        /// <summary>Upper output clamp (the INT32 range for a wide output).</summary>
        public int ActivationMax => WideOutput ? int.MaxValue : _activationMax;

        /// <summary>
        /// Whether the output is wide: the requantized INT32 (zero point 0, no clamp) stored as an int per channel instead of
        /// an INT8, for a layer that writes the residual stream. The requantization is the same.
        /// </summary>
        public bool WideOutput { get; internal set; }

        /// <summary>
        /// Quantizes a float layer as PyTorch stores it (weight [N, K], bias [N] or none): symmetric INT8 weights
        /// per channel (scale max|w[n]|/127; an all-zero channel gets the scale that makes its multiplier 1/2) or per
        /// tensor, bias rounded to INT32 at <c>S_in * S_w[n]</c>.
        /// </summary>
        public static QuantizedDense FromFloat(string name, int inputSize, int outputSize, QuantizationParameters input,
            QuantizationParameters output, FusedActivation activation, float[] weights, float[]? bias, bool perChannel)
        {
            if (weights.Length != inputSize * outputSize) throw new ArgumentException($"{name}: {weights.Length} weights for [{outputSize}, {inputSize}].");
            if (bias != null && bias.Length != outputSize) throw new ArgumentException($"{name}: {bias.Length} bias values for {outputSize} outputs.");
            float[] scales = perChannel
                ? QuantizationMath.ChooseSymmetricPerChannel(weights, outputSize)
                : new[] { QuantizationMath.ChooseSymmetric(QuantizationMath.MaxAbs(weights, 0, weights.Length)).Scale };
            // An all-zero channel (a pruned neuron, say) has no natural scale, and the placeholder 1 can put its
            // requantization multiplier S_in * 1 / S_out at 1 or more, or below 2^-32, so that a valid model is
            // rejected. Its zeros are exact at any scale: take the one that makes the multiplier 1/2.
            for (int c = 0; c < scales.Length; c++)
            {
                int start = perChannel ? c * inputSize : 0, count = perChannel ? inputSize : weights.Length;
                if (QuantizationMath.MaxAbs(weights, start, count) == 0)
                {
                    float scale = (float)(0.5 * output.Scale / input.Scale);
                    if (scale > 0 && !float.IsInfinity(scale)) scales[c] = scale;
                }
            }

            var q = new sbyte[weights.Length];
            for (int n = 0; n < outputSize; n++)
            {
                float scale = scales[perChannel ? n : 0];
                for (int k = 0; k < inputSize; k++)
                {
                    int i = n * inputSize + k;
                    q[i] = (sbyte)QuantizationMath.Quantize(weights[i], scale, 0, -QuantizationMath.SymmetricInt8Max, QuantizationMath.SymmetricInt8Max);
                }
            }

            var qb = new int[outputSize];
            if (bias != null)
            {
                for (int n = 0; n < outputSize; n++)
                {
                    qb[n] = QuantizationMath.QuantizeBias(bias[n], input.Scale, scales[perChannel ? n : 0]);
                }
            }

            return new QuantizedDense(name, inputSize, outputSize, input, output, activation, q, scales, qb, perChannel);
        }

        /// <summary>sum_k |w[n, k]| for one output channel.</summary>
        public long AbsoluteWeightSum(int n)
        {
            long sum = 0;
            for (int k = 0; k < InputSize; k++) sum += Math.Abs(Weights[n * InputSize + k]);
            return sum;
        }

        /// <summary>sum_k w[n, k] for one output channel (what the input zero point multiplies).</summary>
        public long WeightSum(int n)
        {
            long sum = 0;
            for (int k = 0; k < InputSize; k++) sum += Weights[n * InputSize + k];
            return sum;
        }

        /// <summary>
        /// A bound on every INT32 value any kernel forms for channel n, for any input: the reference sum of
        /// <c>w * (x - Z_in)</c> (|x - Z_in| &lt;= 255), the SIMD sums of <c>w * x</c> and <c>w * (x + 128)</c>
        /// (|.| &lt;= 255), and the biases with <c>Z_in sum w</c> or <c>(Z_in + 128) sum w</c> folded in (|Z_in + 128| &lt;= 255):
        /// all are within <c>256 sum |w| + |bias|</c>. Below 2^31 every kernel's INT32 arithmetic is exact.
        /// </summary>
        public long AccumulatorBound(int n) => 256 * AbsoluteWeightSum(n) + Math.Abs((long)Bias[n]);

        /// <summary>
        /// What makes <see cref="AccumulatorBound"/> of channel n exceed INT32, for a message: the products of the K inputs
        /// when they alone can (256 sum |w| beyond 2^31 - 1), otherwise the bias that takes them beyond it.
        /// </summary>
        public string AccumulatorOverflowCause(int n)
        {
            long products = 256 * AbsoluteWeightSum(n), bias = Bias[n];
            string k = InputSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string p = products.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string b = bias.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return products > int.MaxValue
                ? $"the products of the K = {k} inputs alone can reach {p} (256 x sum |w|; the bias adds {b}): split the layer or reduce its weights"
                : $"the INT32 bias {b} takes it there (the products of the K = {k} inputs reach at most {p} = 256 x sum |w|): quantize the bias again at the scale S_in * S_w, or lower it";
        }
    }
}
