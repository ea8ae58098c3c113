using System;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Numerics
{
    // Hand-picked cases with the reason each matters; the bulk comparison with gemmlowp/TFLite is in
    // FixedPointOracleTests, and FixedPointPropertyTests compares with the BigInteger definitions on generated inputs.
    public class FixedPointTests
    {
        [Fact]
        public void DoubleAndSingleRoundingDifferOnTheKnownTie()
        {
            Assert.Equal(-2185, FixedPoint.MultiplyByQuantizedMultiplier(-176945, 1696766344, -6));
            Assert.Equal(-2184, FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(-176945, 1696766344, -6));
        }

        [Fact]
        public void HighMulSaturatesOnlyAtMinTimesMin()
        {
            Assert.Equal(int.MaxValue, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MinValue));
            Assert.Equal(-int.MaxValue, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MaxValue));
            // Ties round toward +infinity: 2 * (1 * 2^30) / 2^32 = 0.5 -> 1, and -0.5 -> 0.
            Assert.Equal(1, FixedPoint.SaturatingRoundingDoublingHighMul(1, 1 << 30));
            Assert.Equal(0, FixedPoint.SaturatingRoundingDoublingHighMul(-1, 1 << 30));
        }

        [Fact]
        public void RoundingDivideRoundsTiesAwayFromZero()
        {
            Assert.Equal(2, FixedPoint.RoundingDivideByPOT(3, 1));
            Assert.Equal(-2, FixedPoint.RoundingDivideByPOT(-3, 1));
            Assert.Equal(1, FixedPoint.RoundingDivideByPOT(5, 2)); // 1.25
            Assert.Equal(-1, FixedPoint.RoundingDivideByPOT(-5, 2));
            Assert.Equal(-1, FixedPoint.RoundingDivideByPOT(int.MinValue, 31));
            Assert.Equal(1, FixedPoint.RoundingDivideByPOT(int.MaxValue, 31));
            Assert.Equal(7, FixedPoint.RoundingDivideByPOT(7, 0));
        }

        [Theory]
        [InlineData(0.0, 0, 0)]
        [InlineData(0.5, 1 << 30, 0)]
        [InlineData(1.0, 1 << 30, 1)]
        [InlineData(0.75, 1610612736, 0)]
        [InlineData(4.656612873077393e-10, 1 << 30, -30)] // 2^-31
        [InlineData(2.3283064365386963e-10, 1 << 30, -31)] // 2^-32: the smallest kept
        [InlineData(1.1641532182693481e-10, 0, 0)] // 2^-33: shift -32 flushes to zero
        public void QuantizeMultiplierEdges(double m, int expectedM0, int expectedShift)
        {
            FixedPoint.QuantizeMultiplier(m, out int m0, out int shift);
            Assert.Equal(expectedM0, m0);
            Assert.Equal(expectedShift, shift);
        }

        [Fact]
        public void QuantizeMultiplierCarriesWhenRoundingReachesTwoToThe31()
        {
            // f = 1 - 2^-33, so f * 2^31 = 2^31 - 0.25, which rounds to 2^31: M0 becomes 2^30 and the shift grows by one.
            FixedPoint.QuantizeMultiplier(1 - Math.Pow(2, -33), out int m0, out int shift);
            Assert.Equal(1 << 30, m0);
            Assert.Equal(1, shift);
        }

        [Fact]
        public void LeftShiftOverflowIsAnErrorNotAWrongNumber()
        {
            Assert.Throws<OverflowException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1 << 20, 1 << 30, 12));
            Assert.Equal(1 << 20, FixedPoint.MultiplyByQuantizedMultiplier(1 << 20, 1 << 30, 1));
        }

        [Fact]
        public void QuantizeMultiplierSplitsExactlyWhateverTheExponent()
        {
            // Independent of FixedPoint's bit-level frexp: the exponent from Math.ILogB, the fraction scaled by
            // Math.ScaleB (exact), rounded half away from zero. Values span the whole double range; those below
            // 2^-32 (subnormals included) flush to (0, 0).
            var values = new[] { 1.0, 0.5, 3.0, 0.1, 0.75, 1e-9, 2.3e-10, 1e6, double.MaxValue, 1e-310, double.Epsilon };
            foreach (double v in values)
            {
                FixedPoint.QuantizeMultiplier(v, out int m0, out int shift);
                int e = Math.ILogB(v) + 1; // v = f * 2^e with f in [0.5, 1)
                long expected = IndependentOracle.RoundAway(Math.ScaleB(v, 31 - e));
                int expectedShift = e;
                if (expected == 1L << 31)
                {
                    expected >>= 1;
                    expectedShift++;
                }

                if (expectedShift < -31)
                {
                    expected = 0;
                    expectedShift = 0;
                }

                Assert.True(expected == m0 && expectedShift == shift, $"{v:R}: got ({m0}, {shift}), expected ({expected}, {expectedShift})");
                if (m0 != 0) Assert.InRange(m0, 1 << 30, int.MaxValue);
            }
        }
    }
}
