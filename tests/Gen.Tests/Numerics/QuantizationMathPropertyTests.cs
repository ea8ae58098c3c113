using System;
using System.Numerics;
using CsCheck;
using Gen.Runtime;
using Gen.Tests.Support;
using Xunit;
using Any = CsCheck.Gen;

namespace Gen.Tests.Numerics
{
    /// <summary><see cref="QuantizationMath"/> against exact-arithmetic definitions and its own contracts, on generated values.</summary>
    public class QuantizationMathPropertyTests
    {
        private const long Iterations = 10_000;

        /// <summary>Finite floats of every exponent, and values near the INT8 grid (ties included).</summary>
        private static readonly Gen<float> Scale = Any.Frequency(
            (3, Any.Double[1e-4, 1.0].Select(v => (float)v)),
            (1, Any.Int[-20, 4].Select(e => MathF.ScaleB(1f, e))),
            (1, Any.Int[0x0080_0000, 0x7F7F_FFFF].Select(BitConverter.Int32BitsToSingle)));

        private static readonly Gen<int> ZeroPoint = Any.Frequency((4, Any.Int[-128, 127]), (1, Any.Int[-1000, 1000]));

        /// <summary>(value, scale, zero point) with the value often an exact or near tie of value / scale.</summary>
        private static readonly Gen<(float Value, float Scale, int ZeroPoint)> Quantizable =
            Any.Select(Scale, ZeroPoint).SelectMany((scale, zeroPoint) => Any.Frequency(
                (2, Any.Int[int.MinValue, int.MaxValue].Select(BitConverter.Int32BitsToSingle).Where(float.IsFinite)),
                (2, Any.Double[-300, 300].Select(q => (float)(q * scale))),
                (2, Any.Int[-300, 300].Select(q => (q + 0.5f) * scale)),
                (1, Any.Int[-300, 300].Select(Any.Int[-2, 2], (q, ulps) =>
                    BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((q + 0.5f) * scale) + ulps))))
                .Where(float.IsFinite).Select(v => (v, scale, zeroPoint)));

        /// <summary>round_half_away(value / scale) + zero point, clamped; the quotient is float32's (as TFLite's Quantize).</summary>
        private static int QuantizeOracle(float value, float scale, int zeroPoint, int qmin, int qmax)
        {
            float quotient = value / scale;
            if (float.IsInfinity(quotient)) return quotient > 0 ? qmax : qmin;
            var (mantissa, exponent) = BigIntegerOracle.Exact(Math.Abs((double)quotient));
            BigInteger magnitude = quotient == 0 ? 0 : exponent >= 0
                ? mantissa * BigIntegerOracle.Pow2(exponent)
                : BigIntegerOracle.RoundHalfAway(mantissa, BigIntegerOracle.Pow2(-exponent));
            BigInteger q = (quotient < 0 ? -magnitude : magnitude) + zeroPoint;
            return (int)BigInteger.Max(qmin, BigInteger.Min(qmax, q));
        }

        [Fact]
        public void QuantizeRoundsTheFloatQuotientHalfAwayAndClamps()
        {
            Quantizable.Sample((value, scale, zeroPoint) =>
            {
                Assert.Equal(QuantizeOracle(value, scale, zeroPoint, -128, 127), QuantizationMath.Quantize(value, scale, zeroPoint));
                Assert.Equal(QuantizeOracle(value, scale, zeroPoint, -127, 127), QuantizationMath.Quantize(value, scale, zeroPoint, -127, 127));
            }, iter: Iterations);
        }

        [Fact]
        public void QuantizeIsMonotonic()
        {
            Any.Select(Quantizable, Any.Double[0, 50]).Sample((a, step) =>
            {
                float b = a.Value + (float)(step * a.Scale);
                Assert.True(QuantizationMath.Quantize(a.Value, a.Scale, a.ZeroPoint) <= QuantizationMath.Quantize(b, a.Scale, a.ZeroPoint));
            }, iter: Iterations);
        }

        /// <summary>A real range [min, max], sometimes not containing zero, sometimes degenerate.</summary>
        private static readonly Gen<(double Min, double Max)> Range = Any.Frequency(
            (3, Any.Select(Any.Double[-50, 0], Any.Double[0, 50])),
            (1, Any.Select(Any.Double[-50, 50], Any.Double[0, 20]).Select((a, width) => (a, a + width))),
            (1, Any.Double[1e-6, 1e3].Select(v => (0.0, v))),
            (1, Any.Double[-1e3, -1e-6].Select(v => (v, 0.0))));

        [Fact]
        public void AsymmetricParametersRepresentZeroExactlyAndCoverTheRange()
        {
            // Ranges whose scale is a normal float (a subnormal one has too few bits for half-step bounds).
            Any.Select(Range, Any.Double[0, 1]).Where((range, _) => range.Max - range.Min > 1e-30).Sample((range, t) =>
            {
                double min = Math.Min(range.Min, 0), max = Math.Max(range.Max, 0);
                var p = QuantizationMath.ChooseAsymmetric(range.Min, range.Max);
                Assert.InRange(p.ZeroPoint, -128, 127);
                Assert.Equal(p.ZeroPoint, QuantizationMath.Quantize(0f, p.Scale, p.ZeroPoint));
                if (min == max) return;
                Assert.Equal((float)((max - min) / 255), p.Scale);
                // Any value of the (widened) range comes back within one step: half a step of rounding, and at most
                // half a step lost at one end because the zero point is rounded to an integer.
                float x = (float)(min + t * (max - min));
                int q = QuantizationMath.Quantize(x, p.Scale, p.ZeroPoint);
                double back = QuantizationMath.Dequantize(q, p.Scale, p.ZeroPoint);
                Assert.InRange(Math.Abs(back - x), 0, p.Scale * 1.0001);
                // Inside the grid's own range the error is half a step.
                if (q > -128 && q < 127) Assert.InRange(Math.Abs(back - x), 0, p.Scale * 0.5001);
            }, iter: Iterations);
        }

