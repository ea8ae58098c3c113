using System;
using System.Collections.Generic;
using Gen.Runtime;
using Gen.Tests.Nonlinear;

namespace Gen.Tests.Transformer
{
    /// <summary>
    /// An independent oracle for <c>FloatModel</c> and for the integer model's meaning: the vision transformer
    /// written as directly as the formulas read, in double precision, from the float arrays a test generated (not from
    /// the weights file), with the tests' own erf. <paramref name="trace"/>, when given, sees every activation of
    /// <see cref="TransformerNames.Activations"/> as [tokens, features], row-major.
    /// </summary>
    internal static class NaiveTransformer
    {
        public static double[] Run(TransformerShape shape, IReadOnlyDictionary<string, float[]> tensors, float[] image,
            Action<string, double[]>? trace = null) => Run(shape, tensors, Array.ConvertAll(image, v => (double)v), trace);

        public static double[] Run(TransformerShape shape, IReadOnlyDictionary<string, float[]> tensors, double[] image,
            Action<string, double[]>? trace = null)
        {
            void Trace(string name, double[,] values)
            {
                if (trace is null) return;
                var flat = new double[values.Length];
                Buffer.BlockCopy(values, 0, flat, 0, flat.Length * sizeof(double));
                trace(name, flat);
            }

            trace?.Invoke(TransformerNames.Input, image);
            int side = shape.PatchSize, columns = shape.ImageWidth / side, t = shape.Tokens, w = shape.Width;
            var weight = Get(tensors, shape.Embedding + ".weight");
            var bias = Get(tensors, shape.Embedding + ".bias");
            var position = Get(tensors, shape.Embedding + ".position");

            // Token (gr, gc) feature (c, r, k) = image[c][gr * p + r][gc * p + k], projected by a Conv2d weight.
            var x = new double[t, w];
            var patches = new double[t, w];
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

                    patches[token, o] = sum;
                    x[token, o] = sum + position[token * w + o];
                }
            }

            Trace(TransformerNames.PatchOutput(shape.Embedding), patches);
            Trace(TransformerNames.EmbeddingOutput(shape.Embedding), x);

            foreach (var layer in shape.Layers)
            {
                string p = layer.Prefix;
                var n1 = LayerNorm(x, tensors, p + ".norm1");
                Trace(TransformerNames.Norm1(p), n1);
                var q = Linear(n1, tensors, p + ".attn.q");
                var k = Linear(n1, tensors, p + ".attn.k");
                var v = Linear(n1, tensors, p + ".attn.v");
                Trace(TransformerNames.Query(p), q);
                Trace(TransformerNames.Key(p), k);
                Trace(TransformerNames.Value(p), v);
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

                Trace(TransformerNames.Context(p), context);
                var attended = Linear(context, tensors, p + ".attn.out");
                Trace(TransformerNames.AttentionOutput(p), attended);
                x = Add(x, attended);
                Trace(TransformerNames.AttentionResidual(p), x);
                var n2 = LayerNorm(x, tensors, p + ".norm2");
                Trace(TransformerNames.Norm2(p), n2);
                var hidden = Linear(n2, tensors, p + ".ffn.fc1");
                Trace(TransformerNames.Fc1(p), hidden);
                for (int i = 0; i < hidden.GetLength(0); i++)
                {
                    for (int j = 0; j < hidden.GetLength(1); j++) hidden[i, j] = NonlinearReference.Gelu(hidden[i, j]);
                }

                Trace(TransformerNames.Gelu(p), hidden);
                var fed = Linear(hidden, tensors, p + ".ffn.fc2");
                Trace(TransformerNames.Fc2(p), fed);
                x = Add(x, fed);
                Trace(TransformerNames.FeedForwardResidual(p), x);
            }

            var normed = LayerNorm(x, tensors, shape.FinalNorm);
            Trace(shape.FinalNorm, normed);
            var pooled = new double[1, w];
            for (int o = 0; o < w; o++)
            {
                for (int i = 0; i < t; i++) pooled[0, o] += normed[i, o] / t;
            }

            Trace(TransformerNames.Pool, pooled);
            foreach (var dense in shape.Head)
            {
                pooled = Linear(pooled, tensors, dense.Name);
                for (int o = 0; o < dense.Outputs; o++)
                {
                    if (dense.Activation == FusedActivation.Relu) pooled[0, o] = Math.Max(0, pooled[0, o]);
                    if (dense.Activation == FusedActivation.Relu6) pooled[0, o] = Math.Min(6, Math.Max(0, pooled[0, o]));
                }

                Trace(dense.Name, pooled);
            }

            var result = new double[pooled.GetLength(1)];
            for (int o = 0; o < result.Length; o++) result[o] = pooled[0, o];
            return result;
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
