using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Gen.Benchmarks
{
    /// <summary>
    /// Checks, before any timing, that each generated transformer computes what its float32 model computes, so that a
    /// broken build cannot produce a fast but wrong number:
    /// <list type="bullet">
    /// <item>MNIST ViT: the generated model's arg-max must agree with <c>FloatModel</c>'s on at least
    /// <see cref="MinimumMnistAgreement"/> of <see cref="MnistDigitsChecked"/> held-out digits (accuracy of both
    /// against the labels is reported too).</item>
    /// <item>The larger random model (random images, on which its arg-max hardly changes): the image-to-image variation
    /// of the dequantized INT8 logits must correlate with that of the float32 logits at
    /// <see cref="MinimumLargeCorrelation"/> or more, over <see cref="LargeImagesChecked"/> random images.</item>
    /// <item>Both: the batched <c>Run</c> gives the same bytes as one image at a time, and one call allocates nothing.</item>
    /// </list>
    /// </summary>
    public static class TransformerCheck
    {
        public const int MnistDigitsChecked = 200;
        public const double MinimumMnistAgreement = 0.95;
        public const int LargeImagesChecked = 32;
        public const double MinimumLargeCorrelation = 0.90;

        private static readonly Dictionary<string, (bool Ok, string Line)> Cache = new();

        /// <summary>Checks the given models and prints one line each; returns false if one fails.</summary>
        public static bool Run(IEnumerable<string> models)
        {
            bool ok = true;
            foreach (string model in models)
            {
                var (pass, line) = Check(model);
                Console.WriteLine("  " + line);
                ok &= pass;
            }

            return ok;
        }

        /// <summary>The lines of the checks already made (for the results table).</summary>
        public static IEnumerable<string> Lines => Cache.Values.Select(v => v.Line);

        /// <summary>Checks one model (once per process) and returns the verdict and a one-line report.</summary>
        public static (bool Ok, string Line) Check(string model)
        {
            if (Cache.TryGetValue(model, out var cached)) return cached;
            var c = TransformerCase.Create(model);
            var result = model == TransformerCase.Mnist ? CheckMnist(c) : CheckLarge(c);
            string common = CheckBatchAndAllocation(c, out bool commonOk);
            result = (result.Ok && commonOk, $"{result.Line}; {common}; kernels {c.ActivePath}; {(result.Ok && commonOk ? "ok" : "FAIL")}");
            Cache[model] = result;
            return result;
        }

        private static (bool Ok, string Line) CheckMnist(TransformerCase c)
        {
            var digits = MnistDigits.Load();
            int agree = 0, floatCorrect = 0, intCorrect = 0;
            var q = new sbyte[c.Shape.InputSize];
            var output = new sbyte[c.Shape.OutputSize];
            var logits = new float[c.Shape.OutputSize];
            for (int n = TransformerCase.FirstHeldOut; n < TransformerCase.FirstHeldOut + MnistDigitsChecked; n++)
            {
                float[] image = digits.Image(n);
                c.Float.Run(image, logits);
                c.Quantize(image, q);
                TransformerCase.Run(0, q, output);
                int f = ArgMax(logits), i = MnistVit.ArgMax(output);
                agree += f == i ? 1 : 0;
                floatCorrect += f == digits.Labels[n] ? 1 : 0;
                intCorrect += i == digits.Labels[n] ? 1 : 0;
            }

            bool ok = agree >= MinimumMnistAgreement * MnistDigitsChecked;
            return (ok, string.Format(CultureInfo.InvariantCulture,
                "{0}: INT8 and float32 arg-max agree on {1} of {2} held-out digits ({3}..{4}); accuracy INT8 {5} / {2}, float32 {6} / {2}",
                c.Name, agree, MnistDigitsChecked, TransformerCase.FirstHeldOut, TransformerCase.FirstHeldOut + MnistDigitsChecked - 1,
                intCorrect, floatCorrect));
        }

        private static (bool Ok, string Line) CheckLarge(TransformerCase c)
        {
            // A random model's logits are mostly the same pattern for every random image (its head's bias and weights
            // times a pooled vector that varies little), so the check compares what varies from image to image: each
            // model's logits minus their mean over the images, correlated over every (image, class) entry.
            int n = LargeImagesChecked, classes = c.Shape.OutputSize, agree = 0;
            var floats = new float[n * classes];
            var ints = new float[n * classes];
            var q = new sbyte[c.Shape.InputSize];
            var output = new sbyte[classes];
            for (int image = 0; image < n; image++)
            {
                float[] pixels = TransformerCase.RandomImage(c.Shape.InputSize, seed: 100 + image);
                c.Float.Run(pixels, floats.AsSpan(image * classes, classes));
                c.Quantize(pixels, q);
                TransformerCase.Run(1, q, output);
                c.Dequantize(output, ints.AsSpan(image * classes, classes));
                agree += ArgMax(floats.AsSpan(image * classes, classes)) == Vit256.ArgMax(output) ? 1 : 0;
            }

            double errorSquares = 0;
            for (int i = 0; i < floats.Length; i++) errorSquares += (ints[i] - floats[i]) * (double)(ints[i] - floats[i]);
            double[] floatDeviation = Deviations(floats, n, classes), intDeviation = Deviations(ints, n, classes);
            double dot = 0, ff = 0, ii = 0;
            for (int i = 0; i < floats.Length; i++)
            {
                dot += floatDeviation[i] * intDeviation[i];
                ff += floatDeviation[i] * floatDeviation[i];
                ii += intDeviation[i] * intDeviation[i];
            }

            double correlation = ff == 0 || ii == 0 ? 0 : dot / Math.Sqrt(ff * ii);
            double rmsError = Math.Sqrt(errorSquares / floats.Length), rmsSpread = Math.Sqrt(ff / floats.Length);
            bool ok = correlation >= MinimumLargeCorrelation;
            return (ok, string.Format(CultureInfo.InvariantCulture,
                "{0}: on {1} random images, the image-to-image variation of the INT8 (dequantized) and float32 logits correlates at {2:F3}; " +
                "RMS error of the INT8 logits {3:F4} against a float32 spread across images of {4:F4}; arg-max agrees on {5} of {1}",
                c.Name, n, correlation, rmsError, rmsSpread, agree));
        }

        /// <summary>Each value minus the mean of its class (column) over the images (rows).</summary>
        private static double[] Deviations(float[] values, int rows, int columns)
        {
            var result = new double[values.Length];
            for (int j = 0; j < columns; j++)
            {
                double mean = 0;
                for (int i = 0; i < rows; i++) mean += values[i * columns + j];
                mean /= rows;
                for (int i = 0; i < rows; i++) result[i * columns + j] = values[i * columns + j] - mean;
            }

            return result;
        }

        private static string CheckBatchAndAllocation(TransformerCase c, out bool ok)
        {
            const int batch = 3;
            int size = c.Shape.InputSize, outputs = c.Shape.OutputSize;
            var images = new sbyte[batch * size];
            var batched = new sbyte[batch * outputs];
            var single = new sbyte[batch * outputs];
            for (int b = 0; b < batch; b++)
            {
                c.Quantize(TransformerCase.RandomImage(size, seed: 200 + b), images.AsSpan(b * size, size));
                c.RunBatch(images.AsSpan(b * size, size), single.AsSpan(b * outputs, outputs), 1);
            }

            c.RunBatch(images, batched, batch);
            bool same = batched.AsSpan().SequenceEqual(single);

            c.RunInt8();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) c.RunInt8();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            ok = same && allocated == 0;
            return $"batched Run {(same ? "matches" : "DIFFERS FROM")} single images; Run allocated {allocated} B in 10 calls";
        }

        private static int ArgMax(ReadOnlySpan<float> values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
            return best;
        }
    }
}
