using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Benchmarks
{
    /// <summary>One benchmarked matrix product: M rows of K inputs times a K x N layer.</summary>
    public sealed class GemmShape
    {
        private GemmShape(int m, int k, int n)
        {
            M = m;
            K = k;
            N = n;
        }

        /// <summary>Rows (the batch passed to Run).</summary>
        public int M { get; }

        /// <summary>Inputs per row.</summary>
        public int K { get; }

        /// <summary>Outputs per row.</summary>
        public int N { get; }

        /// <summary>Multiply-accumulates per call, M * K * N.</summary>
        public long Macs => (long)M * K * N;

        /// <summary>The name used as the benchmark parameter, "MxKxN".</summary>
        public string Name => string.Create(CultureInfo.InvariantCulture, $"{M}x{K}x{N}");

        /// <summary>Every benchmarked shape, in the order the tables list them.</summary>
        public static readonly IReadOnlyList<string> All = new[]
        {
            "1x784x128", "1x768x768", "4x768x768", "16x256x256", "32x64x256", "128x768x768", "128x768x3072", "128x3072x768",
        };

        /// <summary>A small subset for a quick look (a few seconds per kernel).</summary>
        public static readonly IReadOnlyList<string> Quick = new[] { "1x784x128", "4x768x768", "16x256x256" };

        /// <summary>Parses "MxKxN".</summary>
        public static GemmShape Parse(string name)
        {
            string[] parts = name.Split('x');
            if (parts.Length != 3) throw new FormatException($"Shape '{name}' is not MxKxN.");
            return new GemmShape(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
                int.Parse(parts[2], CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The generated models, reached through their public API only.</summary>
    public static class GeneratedModels
    {
        /// <summary>The weights file of the K x N layer, relative to the output folder.</summary>
        public static string WeightsFile(int k, int n) => string.Create(CultureInfo.InvariantCulture, $"Weights/k{k}_n{n}.safetensors");

        /// <summary>A small integer naming the generated model of a K x N layer, for a switch without strings.</summary>
        public static int Id(int k, int n) => (k, n) switch
        {
            (784, 128) => 0,
            (768, 768) => 1,
            (256, 256) => 2,
            (64, 256) => 3,
            (768, 3072) => 4,
            (3072, 768) => 5,
            _ => throw new ArgumentException($"No generated model for K = {k}, N = {n}."),
        };

        /// <summary>The model's quantization: input scale and zero point, output scale and zero point.</summary>
        public static (float InputScale, int InputZeroPoint, float OutputScale, int OutputZeroPoint) Quantization(int id) => id switch
        {
            0 => (Dense784x128.InputScale, Dense784x128.InputZeroPoint, Dense784x128.OutputScale, Dense784x128.OutputZeroPoint),
            1 => (Dense768x768.InputScale, Dense768x768.InputZeroPoint, Dense768x768.OutputScale, Dense768x768.OutputZeroPoint),
            2 => (Dense256x256.InputScale, Dense256x256.InputZeroPoint, Dense256x256.OutputScale, Dense256x256.OutputZeroPoint),
            3 => (Dense64x256.InputScale, Dense64x256.InputZeroPoint, Dense64x256.OutputScale, Dense64x256.OutputZeroPoint),
            4 => (Dense768x3072.InputScale, Dense768x3072.InputZeroPoint, Dense768x3072.OutputScale, Dense768x3072.OutputZeroPoint),
            5 => (Dense3072x768.InputScale, Dense3072x768.InputZeroPoint, Dense3072x768.OutputScale, Dense3072x768.OutputZeroPoint),
            _ => throw new ArgumentOutOfRangeException(nameof(id)),
        };

        /// <summary>Runs the generated model <paramref name="id"/> on <paramref name="batchSize"/> rows.</summary>
        public static void Run(int id, ReadOnlySpan<sbyte> inputs, Span<sbyte> outputs, int batchSize)
        {
            switch (id)
            {
                case 0: Dense784x128.Run(inputs, outputs, batchSize); break;
                case 1: Dense768x768.Run(inputs, outputs, batchSize); break;
                case 2: Dense256x256.Run(inputs, outputs, batchSize); break;
                case 3: Dense64x256.Run(inputs, outputs, batchSize); break;
                case 4: Dense768x3072.Run(inputs, outputs, batchSize); break;
                case 5: Dense3072x768.Run(inputs, outputs, batchSize); break;
                default: throw new ArgumentOutOfRangeException(nameof(id));
            }
        }
    }
}
