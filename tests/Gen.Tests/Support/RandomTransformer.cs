using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Gen.Runtime;
using Gen.Runtime.Interpreter;

namespace Gen.Tests.Support
{
    /// <summary>
    /// A random vision transformer for differential tests: float weights, the quantization of every activation
    /// (calibrated by a plain double-precision forward pass over random images), its declaration and its reference
    /// interpreter.
    /// </summary>
    internal sealed class RandomTransformer
    {
        public required TransformerShape Shape { get; init; }
        public required byte[] Weights { get; init; }
        public required Dictionary<string, QuantizationParameters> Parameters { get; init; }
        public required TransformerInterpreter Reference { get; init; }

        /// <summary>Lines of a quantization-parameter file for every activation.</summary>
        public string CalibrationText => string.Concat(Parameters.Select(p => string.Format(CultureInfo.InvariantCulture,
            "{0} {1} {2}\n", p.Key, p.Value.Scale.ToString("R", CultureInfo.InvariantCulture), p.Value.ZeroPoint)));

        public string Description => Shape.ToString();

        /// <summary>The declaration; scales come from the calibration file unless <paramref name="inlineScales"/>.</summary>
        public string Source(string className = "Vit", bool inlineScales = false)
        {
            var s = new StringBuilder("using Gen;\nnamespace DiffTest;\n[QuantizedModel(\"weights/vit.safetensors\")]\n");
            var input = Parameters[TransformerNames.Input];
            s.Append(CultureInfo.InvariantCulture, $"[ModelInput({Shape.InputSize}, Scale = {RandomModel.F(input.Scale)}, ZeroPoint = {input.ZeroPoint})]\n");
            s.Append(CultureInfo.InvariantCulture,
                $"[PatchEmbedding(\"{Shape.Embedding}\", {Shape.ImageHeight}, {Shape.ImageWidth}, {Shape.PatchSize}, {Shape.Width}, Channels = {Shape.Channels})]\n");
            foreach (var layer in Shape.Layers)
            {
                s.Append(CultureInfo.InvariantCulture, $"[EncoderLayer(\"{layer.Prefix}\", Heads = {layer.Heads}, FeedForward = {layer.FeedForward})]\n");
            }

            s.Append(CultureInfo.InvariantCulture, $"[LayerNorm(\"{Shape.FinalNorm}\")]\n[MeanPool]\n");
            foreach (var dense in Shape.Head) s.Append(CultureInfo.InvariantCulture, $"[Dense(\"{dense.Name}\", {dense.Outputs})]\n");
            if (inlineScales)
            {
                foreach (var p in Parameters.Where(p => p.Key != TransformerNames.Input))
                {
                    s.Append(CultureInfo.InvariantCulture, $"[Quantization(\"{p.Key}\", {RandomModel.F(p.Value.Scale)}, {p.Value.ZeroPoint})]\n");
                }
            }

            s.Append(CultureInfo.InvariantCulture, $"public static partial class {className} {{ }}\n");
            return s.ToString();
        }

