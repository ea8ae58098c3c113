using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Kernels
{
    public class MatMulAndAddReferenceTests
    {
        [Theory]
        [InlineData(1, 1, 1, false)]
        [InlineData(3, 17, 5, true)]
        [InlineData(16, 64, 16, true)]
        [InlineData(7, 9, 11, false)]
        public void MatMulMatchesTheDefinition(int rows, int depth, int columns, bool transposeB)
        {
            var rng = new Random(rows * 1000 + depth * 10 + columns);
            for (int trial = 0; trial < 10; trial++)
            {
                var a = FullyConnectedReferenceTests.RandomBytes(rng, rows * depth);
                var b = FullyConnectedReferenceTests.RandomBytes(rng, depth * columns);
                int za = rng.Next(-128, 128), zb = rng.Next(-128, 128), zo = rng.Next(-128, 128);
                FixedPoint.QuantizeMultiplier(Math.Exp(-rng.NextDouble() * 14), out int m0, out int shift);
                var actual = new sbyte[rows * columns];
                ReferenceKernels.MatMul(a, za, b, zb, transposeB, rows, depth, columns, m0, shift, zo, actual);
                for (int m = 0; m < rows; m++)
                for (int n = 0; n < columns; n++)
                {
                    long acc = 0;
                    for (int k = 0; k < depth; k++)
                    {
                        long bv = transposeB ? b[n * depth + k] : b[k * columns + n];
                        acc += (a[m * depth + k] - (long)za) * (bv - zb);
                    }
                    long v = IndependentOracle.MultiplyByQuantizedMultiplier(acc, m0, shift) + zo;
                    Assert.Equal(Math.Clamp(v, -128, 127), actual[m * columns + n]);
                }
            }
        }

        [Theory]
        [InlineData(0.02f, 3, 0.05f, -7, 0.06f, 1)]
        [InlineData(0.1f, -128, 0.1f, -128, 0.2f, -128)]
        [InlineData(0.003f, 10, 0.5f, 0, 0.4f, 20)]
        [InlineData(1e-3f, 0, 1e-3f, 0, 1e-3f, 0)]
        public void AddIsTheTfliteFormulaAndCloseToTheRealSum(float s1, int z1, float s2, int z2, float so, int zo)
        {
            var p = AddParameters.Create(new QuantizationParameters(s1, z1), new QuantizationParameters(s2, z2), new QuantizationParameters(so, zo));
            for (int q1 = -128; q1 <= 127; q1++)
            for (int q2 = -128; q2 <= 127; q2 += 3)
            {
                int actual = ReferenceKernels.AddOne(q1, q2, p);
                // The same steps from the definition, in exact arithmetic.
                long a = IndependentOracle.MultiplyByQuantizedMultiplier((q1 - (long)z1) << 20, p.Input1Multiplier, p.Input1Shift);
                long b = IndependentOracle.MultiplyByQuantizedMultiplier((q2 - (long)z2) << 20, p.Input2Multiplier, p.Input2Shift);
                long expected = Math.Clamp(IndependentOracle.MultiplyByQuantizedMultiplier(a + b, p.OutputMultiplier, p.OutputShift) + zo, -128, 127);
                Assert.Equal(expected, actual);
                // And it is the real sum, rounded, to within one step (two roundings happen on the way).
                double real = s1 * (q1 - z1) + s2 * (q2 - z2);
                double ideal = Math.Clamp(Math.Round(real / so) + zo, -128, 127);
                Assert.InRange(actual - ideal, -1, 1);
            }
        }

        [Fact]
        public void AddRejectsScalesTooFarApart()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => AddParameters.Create(
                new QuantizationParameters(1f, 0), new QuantizationParameters(1f, 0), new QuantizationParameters(1e-7f, 0)));
        }
    }
}
