using System;

namespace Gen.Tests.Nonlinear
{
    /// <summary>
    /// Double-precision references for the integer nonlinearities: erf (to about 1e-15), GELU, softmax and LayerNorm,
    /// plus deterministic random numbers.
    /// </summary>
    internal static class NonlinearReference
    {
        private static readonly double SqrtPi = Math.Sqrt(Math.PI);

        /// <summary>
        /// erf(x). |x| &lt;= 3: the series <c>erf(x) = 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (1 3 5 ... (2n+1))</c>,
        /// whose terms are all positive (no cancellation). |x| &gt; 3: 1 - erfc(x) with erfc from its continued fraction
        /// <c>exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))</c>, evaluated backwards from 200 terms.
        /// </summary>
        public static double Erf(double x)
        {
            if (x < 0)
            {
                return -Erf(-x);
            }

            if (x <= 3)
            {
                double term = x;
                double sum = x;
                for (int n = 1; n < 200; n++)
                {
                    term *= 2 * x * x / (2 * n + 1);
                    sum += term;
                    if (term < 1e-17 * sum)
                    {
                        break;
                    }
                }

                return 2 / SqrtPi * Math.Exp(-x * x) * sum;
            }

            return 1 - Erfc(x);
        }

        /// <summary>erfc(x) for x &gt; 3 (continued fraction).</summary>
        public static double Erfc(double x)
        {
            double f = x;
            for (int n = 200; n >= 1; n--)
            {
                f = x + n / 2.0 / f;
            }

            return Math.Exp(-x * x) / (SqrtPi * f);
        }

        /// <summary>The exact GELU, x (1 + erf(x / sqrt 2)) / 2.</summary>
        public static double Gelu(double x) => x * (1 + Erf(x / Math.Sqrt(2))) / 2;

        /// <summary>Softmax of real logits.</summary>
        public static double[] Softmax(double[] x)
        {
            double max = double.NegativeInfinity;
            foreach (double v in x)
            {
                max = Math.Max(max, v);
            }

            var result = new double[x.Length];
            double sum = 0;
            for (int i = 0; i < x.Length; i++)
            {
                result[i] = Math.Exp(x[i] - max);
                sum += result[i];
            }

            for (int i = 0; i < x.Length; i++)
            {
                result[i] /= sum;
            }

            return result;
        }

        /// <summary>(x - mean) / sqrt(var + eps), population variance.</summary>
        public static double[] Normalize(double[] x, double epsilon)
        {
            double mean = 0;
            foreach (double v in x)
            {
                mean += v;
            }

            mean /= x.Length;
            double variance = 0;
            foreach (double v in x)
            {
                variance += (v - mean) * (v - mean);
            }

            variance /= x.Length;
            double std = Math.Sqrt(variance + epsilon);
            var result = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                result[i] = std == 0 ? 0 : (x[i] - mean) / std;
            }

            return result;
        }

        /// <summary>A standard normal sample (Box-Muller) from a seeded generator.</summary>
        public static double NextNormal(Random random)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
    }
}
