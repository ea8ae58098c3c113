using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Gen.Runtime;

namespace Gen.Tests.Support
{
    /// <summary>A random model for differential tests: its declaration, its float tensors and its reference form.</summary>
    internal sealed class RandomModel
    {
        public required string Source { get; init; }
        public required byte[] Weights { get; init; }
        public required Gen.Runtime.Interpreter.ReferenceInterpreter Reference { get; init; }
        public required int InputSize { get; init; }
        public required int OutputSize { get; init; }
        public required string Description { get; init; }

        /// <param name="maxWeight">For pre-quantized models: the largest |INT8 weight| (small weights let the
        /// generator prove that the faster saturating routes are exact).</param>
        public static RandomModel Create(Random rng, int[] sizes, bool preQuantized = false, int maxWeight = 127)
        {
            var writer = new SafeTensorsWriter();
            var layers = new List<QuantizedDense>();
            var source = new StringBuilder("using Gen;\nnamespace DiffTest;\n[QuantizedModel(\"weights/model.safetensors\")]\n");
            float inScale = (float)(0.005 + 0.05 * rng.NextDouble());
            int inZp = rng.Next(-128, 128);
            source.Append(CultureInfo.InvariantCulture, $"[ModelInput({sizes[0]}, Scale = {F(inScale)}, ZeroPoint = {inZp})]\n");
            var input = new QuantizationParameters(inScale, inZp);
            var description = new StringBuilder($"{sizes[0]}");
            for (int l = 1; l < sizes.Length; l++)
            {
                int k = sizes[l - 1], n = sizes[l];
                string name = $"layer{l}";
                var w = new float[n * k];
                for (int i = 0; i < w.Length; i++) w[i] = (float)(Normal(rng) / Math.Sqrt(k));
                if (n > 1 && rng.Next(4) == 0) Array.Clear(w, 0, k); // an all-zero channel now and then
                var b = new float[n];
                for (int i = 0; i < n; i++) b[i] = (float)(Normal(rng) * 0.3);
                int activation = rng.Next(3);
                bool perChannel = rng.Next(2) == 0;
                float outScale = (float)(inScale * (0.3 + 3 * rng.NextDouble()));
                int outZp = rng.Next(-128, 128);
                var output = new QuantizationParameters(outScale, outZp);
                QuantizedDense dense;
                if (preQuantized && maxWeight < 127)
                {
                    // INT8 weights drawn directly in [-maxWeight, maxWeight], with their own scales and bias.
                    var qw = new sbyte[n * k];
                    for (int i = 0; i < qw.Length; i++) qw[i] = (sbyte)rng.Next(-maxWeight, maxWeight + 1);
                    int channels = perChannel ? n : 1;
                    var scales = new float[channels];
                    for (int c = 0; c < channels; c++) scales[c] = (float)((0.5 + rng.NextDouble()) * 2.0 / (maxWeight * Math.Sqrt(k)));
                    var qb = new int[n];
                    for (int i = 0; i < n; i++) qb[i] = rng.Next(-5000, 5000);
                    writer.I8(name + ".weight", qw, n, k);
                    writer.F32(name + ".weight_scale", scales, channels);
                    writer.I32(name + ".bias", qb, n);
                    dense = new QuantizedDense(name, k, n, input, output, (FusedActivation)activation, qw, scales, qb, perChannel);
                }
                else if (preQuantized)
                {
                    // A file quantized elsewhere: INT8 weights, their scales and an INT32 bias.
                    var reference = QuantizedDense.FromFloat(name, k, n, input, output, (FusedActivation)activation, w, b, perChannel);
                    writer.I8(name + ".weight", reference.Weights, n, k);
                    writer.F32(name + ".weight_scale", reference.WeightScales, reference.WeightScales.Length);
                    writer.I32(name + ".bias", reference.Bias, n);
                    dense = reference;
                }
                else
                {
                    writer.F32(name + ".weight", w, n, k);
                    bool hasBias = rng.Next(5) != 0;
                    if (hasBias) writer.F32(name + ".bias", b, n);
                    dense = QuantizedDense.FromFloat(name, k, n, input, output, (FusedActivation)activation, w, hasBias ? b : null, perChannel);
                }

                layers.Add(dense);
                string act = activation switch { 1 => "Relu", 2 => "Relu6", _ => "None" };
                source.Append(CultureInfo.InvariantCulture,
                    $"[Dense(\"{name}\", {n}, Activation = Activation.{act}, OutputScale = {F(outScale)}, OutputZeroPoint = {outZp}, Weights = WeightQuantization.{(perChannel ? "PerChannel" : "PerTensor")})]\n");
                description.Append(CultureInfo.InvariantCulture, $" -> {n} ({act}, {(perChannel ? "per-channel" : "per-tensor")})");
                input = output;
            }

            source.Append("public static partial class Model { }\n");
            return new RandomModel
            {
                Source = source.ToString(),
                Weights = writer.ToBytes(),
                Reference = new Gen.Runtime.Interpreter.ReferenceInterpreter(sizes[0], new QuantizationParameters(inScale, inZp), layers),
                InputSize = sizes[0],
                OutputSize = sizes[^1],
                Description = description.ToString(),
            };
        }

        public static string F(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

        private static double Normal(Random rng) =>
            Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}
