using System;

namespace Gen.Tests.Nonlinear
{
    /// <summary>
    /// An independent C# re-implementation of I-BERT's integer nonlinearities (Kim et al. 2021, "I-BERT: Integer-only
    /// BERT Quantization"), following the published PyTorch code (repository kssteven418/I-BERT, file
    /// fairseq/quantization/utils/quant_modules.py: IntGELU, IntSoftmax, IntLayerNorm, and quant_utils.py for
    /// floor_ste, round_ste and fixedpoint_mul) step by step, with the same constants and the same floor and round
    /// operations. Used only as a comparison baseline for Gen's kernels.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Arithmetic. The published code holds its integers in float32 tensors (<c>x_int = x / scaling_factor</c>) and
    /// derives its constants from float32 scaling factors. Here the integer steps use <see cref="long"/> (checked, so
    /// an overflow throws instead of wrapping) and the constants are derived in double. This models the integer
    /// algorithm the code describes exactly; float32 could only add rounding, so the choice does not disadvantage
    /// I-BERT. Where the published code itself computes in double (fixedpoint_mul), double is used.
    /// </para>
    /// <para>
    /// Rounding conventions: <c>torch.floor</c> is floor (an arithmetic right shift for division by a power of two);
    /// <c>torch.round</c> rounds half to even, which is <see cref="Math.Round(double)"/>'s default.
    /// </para>
    /// </remarks>
    internal static class IBertReference
    {
        /// <summary>floor(a / b) for b &gt; 0 or b &lt; 0 (C#'s / truncates toward zero).</summary>
        public static long FloorDiv(long a, long b)
        {
            long q = a / b;
            return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
        }

        /// <summary>
        /// The integer square root of I-BERT's LayerNorm. The published PyTorch code computes
        /// <c>floor(torch.sqrt(var_int))</c> with a note that it stands for an integer kernel with the same output; the
        /// paper's algorithm (integer Newton iteration from <c>2^ceil(bits(n) / 2)</c>, stopping when the iterate no
        /// longer decreases) is that kernel and returns exactly floor(sqrt(n)). It is implemented here as the paper
        /// describes it, and <paramref name="iterations"/> reports how many updates it took.
        /// </summary>
        public static long IntegerSqrt(long n, out int iterations)
        {
            iterations = 0;
            if (n < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(n));
            }

            if (n == 0)
            {
                return 0;
            }

