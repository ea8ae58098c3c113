using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using System.Text.Json;
using Gen.Runtime;

namespace Gen.Benchmarks
{
    /// <summary>
    /// One benchmarked layer and its inputs, prepared for every kernel: the float32 weights read from the same
    /// safetensors file the generator compiled, the INT8 weights, bias and multipliers the naive loop needs (quantized
    /// with Gen.Runtime's TFLite rules, so it computes the same numbers as the generated code), and random inputs.
    /// </summary>
    public sealed class DenseLayer
    {
        private DenseLayer(GemmShape shape)
        {
            Shape = shape;
            ModelId = GeneratedModels.Id(shape.K, shape.N);
            (InputScale, InputZeroPoint, OutputScale, OutputZeroPoint) = GeneratedModels.Quantization(ModelId);
            (FloatWeights, FloatBias) = ReadSafetensors(shape.K, shape.N);

            var quantized = QuantizedDense.FromFloat("fc", shape.K, shape.N, new QuantizationParameters(InputScale, InputZeroPoint),
                new QuantizationParameters(OutputScale, OutputZeroPoint), FusedActivation.None, FloatWeights, FloatBias, perChannel: true);
            QuantizedWeights = (sbyte[])quantized.Weights.Clone();
            QuantizedBias = (int[])quantized.Bias.Clone();
            Multipliers = (int[])quantized.Multipliers.Clone();
            Shifts = (int[])quantized.Shifts.Clone();

            // Inputs: uniform INT8 from a fixed seed; the float kernel gets the same values dequantized.
            var random = new Random(12345 + shape.M * 7 + shape.K * 131 + shape.N);
            Inputs = new sbyte[shape.M * shape.K];
            for (int i = 0; i < Inputs.Length; i++) Inputs[i] = (sbyte)random.Next(-128, 128);
            FloatInputs = new float[Inputs.Length];
            for (int i = 0; i < Inputs.Length; i++) FloatInputs[i] = InputScale * (Inputs[i] - InputZeroPoint);
        }

        public GemmShape Shape { get; }
        public int ModelId { get; }
        public float InputScale { get; }
        public int InputZeroPoint { get; }
        public float OutputScale { get; }
        public int OutputZeroPoint { get; }

        /// <summary>Row-major [N, K] float32 weights, as PyTorch stores nn.Linear.</summary>
        public float[] FloatWeights { get; }
        public float[] FloatBias { get; }
        public sbyte[] QuantizedWeights { get; }
        public int[] QuantizedBias { get; }
        public int[] Multipliers { get; }
        public int[] Shifts { get; }
        public sbyte[] Inputs { get; }
        public float[] FloatInputs { get; }

        /// <summary>Prepares the layer of a shape "MxKxN".</summary>
        public static DenseLayer Create(string shape) => new DenseLayer(GemmShape.Parse(shape));

        private static (float[] Weights, float[] Bias) ReadSafetensors(int k, int n)
        {
            string relative = GeneratedModels.WeightsFile(k, n);
            string path = Path.Combine(AppContext.BaseDirectory, relative);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{relative} is missing next to the program; build the project to generate it.", path);
            }

            byte[] bytes = File.ReadAllBytes(path);
            int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength));
            float[] Tensor(string name, int count)
            {
                JsonElement offsets = header.RootElement.GetProperty(name).GetProperty("data_offsets");
                int begin = 8 + headerLength + offsets[0].GetInt32();
                var values = new float[count];
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(begin + 4 * i));
                return values;
            }

            return (Tensor("fc.weight", n * k), Tensor("fc.bias", n));
        }
    }
}
