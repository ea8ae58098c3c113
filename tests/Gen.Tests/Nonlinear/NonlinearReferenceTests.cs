using System;
using Xunit;

namespace Gen.Tests.Nonlinear
{
    /// <summary>The reference erf must be far more precise than the errors it measures.</summary>
    public class NonlinearReferenceTests
    {
        [Theory]
        [InlineData(0.0, 0.0)]
        [InlineData(1e-3, 0.0011283787909692365)]
        [InlineData(0.5, 0.5204998778130465)]
        [InlineData(1.0, 0.8427007929497149)]
        [InlineData(2.0, 0.9953222650189527)]
        [InlineData(2.9, 0.9999589021219005)]
        [InlineData(3.0, 0.9999779095030014)]
        [InlineData(3.5, 0.9999992569016276)]
        [InlineData(-1.5, -0.9661051464753108)]
        public void ErfMatchesKnownValues(double x, double expected)
        {
            Assert.True(Math.Abs(NonlinearReference.Erf(x) - expected) <= 1e-15, $"erf({x}) = {NonlinearReference.Erf(x):R}");
        }

        [Theory]
        [InlineData(3.5, 7.430983723414128e-07)]
        [InlineData(4.0, 1.541725790028002e-08)]
        [InlineData(6.0, 2.1519736712498913e-17)]
        public void ErfcMatchesKnownValues(double x, double expected)
        {
            Assert.True(Math.Abs(NonlinearReference.Erfc(x) / expected - 1) <= 1e-13, $"erfc({x}) = {NonlinearReference.Erfc(x):R}");
        }

        [Fact]
        public void SeriesAndContinuedFractionAgreeWhereTheyMeet()
        {
            for (double x = 2.5; x <= 3.5; x += 0.01)
            {
                double series = NonlinearReference.Erf(Math.Min(x, 3));
                double fraction = 1 - NonlinearReference.Erfc(Math.Min(x, 3));
                Assert.True(Math.Abs(series - fraction) <= 1e-15);
            }
        }
    }
}
