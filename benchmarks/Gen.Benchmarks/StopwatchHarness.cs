using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Gen.Benchmarks
{
    /// <summary>
    /// A self-contained timing loop for the same kernels, used where BenchmarkDotNet cannot run (the NativeAOT binary):
    /// per kernel, calls are grouped into samples of at least 20 ms, 3 warmup samples are discarded, and the median of
    /// 15 samples is reported. Allocation is read from the GC's per-thread counter around the measured samples. Under
    /// the JIT, each transformer kernel first runs for half a second, so that tiered compilation has finished.
    /// </summary>
    public static class StopwatchHarness
    {
        private const int WarmupSamples = 3;
        private const int Samples = 15;
        private static readonly double TargetSampleTicks = Stopwatch.Frequency * 0.020;
        private static readonly double TransformerWarmupSeconds = Program.IsNativeAot ? 0 : 0.5;

        public static (List<Measurement> Gemm, List<Measurement> Probes) Run(IEnumerable<string> shapes)
        {
            var gemm = new List<Measurement>();
            foreach (string shape in shapes)
            {
                var layer = DenseLayer.Create(shape);
                int rows = layer.Shape.M, id = layer.ModelId;
                var outputs = new sbyte[rows * layer.Shape.N];
                var floatOutputs = new float[rows * layer.Shape.N];
                var naive = new NaiveInt8(layer);
                var float32 = new Float32Gemm(layer.FloatWeights, layer.FloatBias, layer.Shape.K, layer.Shape.N);

                gemm.Add(Measure(shape, "Generated", () => GeneratedModels.Run(id, layer.Inputs, outputs, rows)));
                gemm.Add(Measure(shape, "NaiveScalar", () => naive.Run(layer.Inputs, outputs, rows)));
                gemm.Add(Measure(shape, "Float32", () => float32.Run(layer.FloatInputs, floatOutputs, rows)));
                foreach (var m in gemm.GetRange(gemm.Count - 3, 3))
                {
                    Console.Error.WriteLine($"  {m.Shape,-14} {m.Kernel,-12} {m.NanosecondsPerCall / 1000.0,12:F3} us  {GemmShape.Parse(shape).Macs / m.NanosecondsPerCall,8:F2} GMAC/s  {m.BytesPerCall:0} B");
                }
            }

            var probes = new List<Measurement>();
            foreach (var probe in PeakProbes.All)
            {
                if (probe.Supported) probes.Add(Measure("-", probe.Kernel, () => probe.Run()));
            }

            return (gemm, probes);
        }

        /// <summary>
        /// Each transformer's float32 model, generated <c>Run</c> and <c>QuantizeInput</c> + <c>Run</c>, one image per
        /// call, measured one after another in this process.
        /// </summary>
        public static List<Measurement> RunTransformers(IEnumerable<string> models)
        {
            var results = new List<Measurement>();
            foreach (string name in models)
            {
                var model = TransformerCase.Create(name);
                results.Add(Measure(name, "Float32", model.RunFloat, TransformerWarmupSeconds));
                results.Add(Measure(name, "Int8", model.RunInt8, TransformerWarmupSeconds));
                results.Add(Measure(name, "Int8WithQuantize", model.RunInt8FromFloat, TransformerWarmupSeconds));
                foreach (var m in results.GetRange(results.Count - 3, 3))
                {
                    Console.Error.WriteLine($"  {m.Shape,-10} {m.Kernel,-17} {m.NanosecondsPerCall / 1000.0,12:F3} us  {model.Macs / m.NanosecondsPerCall,8:F2} GMAC/s  {m.BytesPerCall:0} B");
                }
            }

            return results;
        }

        private static Measurement Measure(string shape, string kernel, Action call, double warmupSeconds = 0)
        {
            // Under the JIT, the generated transformers' big methods reach optimized code only after a while (tiered
            // compilation); run them for a while before calibrating. Nothing to wait for in the NativeAOT binary.
            long warmupEnd = Stopwatch.GetTimestamp() + (long)(warmupSeconds * Stopwatch.Frequency);
            do call(); while (Stopwatch.GetTimestamp() < warmupEnd);

            // Calibrate: calls per sample so that one sample takes at least 20 ms.
            long calls = 1;
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                for (long i = 0; i < calls; i++) call();
                long elapsed = Stopwatch.GetTimestamp() - start;
                if (elapsed >= TargetSampleTicks) break;
                calls = elapsed <= 0 ? calls * 10 : Math.Max(calls + 1, (long)Math.Ceiling(calls * TargetSampleTicks * 1.1 / elapsed));
            }

            for (int s = 0; s < WarmupSamples; s++)
            {
                for (long i = 0; i < calls; i++) call();
            }

            var perCall = new double[Samples];
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int s = 0; s < Samples; s++)
            {
                long start = Stopwatch.GetTimestamp();
                for (long i = 0; i < calls; i++) call();
                long elapsed = Stopwatch.GetTimestamp() - start;
                perCall[s] = elapsed * 1e9 / Stopwatch.Frequency / calls;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            double mean = 0, squares = 0;
            foreach (double t in perCall) mean += t / Samples;
            foreach (double t in perCall) squares += (t - mean) * (t - mean);
            Array.Sort(perCall);
            return new Measurement(shape, kernel, perCall[Samples / 2], (double)allocated / (calls * Samples), Math.Sqrt(squares / (Samples - 1)));
        }
    }
}
