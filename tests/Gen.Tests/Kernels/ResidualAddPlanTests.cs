using System;
using Gen.Runtime;
using Xunit;

namespace Gen.Tests.Kernels
{
    /// <summary>The single-rounding INT8 add against the exact real-valued sum, over every pair of inputs.</summary>
    public class ResidualAddPlanTests
    {
        [Theory]
        [InlineData(0.0108528f, -6, 0.0056870864f, -8, 0.011248851f, -7)]   // the MNIST ViT's first attention residual
        [InlineData(0.05f, 3, 0.05f, -3, 0.1f, 0)]                         // exact ratios: ties are exercised
        [InlineData(0.3f, 100, 0.001f, -128, 0.002f, 10)]                  // very different scales, saturation
        [InlineData(0.00390625f, 0, 0.5f, 12, 0.25f, -100)]
        public void EveryPairRoundsTheRealSum(float sa, int za, float sb, int zb, float so, int zo)
        {
            var plan = ResidualAddPlan.Create(new QuantizationParameters(sa, za), new QuantizationParameters(sb, zb), new QuantizationParameters(so, zo));
            Assert.InRange(plan.Shift, 8, 30);
            int nearTies = 0;
            for (int a = -128; a <= 127; a++)
            {
                for (int b = -128; b <= 127; b++)
                {
                    // The exact quotient, in double: the scales are floats, so this is exact to ~1e-15 relative.
                    double v = ((double)sa * (a - za) + (double)sb * (b - zb)) / so;
                    double fraction = v - Math.Floor(v);
                    int actual = plan.Apply(a, b);
                    if (Math.Abs(fraction - 0.5) < 1e-5 && Math.Abs(fraction - 0.5) > 1e-12)
                    {
                        // Within 2^-17 of a tie the rounded multipliers may land either side.
                        nearTies++;
                        Assert.InRange(actual, Math.Clamp((int)Math.Floor(v) + zo, -128, 127), Math.Clamp((int)Math.Floor(v) + 1 + zo, -128, 127));
                        continue;
                    }

                    // Exact ties (scales in exact ratios) round half up.
                    int expected = Math.Clamp((int)Math.Floor(v + 0.5) + zo, -128, 127);
                    Assert.True(expected == actual, $"a = {a}, b = {b}: exact {v} gives {expected}, the plan {actual}");
                }
            }

            Assert.True(nearTies < 65536 / 4, $"{nearTies} pairs near a tie");
        }

        [Fact]
        public void TheIntegerFormWithFoldedZeroPointsIsTheSame()
        {
            var plan = ResidualAddPlan.Create(new QuantizationParameters(0.02f, -5), new QuantizationParameters(0.03f, 7), new QuantizationParameters(0.04f, 3));
            for (int a = -128; a <= 127; a++)
            {
                for (int b = -128; b <= 127; b++)
                {
                    // The form generated code uses: zero points folded into the offset, all in int.
                    int y = (a * plan.MultiplierA + b * plan.MultiplierB + plan.Offset) >> plan.Shift;
                    Assert.Equal(plan.Apply(a, b), (sbyte)Math.Clamp(y + plan.Output.ZeroPoint, -128, 127));
                }
            }
        }

        [Fact]
        public void ScalesTooFarApartAreRefused()
        {
            var tiny = new QuantizationParameters(1e-12f, 0);
            var one = new QuantizationParameters(1f, 0);
            Assert.Throws<ArgumentOutOfRangeException>(() => ResidualAddPlan.Create(tiny, one, one));
            Assert.Throws<ArgumentOutOfRangeException>(() => ResidualAddPlan.Create(one, one, new QuantizationParameters(1e-9f, 0)));
        }
    }
}
