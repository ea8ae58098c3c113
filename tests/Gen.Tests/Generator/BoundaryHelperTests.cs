using System;
using System.Linq;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>The generated float boundary helpers against Gen.Runtime's QuantizationMath (TFLite's Quantize).</summary>
    public class BoundaryHelperTests
    {
        public delegate void QuantizeInput(ReadOnlySpan<float> values, Span<sbyte> destination);
        public delegate void DequantizeOutput(ReadOnlySpan<sbyte> values, Span<float> destination);
        public delegate int ArgMax(ReadOnlySpan<sbyte> output);

        private static readonly Lazy<(Type Type, RandomModel Model)> Model = new(() =>
        {
            var model = RandomModel.Create(new Random(8), new[] { 19, 5 });
            var run = GeneratorHarness.Run(model.Source, ("/project/weights/model.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            return (run.Load().GetType("DiffTest.Model")!, model);
        });

        [Fact]
        public void QuantizeInputMatchesTheRuntimeExactlyIncludingTies()
        {
            var (type, _) = Model.Value;
            var quantize = type.GetMethod("QuantizeInput")!.CreateDelegate<QuantizeInput>();
            float scale = (float)type.GetField("InputScale")!.GetValue(null)!;
            int zeroPoint = (int)type.GetField("InputZeroPoint")!.GetValue(null)!;
            var rng = new Random(2);
            foreach (int length in new[] { 0, 1, 7, 8, 9, 19, 64, 1001 })
            {
                var values = new float[length];
                for (int i = 0; i < length; i++)
                {
                    values[i] = (i % 5) switch
                    {
                        0 => (float)((rng.NextDouble() - 0.5) * 300 * scale),           // the INT8 range and beyond
                        1 => (rng.Next(-200, 200) + 0.5f) * scale,                        // exact and near ties
                        2 => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((rng.Next(-100, 100) + 0.5f) * scale) + rng.Next(-2, 3)),
                        3 => rng.Next(2) == 0 ? 1e30f : -1e30f,                          // far out of range
                        _ => (float)(rng.NextDouble() * 2 - 1),
                    };
                }

                var actual = new sbyte[length];
                quantize(values, actual);
                var expected = values.Select(v => (sbyte)QuantizationMath.Quantize(v, scale, zeroPoint)).ToArray();
                Assert.Equal(expected, actual);
            }
        }

        [Fact]
        public void QuantizeInputRejectsNaNAndWrongLengths()
        {
            var quantize = Model.Value.Type.GetMethod("QuantizeInput")!.CreateDelegate<QuantizeInput>();
            var values = Enumerable.Repeat(0.5f, 16).ToArray();
            values[11] = float.NaN;
            var e = Assert.Throws<ArgumentException>(() => quantize(values, new sbyte[16]));
            Assert.Contains("Input value 11 is NaN", e.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => quantize(new float[3], new sbyte[4]));
        }

        [Fact]
        public void DequantizeAndArgMax()
        {
            var type = Model.Value.Type;
            var dequantize = type.GetMethod("DequantizeOutput")!.CreateDelegate<DequantizeOutput>();
            var argMax = type.GetMethod("ArgMax")!.CreateDelegate<ArgMax>();
            float scale = (float)type.GetField("OutputScale")!.GetValue(null)!;
            int zeroPoint = (int)type.GetField("OutputZeroPoint")!.GetValue(null)!;
            sbyte[] q = { -128, 3, 127, 127, 0 };
            var real = new float[5];
            dequantize(q, real);
            Assert.Equal(q.Select(v => scale * (v - zeroPoint)).ToArray(), real);
            Assert.Equal(2, argMax(q)); // the first of equal maxima
            Assert.Throws<ArgumentException>(() => argMax(ReadOnlySpan<sbyte>.Empty));
        }
    }
}
