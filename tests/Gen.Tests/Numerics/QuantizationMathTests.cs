using System;
using Gen.Runtime;
using Xunit;

namespace Gen.Tests.Numerics
{
    public class QuantizationMathTests
    {
        [Theory]
        // [0, 1] is the image range: 256 steps of 1/255 starting at -128.
        [InlineData(0.0, 1.0, 1.0 / 255, -128)]
        // Zero point from min: -128 + 1 / (4/255) = -64.25, rounded to -64.
        [InlineData(-1.0, 3.0, 4.0 / 255, -64)]
        // A range not containing 0 is widened to contain it.
        [InlineData(2.0, 5.1, 5.1 / 255, -128)]
        [InlineData(-3.0, -1.0, 3.0 / 255, 127)]
        [InlineData(-0.25, 0.75, 1.0 / 255, -64)]
        public void AsymmetricParametersFollowGemmlowp(double min, double max, double scale, int zeroPoint)
        {
            var p = QuantizationMath.ChooseAsymmetric(min, max);
            Assert.Equal((float)scale, p.Scale);
            Assert.Equal(zeroPoint, p.ZeroPoint);
            // Zero is exactly representable: it quantizes to the zero point.
            Assert.Equal(zeroPoint, QuantizationMath.Quantize(0f, p.Scale, p.ZeroPoint));
        }

        [Fact]
        public void DegenerateRangesGetAUsableScale()
        {
            var zero = QuantizationMath.ChooseAsymmetric(0, 0);
            Assert.Equal(1f, zero.Scale);
            Assert.Equal(0, zero.ZeroPoint);
            var constant = QuantizationMath.ChooseAsymmetric(3, 3); // widened to [0, 3]
            Assert.Equal(3f / 255, constant.Scale);
            Assert.Equal(1f, QuantizationMath.ChooseSymmetric(0).Scale);
        }

        [Theory]
        [InlineData(double.NaN, 1.0)]
        [InlineData(0.0, double.PositiveInfinity)]
        [InlineData(2.0, 1.0)]
        public void InvalidRangesThrow(double min, double max)
        {
            Assert.Throws<ArgumentException>(() => QuantizationMath.ChooseAsymmetric(min, max));
        }

        [Fact]
        public void QuantizeRoundsHalfAwayAndSaturates()
        {
            Assert.Equal(3, QuantizationMath.Quantize(2.5f, 1f, 0));
            Assert.Equal(-3, QuantizationMath.Quantize(-2.5f, 1f, 0));
            Assert.Equal(127, QuantizationMath.Quantize(1000f, 1f, 0));
            Assert.Equal(-128, QuantizationMath.Quantize(-1000f, 1f, 0));
            Assert.Equal(-128 + 255, QuantizationMath.Quantize(1f, 1f / 255, -128));
        }

        // The round trip on generated ranges and values: QuantizationMathPropertyTests.
        [Fact]
        public void SpanOverloadsRejectDifferentLengths()
        {
            var p = QuantizationMath.ChooseAsymmetric(-0.7, 2.3);
            Assert.Throws<ArgumentException>(() => QuantizationMath.Quantize(new float[4], new sbyte[3], p));
            Assert.Throws<ArgumentException>(() => QuantizationMath.Dequantize(new sbyte[4], new float[5], p));
        }

        [Fact]
        public void PerChannelSymmetricScalesUseEachRowsMaximum()
        {
            float[] w = { 0.5f, -1.27f, 0.1f, /* row 1 */ 0f, 0f, 0f, /* row 2 */ 2.54f, -0.3f, 1f };
            var scales = QuantizationMath.ChooseSymmetricPerChannel(w, 3);
            Assert.Equal(1.27f / 127, scales[0], 7);
            Assert.Equal(1f, scales[1]); // an all-zero channel is degenerate
            Assert.Equal((float)(2.54 / 127), scales[2]);
            // The largest magnitude maps to exactly +-127, never -128.
            Assert.Equal(-127, QuantizationMath.Quantize(-1.27f, scales[0], 0, -127, 127));
            Assert.Throws<ArgumentException>(() => QuantizationMath.ChooseSymmetricPerChannel(w, 4));
        }

        [Fact]
        public void BiasUsesTheProductOfInputAndWeightScales()
        {
            float sIn = 0.5f, sW = 0.25f; // bias scale 0.125
            Assert.Equal(8, QuantizationMath.QuantizeBias(1f, sIn, sW));
            Assert.Equal(-3, QuantizationMath.QuantizeBias(-0.3125f, sIn, sW)); // -2.5 rounds away from zero
            Assert.Throws<OverflowException>(() => QuantizationMath.QuantizeBias(1e9f, 1e-3f, 1e-3f));
        }

        [Fact]
        public void PerTensorMultiplierFormsTheScaleProductInFloat()
        {
            float sIn = 0.1f, sW = 0.3f, sOut = 0.7f;
            Assert.Equal((double)(float)(sIn * sW) / sOut, QuantizationMath.PerTensorMultiplier(sIn, sW, sOut));
            Assert.Equal((double)sIn * sW / sOut, QuantizationMath.PerChannelMultiplier(sIn, sW, sOut));
        }

        [Fact]
        public void ScalesMustBePositiveAndFinite()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(0f, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(float.NaN, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(float.PositiveInfinity, 0));
        }
    }
}