            int bits = 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)n);
            long x = 1L << ((bits + 1) / 2);
            while (true)
            {
                long next = (x + n / x) / 2;
                iterations++;
                if (next >= x)
                {
                    return x;
                }

                x = next;
            }
        }

        /// <summary>
        /// I-BERT's IntGELU: <c>GELU(x) = x (1 + erf(x / k)) / 2</c>, k = 1.4142, with i-erf
        /// <c>erf(t) ~ sign(t) [a (min(|t|, -b) + b)^2 + 1]</c>, a = -0.2888, b = -1.769, evaluated at the input's
        /// own scale and then divided by 2^n, n = 14 (floor).
        /// </summary>
        public sealed class Gelu
        {
            public const double K = 1.4142;
            public const double A = -0.2888;
            public const double B = -1.769;
            public const int N = 14;

            /// <summary>
            /// Constants for integer inputs at <paramref name="scalingFactor"/> (real value <c>S * x_int</c>).
            /// </summary>
            public Gelu(double scalingFactor)
            {
                InputScale = scalingFactor;

                // int_erf is called with scaling_factor / k.
                double s = scalingFactor / K;
                // coeff = [a, b, 1]; coeff[2] /= coeff[0], so c = 1 / a.
                double c = 1.0 / A;
                BInt = (long)Math.Floor(B / s);
                CInt = (long)Math.Floor(c / (s * s));

                // The erf result's scaling factor: s^2 * a, then times 2^n after the floor division by 2^n.
                // It is negative (a < 0); the final real value comes out with the right sign.
                ErfScale = s * s * A * Math.Pow(2, N);

                // shift_int = floor(1 / sigmoid_scaling_factor): the integer for "1" in the erf's units.
                ShiftInt = (long)Math.Floor(1.0 / ErfScale);

                // scaling_factor * sigmoid_scaling_factor / 2.
                OutputScale = scalingFactor * ErfScale / 2;
            }

            public double InputScale { get; }

            public long BInt { get; }

            public long CInt { get; }

            public double ErfScale { get; }

            public long ShiftInt { get; }

            /// <summary>The real value of one unit of <see cref="Integer"/>'s result (negative, as in the published code).</summary>
            public double OutputScale { get; }

            /// <summary>The integer i-erf of x_int, at <see cref="ErfScale"/>.</summary>
            public long Erf(long x)
            {
                checked
                {
                    long sign = Math.Sign(x);
                    long abs = Math.Min(Math.Abs(x), -BInt);
                    long y = (abs + BInt) * (abs + BInt) + CInt;
                    y = sign * y;
                    // floor_ste(y / 2^n): an arithmetic right shift is exactly floor.
                    return y >> N;
                }
            }

            /// <summary>The integer GELU result <c>x_int (erf_int + shift_int)</c>, at <see cref="OutputScale"/>.</summary>
            public long Integer(long x)
            {
                checked
                {
                    return x * (Erf(x) + ShiftInt);
                }
            }

            /// <summary>The real value of the GELU result before any output requantization.</summary>
            public double Real(long x) => Integer(x) * OutputScale;
        }

        /// <summary>
        /// I-BERT's i-exp of a non-positive integer input (IntSoftmax.int_exp): <c>x = x0 q + r</c>, x0 = -0.6931,
        /// <c>exp(r) ~ 0.35815147 (r^2 + (0.96963238 / 0.35815147) r + 1 / 0.35815147)</c>, then multiplied by
        /// <c>2^(n - q)</c>, n = 30, and clamped at 0.
        /// </summary>
        public sealed class Exp
        {
            public const double X0 = -0.6931;
            public const int N = 30;
            public const double Coef0 = 0.35815147;
            public const double Coef1 = 0.96963238 / Coef0;
            public const double Coef2 = 1.0 / Coef0;

            public Exp(double scalingFactor)
            {
                InputScale = scalingFactor;
                X0Int = (long)Math.Floor(X0 / scalingFactor);
                BInt = (long)Math.Floor(Coef1 / scalingFactor);
                CInt = (long)Math.Floor(Coef2 / (scalingFactor * scalingFactor));
                OutputScale = Coef0 * scalingFactor * scalingFactor / Math.Pow(2, N);
            }

            public double InputScale { get; }

            public long X0Int { get; }

            public long BInt { get; }

            public long CInt { get; }

            /// <summary>The real value of one unit of the exp result: <c>coef0 S^2 / 2^n</c>.</summary>
            public double OutputScale { get; }

            /// <summary>The integer exp of x_int &lt;= 0, at <see cref="OutputScale"/>.</summary>
            public long Integer(long x)
            {
                checked
                {
                    // x_int = max(x_int, n * x0_int).
                    x = Math.Max(x, N * X0Int);
                    // q = floor(x_int / x0_int) (both non-positive); r = x_int - x0_int q in (x0_int, 0].
                    long q = FloorDiv(x, X0Int);
                    long r = x - X0Int * q;
                    // int_polynomial: z = r (r + b_int) + c_int.
                    long z = r * (r + BInt) + CInt;
                    // floor(z * 2^(n - q)) with q <= n: an exact integer multiply; then clamp(min = 0).
                    long e = z * (1L << (N - (int)q));
                    return Math.Max(e, 0);
                }
            }
        }

        /// <summary>
        /// I-BERT's IntSoftmax with output_bit = 8: subtract the row maximum, i-exp, requantize the exps to 16 bits
        /// (its <c>QuantAct(16)</c>), <c>factor = floor(2^32 / sum)</c>, <c>out = floor(exp16 factor / 2^(32 - 8))</c>
        /// at scale 1/256. The output is not clamped (probability 1 can give 256).
        /// </summary>
        public sealed class Softmax
        {
            public const int OutputBit = 8;
            public const int ActivationBit = 16;

            /// <summary>
            /// Constants for integer logits at <paramref name="scalingFactor"/>.
            /// </summary>
            /// <remarks>
            /// Judgement call: QuantAct(16) takes its range from running statistics of the exps seen in calibration.
            /// Every row contains its maximum, whose exp is i-exp(0) (about 1.0), and no exp is larger or negative, so
            /// the calibrated range is [0, i-exp(0)] exactly (its moving average of a constant is that constant);
            /// its scale is therefore <c>i-exp(0) / (2^15 - 1)</c> (symmetric_linear_quantization_params).
            /// </remarks>
            public Softmax(double scalingFactor)
            {
                ExpFunction = new Exp(scalingFactor);
                double xMax = ExpFunction.Integer(0) * ExpFunction.OutputScale;
                ActivationScale = Math.Max(xMax, 1e-8) / ((1 << (ActivationBit - 1)) - 1);

                // fixedpoint_mul: new_scale = pre_scale (double) / z_scale (float32, then double); batch_frexp splits
                // it into a mantissa rounded half up to 31 bits and an exponent e = 31 - exponent.
                double newScale = ExpFunction.OutputScale / (double)(float)ActivationScale;
                int exponent = Math.ILogB(newScale) + 1; // frexp: newScale = m 2^exponent, m in [0.5, 1)
                double mantissa = newScale / Math.Pow(2, exponent);
                Multiplier = Math.Round(mantissa * Math.Pow(2, 31), MidpointRounding.AwayFromZero);
                Exponent = 31 - exponent;
            }

            public Exp ExpFunction { get; }

            public double ActivationScale { get; }

            public double Multiplier { get; }

            public int Exponent { get; }

            /// <summary>Probabilities of one row of integer logits, as integers at scale 1/256.</summary>
            public void Integer(ReadOnlySpan<long> logits, Span<long> output)
            {
                long max = long.MinValue;
                foreach (long x in logits)
                {
                    max = Math.Max(max, x);
                }

                long sum = 0;
                for (int i = 0; i < logits.Length; i++)
                {
                    long e = ExpFunction.Integer(logits[i] - max);
                    // fixedpoint_mul to 16 bits, computed in double as published: round(z_int m / 2^e), clamped to
                    // [-2^15, 2^15 - 1]. (The published code first recovers z_int from the float32 real value; the
                    // exact integer is used here.)
                    double scaled = Math.Round(e * Multiplier / Math.Pow(2, Exponent));
                    long e16 = (long)Math.Clamp(scaled, -(1 << (ActivationBit - 1)), (1 << (ActivationBit - 1)) - 1);
                    output[i] = e16;
                    sum += e16;
                }

                // factor = floor(2^32 / sum): the row's one division (sum > 0: the maximum's exp is 32767).
                long factor = (1L << 32) / sum;
                for (int i = 0; i < logits.Length; i++)
                {
                    // floor(exp_int * factor / 2^(32 - output_bit)); all operands non-negative.
                    output[i] = checked(output[i] * factor) >> (32 - OutputBit);
                }
            }
        }

        /// <summary>
        /// I-BERT's IntLayerNorm normalization (before gamma and beta): <c>mean_int = round(mean(x_int))</c>,
        /// <c>y = x_int - mean_int</c>, <c>var_int = sum(floor(y / 2^shift)^2)</c>,
        /// <c>std_int = isqrt(var_int) 2^shift</c>, <c>factor = floor(2^31 / (std_int + 0.0001))</c>,
        /// <c>y_out = floor(y factor / 2)</c> at scale <c>sqrt(N) / 2^30</c>.
        /// </summary>
        /// <remarks>
        /// The shift is a buffer that starts at 0 and is only raised (in training) when var_int reaches 2^32; for rows
        /// of 64 INT8 values var_int is below 64 * 255^2 &lt; 2^22, so it stays 0 (this is asserted).
        /// </remarks>
        public static class LayerNorm
        {
            /// <summary>The real value of one unit of the normalized output: <c>sqrt(N) / 2^30</c> (dim_sqrt is float32).</summary>
            public static double OutputScale(int width) => (double)(float)Math.Sqrt(width) / Math.Pow(2, 30);

            /// <summary>The normalized row as integers at <see cref="OutputScale"/>; returns the sqrt iterations.</summary>
            public static int Integer(ReadOnlySpan<long> x, Span<long> output, int shift = 0)
            {
                checked
                {
                    long sum = 0;
                    foreach (long v in x)
                    {
                        sum += v;
                    }

                    // round_ste(x_int.mean()): torch.round, half to even. The mean of integers is computed in double,
                    // as the published code does (exact here: the sum is far below 2^53).
                    long mean = (long)Math.Round((double)sum / x.Length);
                    long variance = 0;
                    foreach (long v in x)
                    {
                        long y = (v - mean) >> shift; // floor_ste(y / 2^shift)
                        variance += y * y;
                    }

                    if (variance >= 1L << 32)
                    {
                        throw new InvalidOperationException("var_int >= 2^32: I-BERT would raise its shift here.");
                    }

                    long std = IntegerSqrt(variance, out int iterations) << shift;
                    // factor = floor(2^31 / (std_int + 0.0001)), in floating point as published (the 0.0001 only
                    // avoids a division by zero; it lowers the factor by one when std_int divides 2^31).
                    long factor = (long)Math.Floor(Math.Pow(2, 31) / (std + 0.0001));
                    for (int i = 0; i < x.Length; i++)
                    {
                        // floor_ste(y_int * factor / 2).
                        output[i] = ((x[i] - mean) * factor) >> 1;
                    }

                    return iterations;
                }
            }
        }
    }
}
