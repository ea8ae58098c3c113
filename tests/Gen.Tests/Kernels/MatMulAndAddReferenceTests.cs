using System;
using CsCheck;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Kernels
{
    public class MatMulAndAddReferenceTests
    {
        private static readonly Gen<(int Rows, int Depth, int Columns, bool TransposeB, sbyte[] A, sbyte[] B, int Za, int Zb, int Zo, double Real)> MatMuls =
            from rows in Any.Int[1, 16]
            from depth in Any.Int[1, 64]
            from columns in Any.Int[1, 16]
            from transposeB in Any.Bool
            from a in Any.SByte.Array[rows * depth]
            from b in Any.SByte.Array[depth * columns]
            from za in Any.Int[-128, 127]
            from zb in Any.Int[-128, 127]
            from zo in Any.Int[-128, 127]
            from real in Any.Double[-14, 0].Select(Math.Exp)
            select (rows, depth, columns, transposeB, a, b, za, zb, zo, real);

        [Fact]
        public void MatMulMatchesTheDefinition()
        {
            MatMuls.Sample(c =>
            {
                FixedPoint.QuantizeMultiplier(c.Real, out int m0, out int shift);
                var actual = new sbyte[c.Rows * c.Columns];
                ReferenceKernels.MatMul(c.A, c.Za, c.B, c.Zb, c.TransposeB, c.Rows, c.Depth, c.Columns, m0, shift, c.Zo, actual);
                for (int m = 0; m < c.Rows; m++)
                for (int n = 0; n < c.Columns; n++)
                {
                    long acc = 0;
                    for (int k = 0; k < c.Depth; k++)
                    {
                        long bv = c.TransposeB ? c.B[n * c.Depth + k] : c.B[k * c.Columns + n];
                        acc += (c.A[m * c.Depth + k] - (long)c.Za) * (bv - c.Zb);
                    }
                    long v = IndependentOracle.MultiplyByQuantizedMultiplier(acc, m0, shift) + c.Zo;
                    Assert.Equal(Math.Clamp(v, -128, 127), actual[m * c.Columns + n]);
                }
            }, iter: 300);
        }

        /// <summary>The add on generated scales (within the factor the kernel can represent) and inputs.</summary>
        [Fact]
        public void AddOnGeneratedScalesIsTheTfliteFormulaAndCloseToTheRealSum()
        {
            var scale = Any.Double[1e-3, 0.2].Select(v => (float)v);
            Any.Select(Any.Select(scale, Any.Int[-128, 127], scale, Any.Int[-128, 127], Any.Double[0.6, 4.0], Any.Int[-128, 127]),
                    Any.SByte.Array[64], Any.SByte.Array[64])
                .Sample((q, x1, x2) =>
                {
                    var (s1, z1, s2, z2, ratio, zo) = q;
                    // The output scale at least about the larger input scale: the kernel's output multiplier is below one.
                    float so = (float)(Math.Max(s1, s2) * ratio);
                    var p = AddParameters.Create(new QuantizationParameters(s1, z1), new QuantizationParameters(s2, z2), new QuantizationParameters(so, zo));
                    for (int i = 0; i < x1.Length; i++)
                    {
                        int actual = ReferenceKernels.AddOne(x1[i], x2[i], p);
                        long a = IndependentOracle.MultiplyByQuantizedMultiplier((x1[i] - (long)z1) << 20, p.Input1Multiplier, p.Input1Shift);
                        long b = IndependentOracle.MultiplyByQuantizedMultiplier((x2[i] - (long)z2) << 20, p.Input2Multiplier, p.Input2Shift);
                        Assert.Equal(Math.Clamp(IndependentOracle.MultiplyByQuantizedMultiplier(a + b, p.OutputMultiplier, p.OutputShift) + zo, -128, 127), actual);
                        double ideal = Math.Clamp(Math.Round((s1 * (x1[i] - z1) + s2 * (x2[i] - z2)) / so) + zo, -128, 127);
                        Assert.InRange(actual - ideal, -1, 1);
                    }
                }, iter: 2000);
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
