using System;
using Gen.Runtime;
using Gen.Runtime.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Nonlinear
{
    public class IntGeluTests
    {
        /// <summary>Max error of the default polynomial itself over all x (0.014468) plus the integer arithmetic's share.</summary>
        private const double DefaultBound = 0.0150;

        /// <summary>Max error of I-BERT's coefficients themselves (0.018152) plus the integer arithmetic's share.</summary>
        private const double IBertBound = 0.0183;

        private readonly ITestOutputHelper _output;

        public IntGeluTests(ITestOutputHelper output) => _output = output;

        public static TheoryData<double> Scales => new TheoryData<double> { 1e-4, 1e-3, 0.01, 4.0 / 127, 8.0 / 127, 0.1 };

        /// <summary>
        /// Every integer input with |x| &lt;= 8 (160,001 inputs at scale 1e-4, 161 at 0.1): the INT32 result at the
        /// plan's output scale against the exact GELU.
        /// </summary>
        [Theory]
        [MemberData(nameof(Scales))]
        public void Int32ErrorIsBoundedAtEveryScale(double scale)
        {
            Measure(GeluPlan.Create(scale), scale, 8.0, out double max, out double mean);
            _output.WriteLine($"GELU INT32, default a,b, S = {scale:G6}, |x| <= 8: max {max:F6}, mean {mean:F6}");
            Assert.True(max <= DefaultBound, $"max error {max} at scale {scale}");
        }

        [Theory]
        [MemberData(nameof(Scales))]
        public void IBertCoefficientsKeepTheirPublishedErrorAtEveryScale(double scale)
        {
            Measure(GeluPlan.Create(scale, GeluPlan.IBertA, GeluPlan.IBertB), scale, 8.0, out double max, out double mean);
            _output.WriteLine($"GELU INT32, I-BERT a,b, S = {scale:G6}, |x| <= 8: max {max:F6}, mean {mean:F6}");
            Assert.True(max <= IBertBound, $"max error {max} at scale {scale}");
        }

        [Fact]
        public void FinerScalesThanTheWorkingOctaveAreRoundedNotBroken()
        {
            foreach (double scale in new[] { 1e-5, 3e-6 })
            {
                Measure(GeluPlan.Create(scale), scale, 4.0, out double max, out double mean);
                _output.WriteLine($"GELU INT32, S = {scale:G6}, |x| <= 4: max {max:F6}, mean {mean:F6}");
                Assert.True(max <= DefaultBound, $"max error {max} at scale {scale}");
            }
        }

        /// <summary>
        /// All 256 INT8 inputs (|x| up to 127 S or 255 S with a zero point), INT8 out at a scale covering the GELU of
        /// the input range: error at most the INT32 bound plus half an output step.
        /// </summary>
        [Theory]
        [MemberData(nameof(Scales))]
        public void Int8EndToEndErrorIsBounded(double scale)
        {
            foreach (int inputZeroPoint in new[] { 0, -20, 50 })
            {
                double low = scale * (-128 - inputZeroPoint);
                double high = scale * (127 - inputZeroPoint);
                double outLow = NonlinearReference.Gelu(-0.7517915); // the minimum of GELU, about -0.17
                double outHigh = Math.Max(high, 0);
                double outputScale = (outHigh - Math.Min(outLow, 0)) / 255;
                int outputZeroPoint = (int)Math.Round(-128 - Math.Min(outLow, 0) / outputScale);
                var plan = GeluPlan.CreateInt8(scale, inputZeroPoint, outputScale, outputZeroPoint);
                double max = 0;
                for (int q = -128; q <= 127; q++)
                {
                    double x = scale * (q - inputZeroPoint);
                    sbyte y = IntGelu.GeluInt8((sbyte)q, plan);
                    double error = Math.Abs(outputScale * (y - outputZeroPoint) - NonlinearReference.Gelu(x));
                    max = Math.Max(max, error);
                }

                _output.WriteLine($"GELU INT8, S = {scale:G6}, Z_in = {inputZeroPoint}, x in [{low:G4}, {high:G4}], " +
                    $"S_out = {outputScale:G4}: max {max:F6} (bound {DefaultBound} + S_out/2 = {DefaultBound + outputScale / 2:F6})");
                Assert.True(max <= DefaultBound + outputScale / 2 + 1e-9, $"max error {max} at scale {scale}");
            }
        }

        [Fact]
        public void SpanOverloadsMatchTheScalarKernels()
        {
            var plan = GeluPlan.CreateInt8(0.05, 3, 0.04, -120);
            var input = new sbyte[256];
            var output = new sbyte[256];
            for (int i = 0; i < 256; i++)
            {
                input[i] = (sbyte)(i - 128);
            }

            IntGelu.Gelu(input, output, plan);
            var wide = new int[256];
            var wideOut = new int[256];
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(IntGelu.GeluInt8(input[i], plan), output[i]);
                wide[i] = input[i] * 1000;
            }

            IntGelu.Gelu(wide, wideOut, plan);
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(IntGelu.Gelu(wide[i], plan), wideOut[i]);
            }
        }

        [Fact]
        public void SaturatedInputsAreExactAndExtremesDoNotOverflow()
        {
            foreach (double scale in new[] { 1e-4, 0.1, 1.0 })
            {
                var plan = GeluPlan.Create(scale);
                int k = plan.InputShift;
                Assert.Equal(0, IntGelu.Gelu(int.MinValue, plan));
                Assert.Equal(0, IntGelu.Gelu(-(int)Math.Ceiling(3 / scale), plan));
                int q = (int)Math.Ceiling(3 / scale);
                Assert.Equal((long)q << Math.Max(k, 0) >> Math.Max(-k, 0), IntGelu.Gelu(q, plan));
                Assert.Equal(0, IntGelu.Gelu(0, plan));
                int top = IntGelu.Gelu(int.MaxValue, plan);
                Assert.Equal(k > 0 ? int.MaxValue : (int)(((long)int.MaxValue + (1L << (-k - 1))) >> -k), top);
            }
        }

        [Fact]
        public void PlansAreEquatableAndDescribeTheirConstants()
        {
            Assert.Equal(GeluPlan.Create(0.02), GeluPlan.Create(0.02));
            Assert.Equal(GeluPlan.Create(0.02).GetHashCode(), GeluPlan.Create(0.02).GetHashCode());
            Assert.NotEqual(GeluPlan.Create(0.02), GeluPlan.Create(0.021));
            Assert.Equal(GeluPlan.CreateInt8(0.02, 1, 0.01, -3), GeluPlan.CreateInt8(0.02, 1, 0.01, -3));
            Assert.NotEqual(GeluPlan.CreateInt8(0.02, 1, 0.01, -3), GeluPlan.CreateInt8(0.02, 1, 0.01, -4));
            string text = GeluPlan.CreateInt8(4.0 / 127, 0, 0.03, -100).Describe();
            _output.WriteLine(text);
            Assert.Contains("clamp = ", text);
            Assert.Contains("S_eff = ", text);
            Assert.Contains("M0, shift = ", text);
            Assert.Throws<ArgumentOutOfRangeException>(() => GeluPlan.Create(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => GeluPlan.Create(double.NaN));
            Assert.Throws<InvalidOperationException>(() => IntGelu.GeluInt8(1, GeluPlan.Create(0.1)));
        }

        private static void Measure(GeluPlan plan, double scale, double range, out double max, out double mean)
        {
            int limit = (int)Math.Floor(range / scale);
            max = 0;
            double total = 0;
            for (int q = -limit; q <= limit; q++)
            {
                double x = scale * q;
                double actual = plan.OutputScale * IntGelu.Gelu(q, plan);
                double error = Math.Abs(actual - NonlinearReference.Gelu(x));
                max = Math.Max(max, error);
                total += error;
            }

            mean = total / (2 * limit + 1);
        }
    }
}
