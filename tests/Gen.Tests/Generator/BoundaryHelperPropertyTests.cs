using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using System.Numerics;
using CsCheck;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The generated <c>QuantizeInput</c> and <c>DequantizeOutput</c> on generated values: against the definition in exact
    /// arithmetic (the float32 quotient rounded half away from zero, ties included), and in round trips. The models are
    /// generated with their output quantization equal to their input quantization, so that the two helpers are inverse
    /// on the INT8 grid. Lengths cover the eight-wide vector loop and its scalar tail.
    /// </summary>
    public class BoundaryHelperPropertyTests
    {
        /// <summary>Quantizations to generate models for: tiny and large scales, zero points at both ends and inside.</summary>
        private static readonly (float Scale, int ZeroPoint)[] Quantizations =
        {
            (0.003921569f, -128), (1e-4f, 0), (0.37f, 100), (0.05f, 127), (2.5f, -7),
        };

        private static readonly ConcurrentDictionary<int, Lazy<Type>> Models = new();

        /// <summary>The generated model for quantization <paramref name="index"/>: one 8-wide dense layer from and to the same quantization.</summary>
        private static Type Model(int index) => Models.GetOrAdd(index, i => new Lazy<Type>(() =>
        {
            var (scale, zeroPoint) = Quantizations[i];
            var rng = new Random(i);
            var weights = new SafeTensorsWriter()
                .F32("fc1.weight", Enumerable.Range(0, 64).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 8, 8)
                .ToBytes();
            string source = string.Format(CultureInfo.InvariantCulture,
                "using Gen;\nnamespace Boundary;\n[QuantizedModel(\"weights/model.safetensors\")]\n[ModelInput(8, Scale = {0}, ZeroPoint = {1})]\n" +
                "[Dense(\"fc1\", 8, OutputScale = {0}, OutputZeroPoint = {1})]\npublic static partial class Model{2} {{ }}\n",
                RandomModel.F(scale), zeroPoint, i);
            var run = GeneratorHarness.Run(source, ("/project/weights/model.safetensors", weights));
            Assert.Empty(run.Errors);
            return run.Load().GetType("Boundary.Model" + i)!;
        })).Value;

        private static BoundaryHelperTests.QuantizeInput Quantize(Type t) =>
            t.GetMethod("QuantizeInput")!.CreateDelegate<BoundaryHelperTests.QuantizeInput>();

        private static BoundaryHelperTests.DequantizeOutput Dequantize(Type t) =>
            t.GetMethod("DequantizeOutput")!.CreateDelegate<BoundaryHelperTests.DequantizeOutput>();

        /// <summary>Finite floats around the INT8 grid of (scale, zero point): inside, far outside, on ties and next to them.</summary>
        private static Gen<float> Values(float scale, int zeroPoint) => Any.Frequency(
            (3, Any.Double[-200, 200].Select(q => (float)((q - zeroPoint) * scale))),
            (2, Any.Int[-200, 200].Select(q => (q - zeroPoint + 0.5f) * scale)),
            (1, Any.Int[-200, 200].Select(Any.Int[-2, 2], (q, ulps) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((q - zeroPoint + 0.5f) * scale) + ulps))),
            (1, Any.OneOf(Any.Const(0f), Any.Const(-0f), Any.Const(1e30f), Any.Const(-1e30f), Any.Const(float.MaxValue), Any.Const(float.MinValue),
                Any.Const(float.Epsilon), Any.Const(float.PositiveInfinity), Any.Const(float.NegativeInfinity))),
            (1, Any.Int[int.MinValue, int.MaxValue].Select(BitConverter.Int32BitsToSingle).Where(v => !float.IsNaN(v))));

        private static readonly Gen<(int Model, float[] Values)> Cases =
            Any.Int[0, Quantizations.Length - 1].SelectMany(m => Values(Quantizations[m].Scale, Quantizations[m].ZeroPoint).Array[0, 40].Select(v => (Model: m, Values: v)));

        /// <summary>clamp(round_half_away(value / scale) + zero point, -128, 127), the quotient in float32, rounded exactly.</summary>
        private static sbyte Oracle(float value, float scale, int zeroPoint)
        {
            float quotient = value / scale;
            if (float.IsInfinity(quotient)) return quotient > 0 ? sbyte.MaxValue : sbyte.MinValue;
            BigInteger q = zeroPoint;
            if (quotient != 0)
            {
                var (mantissa, exponent) = BigIntegerOracle.Exact(Math.Abs((double)quotient));
                BigInteger magnitude = exponent >= 0 ? mantissa * BigIntegerOracle.Pow2(exponent) : BigIntegerOracle.RoundHalfAway(mantissa, BigIntegerOracle.Pow2(-exponent));
                q += quotient < 0 ? -magnitude : magnitude;
            }

            return (sbyte)BigInteger.Max(-128, BigInteger.Min(127, q));
        }

        [Fact]
        public void QuantizeInputIsTheExactDefinition()
        {
            Cases.Sample((m, values) =>
            {
                var (scale, zeroPoint) = Quantizations[m];
                var actual = new sbyte[values.Length];
                Quantize(Model(m))(values, actual);
                for (int i = 0; i < values.Length; i++)
                {
                    Assert.True(Oracle(values[i], scale, zeroPoint) == actual[i],
                        $"value {i} = {values[i]:R}: expected {Oracle(values[i], scale, zeroPoint)}, QuantizeInput gave {actual[i]}");
                }
            }, iter: 1500, print: c => $"model {c.Item1} {Quantizations[c.Item1]}, values [{string.Join(", ", c.Item2.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]");
        }

        [Fact]
        public void DequantizeThenQuantizeIsTheIdentityOnTheGrid()
        {
            Any.Select(Any.Int[0, Quantizations.Length - 1], Any.SByte.Array[0, 40]).Sample((m, q) =>
            {
                var (scale, zeroPoint) = Quantizations[m];
                var real = new float[q.Length];
                Dequantize(Model(m))(q, real);
                for (int i = 0; i < q.Length; i++) Assert.Equal(scale * (q[i] - zeroPoint), real[i]);
                var back = new sbyte[q.Length];
                Quantize(Model(m))(real, back);
                Assert.Equal(q, back);
            }, iter: 500);
        }

        [Fact]
        public void QuantizeThenDequantizeIsWithinHalfAStepInsideTheGrid()
        {
            Cases.Sample((m, values) =>
            {
                var (scale, zeroPoint) = Quantizations[m];
                var q = new sbyte[values.Length];
                var back = new float[values.Length];
                Quantize(Model(m))(values, q);
                Dequantize(Model(m))(q, back);
                double lowest = scale * (-128.0 - zeroPoint), highest = scale * (127.0 - zeroPoint);
                for (int i = 0; i < values.Length; i++)
                {
                    double v = values[i];
                    if (v < lowest) Assert.Equal(-128, q[i]);
                    else if (v > highest) Assert.Equal(127, q[i]);
                    else Assert.InRange(Math.Abs(back[i] - v), 0, scale * 0.5001);
                }

                // Monotonic: sorting the values sorts their codes.
                var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
                for (int j = 1; j < order.Length; j++) Assert.True(q[order[j - 1]] <= q[order[j]]);
            }, iter: 1500);
        }

        [Fact]
        public void QuantizeInputReportsTheFirstNaN()
        {
            Any.Select(Any.Int[0, Quantizations.Length - 1], Any.Int[1, 40]).SelectMany((m, length) => Any.Int[0, length - 1].Select(nan => (m, length, nan)))
                .Sample((m, length, nan) =>
                {
                    var values = Enumerable.Repeat(0.25f, length).ToArray();
                    values[nan] = float.NaN;
                    var e = Assert.Throws<ArgumentException>(() => Quantize(Model(m))(values, new sbyte[length]));
                    Assert.Contains($"Input value {nan} is NaN", e.Message, StringComparison.Ordinal);
                }, iter: 200);
        }
    }
}
