using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace Gen.Benchmarks
{
    /// <summary>
    /// A short but stable job (3 warmup and 15 measured iterations of about 250 ms, one process per benchmark),
    /// times in microseconds, and a GMAC/s column.
    /// </summary>
    public sealed class SuiteConfig : ManualConfig
    {
        public SuiteConfig()
        {
            AddJob(Job.Default
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithIterationTime(TimeInterval.FromMilliseconds(250))
                .WithLaunchCount(1)
                .WithId("Short"));
            AddColumn(new GmacColumn());
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
        }
    }

    /// <summary>
    /// One dense layer per shape, M x K x N, single thread, through three kernels: Gen's generated INT8 code, the naive
    /// scalar INT8 loop, and a register-blocked AVX-512 float32 GEMM. Set GEN_BENCH_QUICK=1 (Program's --quick) to run
    /// three small shapes only.
    /// </summary>
    [Config(typeof(SuiteConfig))]
    [MemoryDiagnoser]
    public class GemmBenchmarks
    {
        private DenseLayer layer = null!;
        private NaiveInt8 naive = null!;
        private Float32Gemm float32 = null!;
        private sbyte[] inputs = null!, outputs = null!;
        private float[] floatInputs = null!, floatOutputs = null!;
        private int modelId, rows;

        /// <summary>The shape, "MxKxN".</summary>
        [ParamsSource(nameof(Shapes))]
        public string Shape { get; set; } = "1x784x128";

        public static IEnumerable<string> Shapes => Program.Quick ? GemmShape.Quick : GemmShape.All;

        [GlobalSetup]
        public void Setup()
        {
            layer = DenseLayer.Create(Shape);
            modelId = layer.ModelId;
            rows = layer.Shape.M;
            inputs = layer.Inputs;
            outputs = new sbyte[rows * layer.Shape.N];
            floatInputs = layer.FloatInputs;
            floatOutputs = new float[rows * layer.Shape.N];
            naive = new NaiveInt8(layer);
            float32 = new Float32Gemm(layer.FloatWeights, layer.FloatBias, layer.Shape.K, layer.Shape.N);
        }

        /// <summary>Gen's generated model: <c>Run(inputs, outputs, M)</c>.</summary>
        [Benchmark(Baseline = true)]
        public void Generated() => GeneratedModels.Run(modelId, inputs, outputs, rows);

        /// <summary>The naive scalar INT8 triple loop with the same numerics.</summary>
        [Benchmark]
        public void NaiveScalar() => naive.Run(inputs, outputs, rows);

        /// <summary>The same layer in float32, register-blocked AVX-512 FMA.</summary>
        [Benchmark]
        public void Float32() => float32.Run(floatInputs, floatOutputs, rows);
    }

    /// <summary>Peak multiply-accumulate rates reachable from C# on one core (see <see cref="PeakProbes"/>).</summary>
    [Config(typeof(SuiteConfig))]
    public class PeakBenchmarks
    {
        /// <summary>vpmaddubsw + vpmaddwd + vpaddd chains, 64 MACs per vpmaddubsw.</summary>
        [Benchmark]
        [MacsPerCall(PeakProbes.Int8MacsPerCall)]
        public int Int8Peak() => PeakProbes.Int8();

        /// <summary>Vector512 FMA chains, 16 MACs per FMA.</summary>
        [Benchmark]
        [MacsPerCall(PeakProbes.Fp32MacsPerCall)]
        public float Fp32Peak() => PeakProbes.Fp32();
    }

    /// <summary>The multiply-accumulates one call of a benchmark method performs (for benchmarks without a shape).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MacsPerCallAttribute : Attribute
    {
        public MacsPerCallAttribute(long macs) => Macs = macs;

        public long Macs { get; }
    }
}