        public static RandomTransformer Create(Random rng, int image = 8, int channels = 1, int patch = 4, int width = 16,
            int heads = 2, int feedForward = 24, int layers = 1, int outputs = 5)
        {
            var layerShapes = Enumerable.Range(0, layers).Select(i => new EncoderLayerShape($"blocks.{i}", heads, feedForward)).ToArray();
            var shape = new TransformerShape(image, image, channels, patch, width, "embed", layerShapes, "norm",
                new[] { new HeadLayerShape("head", outputs) });
            var writer = new SafeTensorsWriter();
            var tensors = new Dictionary<string, float[]>();
            void Tensor(string name, float[] values, params int[] dims)
            {
                tensors[name] = values;
                writer.F32(name, values, dims);
            }

            float[] Random(int count, double scale, double mean = 0) =>
                Enumerable.Range(0, count).Select(_ => (float)(mean + scale * Normal(rng))).ToArray();

            int pv = shape.PatchValues;
            Tensor("embed.weight", Random(width * pv, 1 / Math.Sqrt(pv)), width, channels, patch, patch);
            Tensor("embed.bias", Random(width, 0.1), width);
            Tensor("embed.position", Random(shape.Tokens * width, 0.3), shape.Tokens, width);
            foreach (var layer in layerShapes)
            {
                string p = layer.Prefix;
                foreach (string norm in new[] { p + ".norm1", p + ".norm2" })
                {
                    Tensor(norm + ".weight", Random(width, 0.2, 1.0), width);
                    Tensor(norm + ".bias", Random(width, 0.1), width);
                }

                foreach (string linear in new[] { p + ".attn.q", p + ".attn.k", p + ".attn.v", p + ".attn.out" })
                {
                    Tensor(linear + ".weight", Random(width * width, 1 / Math.Sqrt(width)), width, width);
                    Tensor(linear + ".bias", Random(width, 0.1), width);
                }

                Tensor(p + ".ffn.fc1.weight", Random(feedForward * width, 1 / Math.Sqrt(width)), feedForward, width);
                Tensor(p + ".ffn.fc1.bias", Random(feedForward, 0.1), feedForward);
                Tensor(p + ".ffn.fc2.weight", Random(width * feedForward, 1 / Math.Sqrt(feedForward)), width, feedForward);
                Tensor(p + ".ffn.fc2.bias", Random(width, 0.1), width);
            }

            Tensor("norm.weight", Random(width, 0.2, 1.0), width);
            Tensor("norm.bias", Random(width, 0.1), width);
            Tensor("head.weight", Random(outputs * width, 1 / Math.Sqrt(width)), outputs, width);
            Tensor("head.bias", Random(outputs, 0.1), outputs);

            // Calibrate: the range of every activation over random images, widened to include 0.
            var ranges = new Dictionary<string, (double Min, double Max)>();
            var inputQuantization = new QuantizationParameters((float)(0.004 + 0.01 * rng.NextDouble()), rng.Next(-128, 0));
            for (int sample = 0; sample < 12; sample++)
            {
                var pixels = new double[shape.InputSize];
                for (int i = 0; i < pixels.Length; i++)
                {
                    int q = rng.Next(-128, 128);
                    pixels[i] = inputQuantization.Scale * (q - inputQuantization.ZeroPoint);
                }

                FloatForward(shape, tensors, pixels, (name, values) =>
                {
                    double min = Math.Min(0, values.Min()), max = Math.Max(0, values.Max());
                    ranges[name] = ranges.TryGetValue(name, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
                });
            }

            var parameters = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
            foreach (string name in TransformerNames.Activations(shape))
            {
                parameters[name] = name == TransformerNames.Input
                    ? inputQuantization
                    : QuantizationMath.ChooseAsymmetric(ranges[name].Min, ranges[name].Max);
            }

            byte[] bytes = writer.ToBytes();
            var model = QuantizedTransformer.Create(shape, SafeTensorsFile.Parse(bytes), name => parameters[name]);
            return new RandomTransformer { Shape = shape, Weights = bytes, Parameters = parameters, Reference = new TransformerInterpreter(model) };
        }

        /// <summary>
        /// The float model in double precision, as plainly as possible, reporting every activation (for calibration).
        /// </summary>
        public static double[] FloatForward(TransformerShape shape, Dictionary<string, float[]> t, double[] image, Action<string, double[]> trace)
        {
            int tokens = shape.Tokens, width = shape.Width, pv = shape.PatchValues, p = shape.PatchSize, columns = shape.ImageWidth / p;
            var patches = new double[tokens * pv];
            for (int token = 0; token < tokens; token++)
            {
                for (int c = 0; c < shape.Channels; c++)
                {
                    for (int dy = 0; dy < p; dy++)
                    {
                        for (int dx = 0; dx < p; dx++)
                        {
                            int top = token / columns * p, left = token % columns * p;
                            patches[token * pv + (c * p + dy) * p + dx] = image[(c * shape.ImageHeight + top + dy) * shape.ImageWidth + left + dx];
                        }
                    }
                }
            }

            trace(TransformerNames.Input, image);
            var projected = Linear(patches, tokens, t["embed.weight"], t["embed.bias"], pv, width);
            trace("embed.patch", projected);
            var x = projected.Select((v, i) => v + t["embed.position"][i]).ToArray();
            trace("embed", x);
            foreach (var layer in shape.Layers)
            {
                string pre = layer.Prefix;
                var n1 = Norm(x, tokens, width, t[pre + ".norm1.weight"], t[pre + ".norm1.bias"]);
                trace(pre + ".norm1", n1);
                var q = Linear(n1, tokens, t[pre + ".attn.q.weight"], t[pre + ".attn.q.bias"], width, width);
                var k = Linear(n1, tokens, t[pre + ".attn.k.weight"], t[pre + ".attn.k.bias"], width, width);
                var v = Linear(n1, tokens, t[pre + ".attn.v.weight"], t[pre + ".attn.v.bias"], width, width);
                trace(pre + ".attn.q", q);
                trace(pre + ".attn.k", k);
                trace(pre + ".attn.v", v);
                int d = width / layer.Heads;
                var context = new double[tokens * width];
                for (int h = 0; h < layer.Heads; h++)
                {
                    for (int i = 0; i < tokens; i++)
                    {
                        var scores = new double[tokens];
                        for (int j = 0; j < tokens; j++)
                        {
                            for (int e = 0; e < d; e++) scores[j] += q[i * width + h * d + e] * k[j * width + h * d + e];
                            scores[j] /= Math.Sqrt(d);
                        }

                        double max = scores.Max();
                        var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                        double total = weights.Sum();
                        for (int e = 0; e < d; e++)
                        {
                            double sum = 0;
                            for (int j = 0; j < tokens; j++) sum += weights[j] / total * v[j * width + h * d + e];
                            context[i * width + h * d + e] = sum;
                        }
                    }
                }

                trace(pre + ".attn.context", context);
                var attended = Linear(context, tokens, t[pre + ".attn.out.weight"], t[pre + ".attn.out.bias"], width, width);
                trace(pre + ".attn.out", attended);
                var y = x.Select((value, i) => value + attended[i]).ToArray();
                trace(pre + ".attn.residual", y);
                var n2 = Norm(y, tokens, width, t[pre + ".norm2.weight"], t[pre + ".norm2.bias"]);
                trace(pre + ".norm2", n2);
                var hidden = Linear(n2, tokens, t[pre + ".ffn.fc1.weight"], t[pre + ".ffn.fc1.bias"], width, layer.FeedForward);
                trace(pre + ".ffn.fc1", hidden);
                var gelu = hidden.Select(value => 0.5 * value * (1 + Erf(value / Math.Sqrt(2)))).ToArray();
                trace(pre + ".ffn.gelu", gelu);
                var fed = Linear(gelu, tokens, t[pre + ".ffn.fc2.weight"], t[pre + ".ffn.fc2.bias"], layer.FeedForward, width);
                trace(pre + ".ffn.fc2", fed);
                x = y.Select((value, i) => value + fed[i]).ToArray();
                trace(pre + ".ffn.residual", x);
            }

            var normed = Norm(x, tokens, width, t["norm.weight"], t["norm.bias"]);
            trace("norm", normed);
            var pooled = new double[width];
            for (int c = 0; c < width; c++)
            {
                for (int i = 0; i < tokens; i++) pooled[c] += normed[i * width + c] / tokens;
            }

            trace("pool", pooled);
            var current = pooled;
            int features = width;
            foreach (var dense in shape.Head)
            {
                current = Linear(current, 1, t[dense.Name + ".weight"], t[dense.Name + ".bias"], features, dense.Outputs);
                trace(dense.Name, current);
                features = dense.Outputs;
            }

            return current;
        }

        private static double[] Linear(double[] x, int rows, float[] w, float[] b, int inputs, int outputs)
        {
            var y = new double[rows * outputs];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double sum = b[o];
                    for (int i = 0; i < inputs; i++) sum += (double)w[o * inputs + i] * x[r * inputs + i];
                    y[r * outputs + o] = sum;
                }
            }

