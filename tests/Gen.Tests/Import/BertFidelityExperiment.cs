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
    public sealed class BertFidelityExperiment
    {
        private const int Tokens = 64;
        private readonly ITestOutputHelper _log;
        public BertFidelityExperiment(ITestOutputHelper log) => _log = log;

        [Fact]
        public void Experiment()
        {
            var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(ModelPackages.MiniLM)).Value!;
            var shape = checkpoint.Shape(Tokens, BertPooling.Mean).Value!;
            var floats = FloatModel.Bert(checkpoint.ToSafeTensors(), shape);
            var encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(ModelPackages.MiniLM), Tokens);
            string text = Path.Combine(Support.Repository.Root, "data", "text");
            var (cid, clen) = Sequences(encoder, File.ReadLines(Path.Combine(text, "calibration.txt")).Take(128));
            var (ids, lengths) = Sequences(encoder, File.ReadLines(Path.Combine(text, "evaluation.txt")).Where((_, i) => i % 5 == 0).Take(40));
            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(cid, clen);
            var calibration = ActivationCalibration.Calibrate(statistics, CalibrationMethods.Create(Environment.GetEnvironmentVariable("GEN_M") ?? "max"));
            var p = calibration.Tensors.ToDictionary(t => t.Name, t => t.Parameters);
            _log.WriteLine(string.Join(" ", floats.Graph.Activations()));
            var expected = new float[lengths.Length * shape.Width];
            floats.Run(ids, lengths, expected);

            var configs = new (string Name, Func<string, bool> Float)[]
            {
                ("all int8", n => false),
                ("residual float (o/ffn-out, adds, emb)", n => Residual(n)),
                ("residual+LN float", n => Residual(n) || n.EndsWith("LayerNorm")),
                ("residual+gelu float", n => Residual(n) || n.Contains("gelu") || n.Contains("intermediate")),
                ("residual+LN+gelu float", n => Residual(n) || n.EndsWith("LayerNorm") || n.Contains("gelu") || n.Contains("intermediate")),
                ("residual+attn(q,k,v,ctx) float", n => Residual(n) || n.Contains("self")),
                ("only LN float", n => n.EndsWith("LayerNorm")),
                ("only gelu/intermediate float", n => n.Contains("gelu") || n.Contains("intermediate")),
                ("only attn float", n => n.Contains("self")),
                ("all float but LN", n => !n.EndsWith("LayerNorm")),
            };
            foreach (var (name, isFloat) in configs)
            {
                var output = new float[expected.Length];
                int seq = 0;
                for (int s = 0; s < lengths.Length; s++)
                {
                    floats.Run(ids.AsSpan(s * Tokens, Tokens), lengths.AsSpan(s, 1), output.AsSpan(s * shape.Width, shape.Width), (n, values) =>
                    {
                        if (isFloat(n) || !p.TryGetValue(n, out var q)) return;
                        var w = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(values), values.Length);
                        for (int i = 0; i < w.Length; i++) w[i] = (Math.Clamp(MathF.Round(w[i] / q.Scale) + q.ZeroPoint, -128, 127) - q.ZeroPoint) * q.Scale;
                    });
                }
                Report(name, expected, output, lengths.Length, shape.Width);
            }
        }

        private static bool Residual(string n) => n.EndsWith("output.dense") || n.Contains("add") || n.Contains("residual") || n == "embeddings";

        private void Report(string name, float[] expected, float[] output, int count, int width)
        {
            double sum = 0, worst = 1; int nn = 0;
            var e = Enumerable.Range(0, count).Select(s => expected.AsSpan(s * width, width).ToArray()).ToArray();
            var o = Enumerable.Range(0, count).Select(s => output.AsSpan(s * width, width).ToArray()).ToArray();
            for (int s = 0; s < count; s++) { double c = Similarity.Cosine(e[s], o[s]); sum += c; worst = Math.Min(worst, c); }
            for (int s = 0; s < count; s++)
            {
                int Best(float[][] set) { int b = -1; double bc = -2; for (int t = 0; t < count; t++) if (t != s) { double c = Similarity.Cosine(set[s], set[t]); if (c > bc) { bc = c; b = t; } } return b; }
                if (Best(e) == Best(o)) nn++;
            }
            _log.WriteLine($"{name,-40} mean {sum / count:F4} worst {worst:F4} nn {100.0 * nn / count:F0}%");
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
