using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Gen.Tests.Support;
using Xunit;

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

        [Theory]
        [InlineData(1, 1, 1, false, 0)]
        [InlineData(1, 3, 17, true, 1)]
        [InlineData(4, 17, 3, false, 2)]
        [InlineData(2, 784, 10, true, 0)]
        [InlineData(3, 64, 33, true, 1)]
        [InlineData(1, 128, 128, false, 2)]
        public void MatchesTheStraightforwardFormula(int batch, int k, int n, bool perChannel, int activation)
        {
            var rng = new Random(k * 131 + n * 7 + batch);
            for (int trial = 0; trial < 20; trial++)
            {
                var x = RandomBytes(rng, batch * k);
                var w = new sbyte[n * k];
                for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
                var bias = trial % 3 == 0 ? Array.Empty<int>() : RandomInts(rng, n, 20000);
                int zIn = rng.Next(-128, 128), zOut = rng.Next(-128, 128);
                int channels = perChannel ? n : 1;
                var m0 = new int[channels];
                var shift = new int[channels];
                for (int c = 0; c < channels; c++)
                {
                    double real = Math.Exp(rng.NextDouble() * -12) / Math.Sqrt(k); // keep outputs in a useful range
                    FixedPoint.QuantizeMultiplier(real, out m0[c], out shift[c]);
                }

                var outScale = (float)(0.01 + rng.NextDouble());
                QuantizationMath.ActivationRange((FusedActivation)activation, outScale, zOut, out int min, out int max);
                var actual = new sbyte[batch * n];
                ReferenceKernels.FullyConnected(x, zIn, w, bias, m0, shift, zOut, min, max, actual, k, n);
                var expected = Straightforward(x, zIn, w, bias, m0, shift, zOut, min, max, batch, k, n);
                Assert.Equal(expected, actual);
                if (activation != 0) Assert.All(actual, v => Assert.InRange(v, min, max));
            }
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

        internal static sbyte[] RandomBytes(Random rng, int count)
        {
            var a = new sbyte[count];
            for (int i = 0; i < count; i++) a[i] = (sbyte)rng.Next(-128, 128);
            return a;
        }

        internal static int[] RandomInts(Random rng, int count, int magnitude)
        {
            var a = new int[count];
            for (int i = 0; i < count; i++) a[i] = rng.Next(-magnitude, magnitude + 1);
            return a;
        }
    }
}
