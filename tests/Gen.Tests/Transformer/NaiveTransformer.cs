using System;
using System.Collections.Generic;
using Gen.Runtime;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// An independent oracle for <c>FloatTransformer</c>: the vision transformer written as directly as the formulas
    /// read, in double precision, from the float arrays a test generated (not from the weights file), with its own erf.
    /// </summary>
    internal static class NaiveTransformer
    {
        public static double[] Run(TransformerShape shape, IReadOnlyDictionary<string, float[]> tensors, float[] image)
        {
            int side = shape.PatchSize, columns = shape.ImageWidth / side, t = shape.Tokens, w = shape.Width;
            var weight = Get(tensors, shape.Embedding + ".weight");
            var bias = Get(tensors, shape.Embedding + ".bias");
            var position = Get(tensors, shape.Embedding + ".position");

            // Token (gr, gc) feature (c, r, k) = image[c][gr * p + r][gc * p + k], projected by a Conv2d weight.
            var x = new double[t, w];
            for (int token = 0; token < t; token++)
            {
                int gr = token / columns, gc = token % columns;
                for (int o = 0; o < w; o++)
                {
                    double sum = bias[o];
                    for (int c = 0; c < shape.Channels; c++)
                    {
                        for (int r = 0; r < side; r++)
                        {
                            for (int k = 0; k < side; k++)
                            {
                                double pixel = image[(c * shape.ImageHeight + gr * side + r) * shape.ImageWidth + gc * side + k];
                                sum += pixel * weight[((o * shape.Channels + c) * side + r) * side + k];
                            }
                        }
                    }

                    x[token, o] = sum + position[token * w + o];
                }
            }

            foreach (var layer in shape.Layers)
            {
                string p = layer.Prefix;
                var n1 = LayerNorm(x, tensors, p + ".norm1");
                var q = Linear(n1, tensors, p + ".attn.q");
                var k = Linear(n1, tensors, p + ".attn.k");
                var v = Linear(n1, tensors, p + ".attn.v");
                int hs = w / layer.Heads;
                var context = new double[t, w];
                for (int h = 0; h < layer.Heads; h++)
                {
                    for (int i = 0; i < t; i++)
                    {
                        var scores = new double[t];
                        for (int j = 0; j < t; j++)
                        {
                            double dot = 0;
                            for (int d = 0; d < hs; d++) dot += q[i, h * hs + d] * k[j, h * hs + d];
                            scores[j] = dot / Math.Sqrt(hs);
                        }

                        double max = double.NegativeInfinity, total = 0;
                        foreach (double s in scores) max = Math.Max(max, s);
                        for (int j = 0; j < t; j++) total += scores[j] = Math.Exp(scores[j] - max);
                        for (int d = 0; d < hs; d++)
                        {
                            double sum = 0;
                            for (int j = 0; j < t; j++) sum += scores[j] / total * v[j, h * hs + d];
                            context[i, h * hs + d] = sum;
                        }
                    }
                }

                x = Add(x, Linear(context, tensors, p + ".attn.out"));
                var hidden = Linear(LayerNorm(x, tensors, p + ".norm2"), tensors, p + ".ffn.fc1");
                for (int i = 0; i < hidden.GetLength(0); i++)
                {
                    for (int j = 0; j < hidden.GetLength(1); j++) hidden[i, j] = 0.5 * hidden[i, j] * (1 + Erf(hidden[i, j] / Math.Sqrt(2)));
                }

                x = Add(x, Linear(hidden, tensors, p + ".ffn.fc2"));
            }

            var normed = LayerNorm(x, tensors, shape.FinalNorm);
            var pooled = new double[1, w];
            for (int o = 0; o < w; o++)
            {
                for (int i = 0; i < t; i++) pooled[0, o] += normed[i, o] / t;
            }

            foreach (var dense in shape.Head)
            {
                pooled = Linear(pooled, tensors, dense.Name);
                for (int o = 0; o < dense.Outputs; o++)
                {
                    if (dense.Activation == FusedActivation.Relu) pooled[0, o] = Math.Max(0, pooled[0, o]);
                    if (dense.Activation == FusedActivation.Relu6) pooled[0, o] = Math.Min(6, Math.Max(0, pooled[0, o]));
                }
            }

            var result = new double[pooled.GetLength(1)];
            for (int o = 0; o < result.Length; o++) result[o] = pooled[0, o];
            return result;
        }

        /// <summary>erf by its Taylor series (double, error below 1e-9 for |x| &lt;= 4; beyond, erf = +-1 within 2e-8).</summary>
        public static double Erf(double x)
        {
            if (Math.Abs(x) > 4) return Math.Sign(x);
            double term = x, sum = x;
            for (int n = 1; n < 200; n++)
            {
                term *= -x * x / n;
                double next = term / (2 * n + 1);
                sum += next;
                if (Math.Abs(next) < 1e-17) break;
            }

            return 2 / Math.Sqrt(Math.PI) * sum;
        }

        private static float[] Get(IReadOnlyDictionary<string, float[]> tensors, string name) =>
            tensors.TryGetValue(name, out var values) ? values : throw new KeyNotFoundException(name);

        private static double[,] Linear(double[,] x, IReadOnlyDictionary<string, float[]> tensors, string prefix)
        {
            var weight = Get(tensors, prefix + ".weight");
            var bias = Get(tensors, prefix + ".bias");
            int rows = x.GetLength(0), inputs = x.GetLength(1), outputs = bias.Length;
            var y = new double[rows, outputs];
            for (int i = 0; i < rows; i++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double sum = bias[o];
                    for (int k = 0; k < inputs; k++) sum += x[i, k] * weight[o * inputs + k];
                    y[i, o] = sum;
                }
            }

            return y;
        }

        private static double[,] LayerNorm(double[,] x, IReadOnlyDictionary<string, float[]> tensors, string prefix)
        {
            var gamma = Get(tensors, prefix + ".weight");
            var beta = Get(tensors, prefix + ".bias");
            int rows = x.GetLength(0), width = x.GetLength(1);
            var y = new double[rows, width];
            for (int i = 0; i < rows; i++)
            {
                double mean = 0, variance = 0;
                for (int j = 0; j < width; j++) mean += x[i, j] / width;
                for (int j = 0; j < width; j++) variance += (x[i, j] - mean) * (x[i, j] - mean) / width;
                for (int j = 0; j < width; j++) y[i, j] = (x[i, j] - mean) / Math.Sqrt(variance + 1e-5) * gamma[j] + beta[j];
            }

            return y;
        }

        private static double[,] Add(double[,] a, double[,] b)
        {
            var y = new double[a.GetLength(0), a.GetLength(1)];
            for (int i = 0; i < a.GetLength(0); i++)
            {
                for (int j = 0; j < a.GetLength(1); j++) y[i, j] = a[i, j] + b[i, j];
            }

            return y;
        }
    }
}
