using System;
using System.Collections.Generic;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>How far one activation of an integer model is from the float model's (<see cref="CalibrationMetrics.ActivationErrors"/>).</summary>
    /// <param name="Name">The activation (<see cref="ModelGraph.Activations"/>).</param>
    /// <param name="Cosine">Cosine similarity of the float values and the dequantized INT8 values.</param>
    /// <param name="Sqnr">Signal-to-quantization-noise ratio in dB: the float values' energy over the energy of the
    /// difference; positive infinity when they are equal.</param>
    public readonly record struct ActivationError(string Name, double Cosine, double Sqnr);

    /// <summary>
    /// How close an integer model comes to its float model, for any graph: the cosine similarity of every activation
    /// (the reference interpreter's trace against the float model's) and arg-max classification accuracy.
    /// </summary>
    public static class CalibrationMetrics
    {
        // Samples traced at a time: bounds the memory of the per-activation buffers.
        private const int Chunk = 64;

        /// <summary>
        /// Per activation, in the order of <see cref="ModelGraph.Activations"/>: the cosine similarity of the float model's
        /// values and the dequantized INT8 values of the integer model (errors of earlier nodes included) over
        /// <paramref name="rows"/>; for the input, of the input and its INT8 round trip.
        /// </summary>
        /// <exception cref="ArgumentException">The models are of different graphs, or the rows are not whole samples.</exception>
        public static double[] CosineSimilarities(FloatModel model, QuantizedGraph quantized, ReadOnlySpan<float> rows)
        {
            var errors = ActivationErrors(model, quantized, rows);
            var result = new double[errors.Length];
            for (int a = 0; a < result.Length; a++) result[a] = errors[a].Cosine;
            return result;
        }

        /// <summary>
        /// Per activation, in the order of <see cref="ModelGraph.Activations"/>: how far the integer model's dequantized
        /// values (the <see cref="ReferenceInterpreter"/>, errors of earlier nodes included) are from the float model's over
        /// <paramref name="rows"/>, as the cosine similarity and the SQNR; for the input, of the input and its INT8 round trip.
        /// </summary>
        /// <exception cref="ArgumentException">The models are of different graphs, or the rows are not whole samples.</exception>
        public static ActivationError[] ActivationErrors(FloatModel model, QuantizedGraph quantized, ReadOnlySpan<float> rows)
        {
            if (!model.Graph.Equals(quantized.Graph)) throw new ArgumentException("The float and the integer model are of different graphs.", nameof(quantized));
            int size = model.InputSize;
            if (rows.Length == 0 || rows.Length % size != 0) throw new ArgumentException($"{rows.Length} values are not a whole, non-zero number of samples of {size}.", nameof(rows));
            var names = model.ActivationNames;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++) index.Add(names[i], i);
            var dot = new double[names.Count];
            var ff = new double[names.Count];
            var qq = new double[names.Count];
            var ee = new double[names.Count];
            var floats = new List<float>[names.Count];
            // Dequantized in double: near-exact activations (an input of u8 pixels, at 145 dB) would otherwise measure
            // float32's rounding of S * (q - Z) rather than the integer model's error.
            var ints = new List<double>[names.Count];
            for (int i = 0; i < names.Count; i++)
            {
                floats[i] = new List<float>();
                ints[i] = new List<double>();
            }

            var interpreter = new ReferenceInterpreter(quantized);
            int samples = rows.Length / size;
            for (int first = 0; first < samples; first += Chunk)
            {
                int n = Math.Min(Chunk, samples - first);
                var input = rows.Slice(first * size, n * size);
                model.Run(input, new float[n * model.OutputSize], (name, values) =>
                {
                    var list = floats[index[name]];
                    foreach (float v in values) list.Add(v);
                });
                var q = new sbyte[input.Length];
                QuantizationMath.Quantize(input, q, quantized.Input);
                interpreter.Run(q, new sbyte[n * model.OutputSize], (name, values, p) =>
                {
                    var list = ints[index[name]];
                    foreach (sbyte v in values) list.Add((double)p.Scale * (v - p.ZeroPoint));
                });
                for (int a = 0; a < names.Count; a++)
                {
                    var f = floats[a];
                    var d = ints[a];
                    if (f.Count != d.Count) throw new InvalidOperationException($"{names[a]}: {f.Count} float values but {d.Count} integer ones.");
                    for (int i = 0; i < f.Count; i++)
                    {
                        double e = d[i] - f[i];
                        dot[a] += f[i] * d[i];
                        ff[a] += (double)f[i] * f[i];
                        qq[a] += d[i] * d[i];
                        ee[a] += e * e;
                    }

                    f.Clear();
                    d.Clear();
                }
            }

            var result = new ActivationError[names.Count];
            for (int a = 0; a < result.Length; a++) result[a] = new ActivationError(names[a], Cosine(dot[a], ff[a], qq[a]), Sqnr(ff[a], ee[a]));
            return result;
        }

        /// <summary>Classification accuracy (arg max of the INT8 outputs against labels) of the integer model, in percent.</summary>
        public static double Accuracy(QuantizedGraph quantized, ReadOnlySpan<float> rows, ReadOnlySpan<byte> labels)
        {
            var q = new sbyte[rows.Length];
            QuantizationMath.Quantize(rows, q, quantized.Input);
            var interpreter = new ReferenceInterpreter(quantized);
            int outputs = interpreter.OutputSize;
            var output = new sbyte[labels.Length * outputs];
            interpreter.Run(q, output);
            int correct = 0;
            for (int r = 0; r < labels.Length; r++)
            {
                if (ArgMax<sbyte>(output.AsSpan(r * outputs, outputs)) == labels[r]) correct++;
            }

            return 100.0 * correct / labels.Length;
        }

        /// <summary>Classification accuracy of a float model, in percent.</summary>
        public static double FloatAccuracy(FloatModel model, ReadOnlySpan<float> rows, ReadOnlySpan<byte> labels)
        {
            var output = model.Run(rows);
            int correct = 0;
            for (int r = 0; r < labels.Length; r++)
            {
                if (ArgMax<float>(output.AsSpan(r * model.OutputSize, model.OutputSize)) == labels[r]) correct++;
            }

            return 100.0 * correct / labels.Length;
        }

        /// <summary><c>a . b / (|a| |b|)</c>; 1 when both are zero, 0 when only one is.</summary>
        public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            if (a.Length != b.Length) throw new ArgumentException("The vectors differ in length.");
            double dot = 0, aa = 0, bb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                dot += (double)a[i] * b[i];
                aa += (double)a[i] * a[i];
                bb += (double)b[i] * b[i];
            }

            return Cosine(dot, aa, bb);
        }

        // SQNR in dB: positive infinity without noise, negative infinity for noise on a zero signal.
        private static double Sqnr(double signal, double noise) =>
            noise == 0 ? double.PositiveInfinity : signal == 0 ? double.NegativeInfinity : 10 * Math.Log10(signal / noise);

        private static double Cosine(double dot, double aa, double bb)
        {
            if (aa == 0 && bb == 0) return 1;
            if (aa == 0 || bb == 0) return 0;
            return dot / Math.Sqrt(aa * bb);
        }

        private static int ArgMax<T>(ReadOnlySpan<T> values) where T : IComparable<T>
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i].CompareTo(values[best]) > 0) best = i;
            return best;
        }
    }
}
