using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The integer all-MiniLM-L6-v2 in the reference interpreter: calibrated on the calibration half of the corpus
    /// through the float model's trace (real tokens only), quantized by the same code the generator runs, then run on
    /// held-out sentences with their padding masked. Its mean-pooled embeddings are compared with the float model's, and
    /// each activation of one sentence with its float value, which shows where the error comes from (docs/bert.md). With
    /// every activation in INT8 the mean cosine is about 0.85 (max calibration): the residual stream's outliers (output
    /// projections up to about 200 while most values are within 5) leave the bulk a few levels. With the residual stream
    /// wide (INT32 at 16 bits of resolution) it is about 0.99.
    /// </summary>
    public sealed class BertIntegerFidelityTests
    {
        private const int Tokens = 48;
        private readonly ITestOutputHelper _log;

        public BertIntegerFidelityTests(ITestOutputHelper log) => _log = log;

        /// <summary>
        /// Floors under the measured fidelity (max calibration, 6 held-out sentences), so that a regression shows: with the
        /// wide residual stream mean 0.989 and worst 0.987 were measured, with every activation in INT8 0.847 and 0.807.
        /// </summary>
        [Theory]
        [InlineData(true, 0.98, 0.975)]
        [InlineData(false, 0.82, 0.78)]
        public void IntegerEncoderFollowsTheFloatEncoder(bool wideResidual, double meanFloor, double worstFloor)
        {
            var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(ModelPackages.MiniLM)).Value!;
            var shape = checkpoint.Shape(Tokens, BertPooling.Mean).Value! with { WideResidual = wideResidual };
            var floats = FloatModel.Bert(checkpoint.ToSafeTensors(), shape);
            var encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(ModelPackages.MiniLM), Tokens);
            string text = Path.Combine(Support.Repository.Root, "data", "text");
            var (calibrationIds, calibrationLengths) = Sequences(encoder, File.ReadLines(Path.Combine(text, "calibration.txt")).Take(64));
            var (ids, lengths) = Sequences(encoder, File.ReadLines(Path.Combine(text, "evaluation.txt")).Where((_, i) => i % 100 == 0).Take(6));

            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(calibrationIds, calibrationLengths);
            var expected = new float[lengths.Length * shape.Width];
            floats.Run(ids, lengths, expected);
            foreach (string method in new[] { Environment.GetEnvironmentVariable("GEN_BERT_METHOD") ?? "max" })
            {
                var calibration = ActivationCalibration.Calibrate(statistics, CalibrationMethods.Create(method));
                var integer = new ReferenceInterpreter(calibration.Quantize(floats));
                var output = new sbyte[expected.Length];
                var clipped = new Dictionary<string, double>();
                integer.Run(ids, lengths, output);
                var q = integer.OutputQuantization;
                double worst = 1, sum = 0;
                for (int s = 0; s < lengths.Length; s++)
                {
                    var a = expected.AsSpan(s * shape.Width, shape.Width).ToArray();
                    var b = output.AsSpan(s * shape.Width, shape.Width).ToArray().Select(v => (float)((v - q.ZeroPoint) * q.Scale)).ToArray();
                    double cosine = Similarity.Cosine(a, b);
                    worst = Math.Min(worst, cosine);
                    sum += cosine;
                }

                // Where the error comes from: each activation of the first sentence, integer against float (real rows only).
                var floatTrace = new Dictionary<string, float[]>();
                var graph = floats.Graph;
                int first = lengths[0];
                float[] Real(string name, ReadOnlySpan<float> values)
                {
                    var value = graph.Values[graph.IndexOf(name)];
                    return (value.Rows == Tokens ? values.Slice(0, first * value.Columns) : values).ToArray();
                }

                floats.Run(ids.AsSpan(0, Tokens), lengths.AsSpan(0, 1), new float[shape.Width], (name, values) => floatTrace[name] = Real(name, values));
                integer.Run(ids.AsSpan(0, Tokens), lengths.AsSpan(0, 1), new sbyte[shape.Width], (name, values, p) =>
                {
                    var f = floatTrace[name];
                    var d = new float[f.Length];
                    int clips = 0;
                    bool wide = graph.Values[graph.IndexOf(name)].IsWide;
                    var ints = MemoryMarshal.Cast<sbyte, int>(values);
                    for (int i = 0; i < d.Length; i++)
                    {
                        int q = wide ? ints[i] : values[i];
                        d[i] = (q - p.ZeroPoint) * p.Scale;
                        if (!wide && (q == -128 || q == 127)) clips++;
                    }

                    _log.WriteLine($"  {name,-45} cosine {Similarity.Cosine(f, d):F5}  range [{f.Min():F2}, {f.Max():F2}]  scale {p.Scale:G3}  at the rails {100.0 * clips / d.Length:F2} %");
                });

                _log.WriteLine($"{(wideResidual ? "wide residual" : "all INT8")}, {method}: mean cosine {sum / lengths.Length:F5}, worst {worst:F5} over {lengths.Length} sentences (lengths {string.Join(", ", lengths)})");
                Assert.True(sum / lengths.Length > meanFloor && worst > worstFloor, $"{method}: mean cosine {sum / lengths.Length:F4}, worst {worst:F4}");
            }
        }

        /// <summary>
        /// Padding cannot leak into the integer embedding: the same sentence padded with [PAD] or with random ids gives the
        /// same bytes, while counting three padded tokens as real changes them.
        /// </summary>
        [Fact]
        public void PaddingNeverReachesTheIntegerEmbedding()
        {
            var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(ModelPackages.MiniLM)).Value!;
            var shape = checkpoint.Shape(16, BertPooling.Mean).Value!;
            var floats = FloatModel.Bert(checkpoint.ToSafeTensors(), shape);
            var encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(ModelPackages.MiniLM), 16);
            var statistics = new ActivationStatistics(floats);
            int[] sentence = encoder.Encode("Padding must not change what a sentence means.");
            var ids = new int[16];
            sentence.CopyTo(ids, 0);
            statistics.AddSequences(ids, new[] { sentence.Length });
            var integer = new ReferenceInterpreter(ActivationCalibration.Calibrate(statistics, new MaxCalibrator()).Quantize(floats));

            var padded = new sbyte[shape.Width];
            integer.Run(ids, new[] { sentence.Length }, padded);
            var rng = new Random(5);
            for (int t = sentence.Length; t < ids.Length; t++) ids[t] = rng.Next(30522);
            var noise = new sbyte[shape.Width];
            integer.Run(ids, new[] { sentence.Length }, noise);
            Assert.Equal(padded, noise);
            var longer = new sbyte[shape.Width];
            integer.Run(ids, new[] { sentence.Length + 3 }, longer);
            Assert.NotEqual(padded, longer);
            Assert.Contains("lengths run from 1", Assert.Throws<ArgumentException>(() => integer.Run(ids, new[] { 17 }, longer)).Message);
        }

        private static (int[] Ids, int[] Lengths) Sequences(BertTextEncoder encoder, IEnumerable<string> sentences)
        {
            var rows = sentences.Select(encoder.Encode).ToList();
            var ids = new int[rows.Count * Tokens];
            for (int r = 0; r < rows.Count; r++) rows[r].CopyTo(ids, r * Tokens);
            return (ids, rows.Select(r => r.Length).ToArray());
        }

    }
}
