using System;
using CsCheck;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Numerics
{
    /// <summary>
    /// <see cref="FixedPoint"/> against <see cref="BigIntegerOracle"/> (the definitions in exact arithmetic) on
    /// generated inputs. CsCheck shrinks a failure to a small counterexample and prints the seed that reproduces it.
    /// The generators lean on the cases that matter: the int extremes, powers of two and exact ties.
    /// </summary>
    public class FixedPointPropertyTests
    {
        private const long Iterations = 20_000;

        /// <summary>Any int, with extra weight on the extremes, small values, powers of two and their neighbours.</summary>
        internal static readonly Gen<int> Int = Any.Frequency(
            (4, Any.Int),
            (2, Any.Int[-1000, 1000]),
            (1, Any.Int[0, 30].Select(Any.Int[-1, 1], (k, d) => (1 << k) + d)),
            (1, Any.Int[0, 31].Select(Any.Int, (k, v) => v >> k)),
            (1, Any.OneOf(Any.Const(int.MinValue), Any.Const(int.MaxValue), Any.Const(int.MinValue + 1), Any.Const(0))));

        /// <summary>M0 as QuantizeMultiplier makes it (Q0.31 in [0.5, 1)) most of the time, else any non-negative int.</summary>
        internal static readonly Gen<int> Multiplier = Any.Frequency(
            (4, Any.Int[1 << 30, int.MaxValue]),
            (1, Any.Int[0, int.MaxValue]),
            (1, Any.OneOf(Any.Const(1 << 30), Any.Const(int.MaxValue), Any.Const(0))));

        /// <summary>(x, exponent) where x / 2^exponent is exactly halfway between two integers.</summary>
        private static readonly Gen<(int X, int Exponent)> Tie =
            Any.Int[1, 31].SelectMany(e => Any.Long[-(1L << (31 - e)), (1L << (31 - e)) - 1].Select(j => ((int)((2 * j + 1) << (e - 1)), e)));

        [Fact]
        public void HighMulIsTheRoundedDoubledHighHalf()
        {
            Any.Select(Int, Any.Frequency((3, Int), (1, Any.Int[0, 31].Select(k => unchecked((int)(1L << k))))))
                .Sample((a, b) => Assert.Equal(BigIntegerOracle.SaturatingRoundingDoublingHighMul(a, b), FixedPoint.SaturatingRoundingDoublingHighMul(a, b)),
                    iter: Iterations);
        }

        [Fact]
        public void RoundingDivideRoundsToNearestTiesAwayFromZero()
        {
            Any.Frequency((3, Any.Select(Int, Any.Int[0, 31])), (1, Tie))
                .Sample((x, e) => Assert.Equal(BigIntegerOracle.RoundingDivideByPOT(x, e), FixedPoint.RoundingDivideByPOT(x, e)), iter: Iterations);
        }

        [Fact]
        public void DoubleRoundingMultiplyMatchesTheDefinitionOrReportsOverflow()
        {
            Any.Select(Int, Multiplier, Any.Int[-31, 30]).Sample((x, m0, shift) =>
            {
                int? expected = BigIntegerOracle.MultiplyByQuantizedMultiplier(x, m0, shift);
                if (expected is null) Assert.Throws<OverflowException>(() => FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift));
                else Assert.Equal(expected.Value, FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift));
            }, iter: Iterations);
        }

        [Fact]
        public void SingleRoundingMultiplyMatchesTheDefinitionOrReportsOverflow()
        {
            Any.Select(Int, Multiplier, Any.Int[-31, 30]).Sample((x, m0, shift) =>
            {
                int? expected = BigIntegerOracle.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift);
                if (expected is null) Assert.Throws<OverflowException>(() => FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift));
                else Assert.Equal(expected.Value, FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift));
            }, iter: Iterations);
        }

        [Fact]
        public void SingleAndDoubleRoundingDifferByAtMostOne()
        {
            // Right shifts only (requantization's case): there both are defined for every x.
            Any.Select(Int, Any.Int[1 << 30, int.MaxValue], Any.Int[-31, 0]).Sample((x, m0, shift) =>
            {
                long d = (long)FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift) - FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift);
                Assert.InRange(d, -1, 1);
            }, iter: Iterations);
        }

        [Fact]
        public void InvalidMultiplierParametersAreRejected()
        {
            var badShift = Any.OneOf(Any.Int[int.MinValue, -32], Any.Int[31, int.MaxValue]);
            Any.Select(Int, Any.Int[int.MinValue, -1], Any.Int[-31, 30]).Sample((x, m0, shift) =>
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift));
                Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift));
            }, iter: 1000);
            Any.Select(Int, Multiplier, badShift).Sample((x, m0, shift) =>
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift));
                Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift));
            }, iter: 1000);
            Any.Select(Int, badShift).Sample((x, e) => Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(x, e)), iter: 1000);
        }

        /// <summary>Positive finite doubles: every exponent (subnormals included), realistic multipliers, and the carry case.</summary>
        internal static readonly Gen<double> PositiveDouble = Any.Frequency(
            (3, Any.Long[1, 0x7FEF_FFFF_FFFF_FFFFL].Select(BitConverter.Int64BitsToDouble)),
            (3, Any.Double[1e-6, 4.0]),
            (1, Any.Int[-40, 40].Select(Any.Int[0, 1 << 20], (e, j) => Math.ScaleB(1 - j * Math.Pow(2, -53), e))),
            (1, Any.Int[-1074, 1023].Select(e => Math.ScaleB(1.0, e))));

        [Fact]
        public void QuantizeMultiplierSplitsExactlyAndRoundsHalfAway()
        {
            PositiveDouble.Sample(m =>
            {
                FixedPoint.QuantizeMultiplier(m, out int m0, out int shift);
                var (expectedM0, expectedShift) = BigIntegerOracle.QuantizeMultiplier(m);
                Assert.Equal((expectedM0, expectedShift), (m0, shift));
                if (m0 == 0) return;
                Assert.InRange(m0, 1 << 30, int.MaxValue);
                // The encoding is within half a unit of M0's last place: |error| <= 2^-31 relative.
                Assert.InRange(Math.Abs(BigIntegerOracle.RelativeError(m, m0, shift)), 0, Math.Pow(2, -31));
            }, iter: Iterations);
        }

        [Fact]
        public void QuantizeMultiplierRejectsNegativeAndNonFiniteValues()
        {
            Any.Frequency((3, PositiveDouble.Select(m => -m)), (1, Any.OneOf(Any.Const(double.NaN), Any.Const(double.PositiveInfinity), Any.Const(double.NegativeInfinity))))
                .Sample(m => Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplier(m, out _, out _)), iter: 1000);
        }
    }
}
