using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// The integer model means what the float model means: on random transformers, every activation the reference
    /// interpreter traces, dequantized, is close to the same activation of a plain double-precision forward pass.
    /// This checks the quantization itself (scales, zero points, 1/sqrt(d), the residual adds, pooling), which the
    /// differential tests, comparing generated code with the interpreter, cannot.
    /// </summary>
    public class QuantizedTransformerFidelityTests
    {
        private readonly ITestOutputHelper _output;

        public QuantizedTransformerFidelityTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData(51, 8, 4, 16, 2, 24, 1)]
        [InlineData(52, 12, 3, 24, 4, 48, 2)]
        public void IntegerActivationsFollowTheFloatModel(int seed, int image, int patch, int width, int heads, int feedForward, int layers)
        {
            var rng = new Random(seed);
            var model = RandomTransformer.Create(rng, image, 1, patch, width, heads, feedForward, layers, outputs: 6);
            var tensors = ReadTensors(model.Weights);
            var input = model.Parameters[TransformerNames.Input];
            var worst = new Dictionary<string, double>();
            for (int sample = 0; sample < 8; sample++)
            {
                var q = new sbyte[model.Shape.InputSize];
                for (int i = 0; i < q.Length; i++) q[i] = (sbyte)rng.Next(-128, 128);
                var real = q.Select(v => (double)input.Scale * (v - input.ZeroPoint)).ToArray();
                var floats = new Dictionary<string, double[]>();
                NaiveTransformer.Run(model.Shape, tensors, real, (name, values) => floats[name] = values);
                model.Reference.Run(q, new sbyte[model.Shape.OutputSize], (name, values, quantization) =>
                {
                    var expected = floats[name];
                    Assert.Equal(expected.Length, values.Length);
                    double dot = 0, ee = 0, aa = 0;
                    for (int i = 0; i < values.Length; i++)
                    {
                        double a = quantization.Scale * (values[i] - quantization.ZeroPoint);
                        dot += a * expected[i];
                        ee += expected[i] * expected[i];
                        aa += a * a;
                    }

                    double cosine = ee == 0 && aa == 0 ? 1 : dot / Math.Sqrt(ee * aa + 1e-300);
                    worst[name] = Math.Min(worst.TryGetValue(name, out var w) ? w : 1, cosine);
                });
            }

            foreach (var (name, cosine) in worst) _output.WriteLine($"{name,-28} worst cosine {cosine:F4}");
            Assert.Equal(TransformerNames.Activations(model.Shape).Count, worst.Count);
            // Errors accumulate through the layers; every activation still points the same way as the float one.
            foreach (var (name, cosine) in worst) Assert.True(cosine > 0.99, $"{name}: cosine {cosine:F4} to the float activation");
        }

        private static Dictionary<string, float[]> ReadTensors(byte[] bytes)
        {
            var file = SafeTensorsFile.Parse(bytes);
            return file.Tensors.ToDictionary(t => t.Key, t => file.ReadFloat32(t.Value));
        }
    }
}
