using System;
using CsCheck;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Kernels
{
    public class FullyConnectedReferenceTests
    {
        // The TFLite fully connected formula computed the plain way: a long accumulator over (x - Z_in) * w, the
        // bias, exact requantization from the definition, zero point, clamp.
        private static sbyte[] Straightforward(sbyte[] x, int zIn, sbyte[] w, int[] bias, int[] m0, int[] shift,
            int zOut, int min, int max, int batch, int k, int n)
        {
            var y = new sbyte[batch * n];
            for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                long acc = bias.Length == 0 ? 0 : bias[j];
                for (int i = 0; i < k; i++) acc += (long)w[j * k + i] * (x[b * k + i] - (long)zIn);
                int c = m0.Length == 1 ? 0 : j;
                long v = IndependentOracle.MultiplyByQuantizedMultiplier(acc, m0[c], shift[c]) + zOut;
                y[b * n + j] = (sbyte)Math.Min(Math.Max(v, min), max);
            }
            return y;
        }

        /// <summary>One fully connected call: shapes, data and quantization, all generated.</summary>
        internal sealed record Case(int Batch, int K, int N, int Activation, sbyte[] X, int ZIn, sbyte[] W, int[] Bias,
            int[] M0, int[] Shift, int ZOut, float OutScale)
        {
            public override string ToString() =>
                $"batch {Batch}, K {K}, N {N}, activation {Activation}, Z_in {ZIn}, Z_out {ZOut}, S_out {OutScale:R}, " +
                $"{(Bias.Length == 0 ? "no bias" : "bias [" + string.Join(", ", Bias) + "]")}, M0 [{string.Join(", ", M0)}], shift [{string.Join(", ", Shift)}], " +
                $"x [{string.Join(", ", X)}], w [{string.Join(", ", W)}]";
        }

        private static readonly Gen<Case> Cases =
            from batch in Any.Int[1, 4]
            from k in Any.Frequency((6, Any.Int[1, 70]), (1, Any.Int[100, 800]))
            from n in Any.Int[1, 40]
            from perChannel in Any.Bool
            from activation in Any.Int[0, 2]
            from hasBias in Any.Frequency((2, Any.Const(true)), (1, Any.Const(false)))
            from x in Any.SByte.Array[batch * k]
            from w in Any.Int[-127, 127].Select(v => (sbyte)v).Array[n * k]
            from bias in Any.Int[-20000, 20000].Array[hasBias ? n : 0]
            // Multipliers that keep outputs in a useful range: exp(-12 .. 0) / sqrt(K).
            from reals in Any.Double[-12, 0].Select(e => Math.Exp(e) / Math.Sqrt(k)).Array[perChannel ? n : 1]
            from zIn in Any.Int[-128, 127]
            from zOut in Any.Int[-128, 127]
            from outScale in Any.Double[0.01, 1.01].Select(v => (float)v)
            select Quantized(batch, k, n, activation, x, zIn, w, bias, reals, zOut, outScale);

        private static Case Quantized(int batch, int k, int n, int activation, sbyte[] x, int zIn, sbyte[] w, int[] bias, double[] reals, int zOut, float outScale)
        {
            var m0 = new int[reals.Length];
            var shift = new int[reals.Length];
            for (int c = 0; c < reals.Length; c++) FixedPoint.QuantizeMultiplier(reals[c], out m0[c], out shift[c]);
            return new Case(batch, k, n, activation, x, zIn, w, bias, m0, shift, zOut, outScale);
        }

        [Fact]
        public void MatchesTheStraightforwardFormula()
        {
            Cases.Sample(c =>
            {
                QuantizationMath.ActivationRange((FusedActivation)c.Activation, c.OutScale, c.ZOut, out int min, out int max);
                var actual = new sbyte[c.Batch * c.N];
                ReferenceKernels.FullyConnected(c.X, c.ZIn, c.W, c.Bias, c.M0, c.Shift, c.ZOut, min, max, actual, c.K, c.N);
                var expected = Straightforward(c.X, c.ZIn, c.W, c.Bias, c.M0, c.Shift, c.ZOut, min, max, c.Batch, c.K, c.N);
                Assert.Equal(expected, actual);
                if (c.Activation != 0) Assert.All(actual, v => Assert.InRange(v, min, max));
            }, iter: 300);
        }

        [Fact]
        public void ClampsSaturateBothEnds()
        {
            // One huge positive and one huge negative output: both must saturate, not wrap.
            sbyte[] x = { 127, 127 };
            sbyte[] w = { 127, 127, -127, -127 };
            FixedPoint.QuantizeMultiplier(0.5, out int m0, out int shift);
            var y = new sbyte[2];
            ReferenceKernels.FullyConnected(x, -128, w, Array.Empty<int>(), new[] { m0 }, new[] { shift }, 0, -128, 127, y, 2, 2);
            Assert.Equal(new sbyte[] { 127, -128 }, y);
        }

        [Fact]
        public void Relu6ClampFollowsTheOutputScale()
        {
            // With S_out = 0.05 and Z_out = -100, ReLU6 clamps to [-100, -100 + 120] = [-100, 20].
            QuantizationMath.ActivationRange(FusedActivation.Relu6, 0.05f, -100, out int min, out int max);
            Assert.Equal(-100, min);
            Assert.Equal(20, max);
            QuantizationMath.ActivationRange(FusedActivation.Relu6, 0.01f, 0, out _, out max);
            Assert.Equal(127, max); // 6 / 0.01 = 600 is beyond INT8: intersected with the INT8 range
        }

        [Fact]
        public void AccumulatorOverflowIsReportedNotWrapped()
        {
            int k = 70000;
            var x = new sbyte[k];
            var w = new sbyte[k];
            Array.Fill(x, (sbyte)127);
            Array.Fill(w, (sbyte)127);
            var y = new sbyte[1];
            Assert.Throws<OverflowException>(() =>
                ReferenceKernels.FullyConnected(x, -128, w, Array.Empty<int>(), new[] { 1 << 30 }, new[] { -31 }, 0, -128, 127, y, k, 1));
        }

        [Fact]
        public void RejectsInconsistentShapes()
        {
            var y = new sbyte[2];
            Assert.Throws<ArgumentException>(() => ReferenceKernels.FullyConnected(
                new sbyte[3], 0, new sbyte[4], Array.Empty<int>(), new[] { 1 << 30 }, new[] { 0 }, 0, -128, 127, y, 2, 2));
            Assert.Throws<ArgumentException>(() => ReferenceKernels.FullyConnected(
                new sbyte[2], 0, new sbyte[4], new int[3], new[] { 1 << 30 }, new[] { 0 }, 0, -128, 127, y, 2, 2));
            Assert.Throws<ArgumentException>(() => ReferenceKernels.FullyConnected(
                new sbyte[2], 0, new sbyte[4], Array.Empty<int>(), new[] { 1 << 30, 1 << 30, 1 << 30 }, new[] { 0, 0, 0 }, 0, -128, 127, y, 2, 2));
        }
    }
}
