using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace Gen.Benchmarks
{
    /// <summary>
    /// One image through a whole vision transformer, single thread: Gen's generated integer-only <c>Run</c> against
    /// <c>FloatModel.Run</c> (SIMD float32, the baseline of the Ratio column) on the same image, for the MNIST
    /// ViT (a held-out digit) and the larger random model (a random image). <c>Int8WithQuantize</c> adds the
    /// generated <c>QuantizeInput</c> of the float image, so that it starts from the same floats as the float model.
    /// Before timing, the setup runs <see cref="TransformerCheck"/> and refuses to time a model that fails it.
    /// </summary>
    [MemoryDiagnoser]
    public class TransformerBenchmarks
    {
        private TransformerCase model = null!;

        /// <summary>The model (<see cref="TransformerCase.All"/>; the MNIST ViT only with --quick).</summary>
        [ParamsSource(nameof(Models))]
        public string Model { get; set; } = TransformerCase.Mnist;

        public static IEnumerable<string> Models => Program.Quick ? new[] { TransformerCase.Mnist } : TransformerCase.All;

        [GlobalSetup]
        public void Setup()
        {
            var (ok, line) = TransformerCheck.Check(Model);
            Console.WriteLine("// self-check: " + line);
            if (!ok) throw new InvalidOperationException("Self-check failed: " + line);
            model = TransformerCase.Create(Model);
        }

        /// <summary><c>FloatModel.Run</c>: the same model in float32 (AVX-512 FMA matrix products).</summary>
        [Benchmark(Baseline = true)]
        public void Float32() => model.RunFloat();

        /// <summary>The generated model's <c>Run</c> on the INT8 image.</summary>
        [Benchmark]
        public void Int8() => model.RunInt8();

        /// <summary>The generated model's <c>QuantizeInput</c> of the float image, then <c>Run</c>.</summary>
        [Benchmark]
        public void Int8WithQuantize() => model.RunInt8FromFloat();
    }
}