            return y;
        }

        private static double[] Norm(double[] x, int rows, int width, float[] gamma, float[] beta)
        {
            var y = new double[x.Length];
            for (int r = 0; r < rows; r++)
            {
                double mean = 0, variance = 0;
                for (int i = 0; i < width; i++) mean += x[r * width + i] / width;
                for (int i = 0; i < width; i++) variance += (x[r * width + i] - mean) * (x[r * width + i] - mean) / width;
                for (int i = 0; i < width; i++) y[r * width + i] = (x[r * width + i] - mean) / Math.Sqrt(variance + 1e-5) * gamma[i] + beta[i];
            }

            return y;
        }

        /// <summary>erf by its Maclaurin series near 0 and the continued-fraction tail beyond (double precision).</summary>
        public static double Erf(double x)
        {
            double ax = Math.Abs(x);
            if (ax < 2.5)
            {
                double term = ax, sum = ax;
                for (int n = 1; n < 60; n++)
                {
                    term *= -ax * ax / n;
                    sum += term / (2 * n + 1);
                }

                return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
            }

            // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...))))
            double fraction = ax;
            for (int n = 60; n >= 1; n--) fraction = ax + n / 2.0 / fraction;
            return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / fraction);
        }

        private static double Normal(Random rng) =>
            Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}