        [Fact]
        public void RangesTooNarrowForAFloatScaleAreRefused()
        {
            Any.Double[1e-60, 1e-46].Select(Any.Bool, (width, negative) => negative ? (-width, 0.0) : (0.0, width)).Sample(range =>
            {
                if ((float)((range.Item2 - range.Item1) / 255) > 0) Assert.True(QuantizationMath.ChooseAsymmetric(range.Item1, range.Item2).Scale > 0);
                else Assert.Throws<ArgumentException>(() => QuantizationMath.ChooseAsymmetric(range.Item1, range.Item2));
            }, iter: 1000);
        }

        [Fact]
        public void QuantizeAndDequantizeRoundTripWithinHalfAStep()
        {
            // Replaces a loop over 5,000 uniform values of one range: ranges, values and lengths are generated.
            Any.Select(Range, Any.Double[0, 1].Array[0, 40]).Where((range, _) => range.Max - range.Min > 1e-30).Sample((range, ts) =>
            {
                var p = QuantizationMath.ChooseAsymmetric(range.Min, range.Max);
                double min = Math.Min(range.Min, 0), max = Math.Max(range.Max, 0);
                // The grid's own range: every value in it is within half a step of a grid point.
                double lo = Math.Max(min, p.Scale * (-128.0 - p.ZeroPoint)), hi = Math.Min(max, p.Scale * (127.0 - p.ZeroPoint));
                var values = Array.ConvertAll(ts, t => (float)(lo + t * (hi - lo)));
                var q = new sbyte[values.Length];
                var back = new float[values.Length];
                QuantizationMath.Quantize(values, q, p);
                QuantizationMath.Dequantize(q, back, p);
                for (int i = 0; i < values.Length; i++) Assert.InRange(Math.Abs(back[i] - values[i]), 0, p.Scale * 0.5001);
                // And every INT8 value survives the way back.
                var grid = new sbyte[256];
                for (int i = 0; i < 256; i++) grid[i] = (sbyte)(i - 128);
                var reals = new float[256];
                var again = new sbyte[256];
                QuantizationMath.Dequantize(grid, reals, p);
                QuantizationMath.Quantize(reals, again, p);
                Assert.Equal(grid, again);
            }, iter: 2000);
        }

        [Fact]
        public void BiasIsTheExactQuotientRoundedHalfAway()
        {
            // Biases up to 50 at bias scales down to 1e-8: quotients past the int range are generated too.
            var gen = Any.Select(Any.Double[-50, 50].Select(v => (float)v), Any.Double[1e-4, 0.1].Select(v => (float)v), Any.Double[1e-4, 0.1].Select(v => (float)v));
            gen.Sample((bias, inputScale, weightScale) =>
            {
                // bias / (float)(S_in * S_w), exactly: both are dyadic rationals.
                float biasScale = inputScale * weightScale;
                var (bm, be) = BigIntegerOracle.Exact(Math.Abs((double)bias));
                var (sm, se) = BigIntegerOracle.Exact(biasScale);
                int k = Math.Max(0, se - be);
                BigInteger numerator = bias == 0 ? 0 : bm * BigIntegerOracle.Pow2(be - se + k);
                BigInteger q = BigIntegerOracle.RoundHalfAway(bias < 0 ? -numerator : numerator, sm * BigIntegerOracle.Pow2(k));
                // The quotient is formed in double: above 2^28 it can land on a tie that the exact quotient misses by
                // less than half a double ulp, and then either neighbour is right.
                double inDouble = bias / (double)biasScale;
                bool doubleTie = Math.Abs(inDouble) - Math.Floor(Math.Abs(inDouble)) == 0.5;
                if (!BigIntegerOracle.FitsInt(q) && !doubleTie)
                {
                    Assert.Throws<OverflowException>(() => QuantizationMath.QuantizeBias(bias, inputScale, weightScale));
                    return;
                }

                int actual;
                try
                {
                    actual = QuantizationMath.QuantizeBias(bias, inputScale, weightScale);
                }
                catch (OverflowException) when (doubleTie)
                {
                    return;
                }

                if (doubleTie) Assert.InRange(actual - q, -1, 1);
                else Assert.Equal(q, (BigInteger)actual);
            }, iter: Iterations);
        }

        [Fact]
        public void ActivationClampsAreTheQuantizedZeroAndSixWithinInt8()
        {
            Any.Select(Scale, Any.Int[-128, 127], Any.Int[0, 2]).Sample((scale, zeroPoint, activation) =>
            {
                QuantizationMath.ActivationRange((FusedActivation)activation, scale, zeroPoint, out int min, out int max);
                int relu = (int)Math.Clamp(zeroPoint, -128, 127);
                long six = Math.Clamp(QuantizeOracle(6f, scale, zeroPoint, int.MinValue, int.MaxValue), -128, 127);
                Assert.Equal(activation == 0 ? -128 : relu, min);
                Assert.Equal(activation == 2 ? six : 127, max);
            }, iter: Iterations);
        }
    }
}
