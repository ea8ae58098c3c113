using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Gen.Runtime;
using Gen.Tests.Support;

namespace Gen.Tests.Transformer
{
    /// <summary>The MnistVit sample's model and data, and small transformers with random weights.</summary>
    internal static class TransformerModels
    {
        public static string DataDirectory => Path.Combine(Repository.Root, "samples", "MnistVit", "Data");

        /// <summary>The sample's shape: 28x28x1, 7x7 patches, width 64, two layers of 4 heads and 128 hidden, 10 classes.</summary>
        public static TransformerShape Mnist { get; } = new(28, 28, 1, 7, 64, "embed",
            new[] { new EncoderLayerShape("blocks.0", 4, 128), new EncoderLayerShape("blocks.1", 4, 128) },
            "norm", new[] { new HeadLayerShape("head", 10) });

        public static SafeTensorsFile MnistWeights() =>
            SafeTensorsFile.Parse(File.ReadAllBytes(Path.Combine(DataDirectory, "mnist_vit.safetensors")));

        /// <summary>The PyTorch logits of train_vit.py's reference file: (dataset index, label, logits).</summary>
        public static List<(int Index, int Label, float[] Logits)> ReferenceLogits()
        {
            var result = new List<(int, int, float[])>();
            foreach (string line in File.ReadAllLines(Path.Combine(DataDirectory, "mnist_vit.reference.txt")))
            {
                if (line.Length == 0 || line.StartsWith('#')) continue;
                string[] f = line.Split(' ');
                result.Add((int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture),
                    f.Skip(2).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()));
            }

            return result;
        }

        /// <summary>
        /// Random weights for <paramref name="shape"/> (every tensor named as PyTorch saves it), and the safetensors file
        /// holding them. The patch weight is stored as a Conv2d [W, C, p, p] or a Linear [W, C p^2], the position
        /// embedding as [T, W] or [1, T, W]; <paramref name="skip"/> leaves one tensor out.
        /// </summary>
        public static (Dictionary<string, float[]> Tensors, byte[] File) Random(TransformerShape shape, int seed,
            bool linearPatch = false, bool batchedPosition = false, string? skip = null)
        {
            var rng = new Random(seed);
            var tensors = new Dictionary<string, float[]>();
            var writer = new SafeTensorsWriter();
            int w = shape.Width, t = shape.Tokens;

            void Add(string name, float scale, float offset, params int[] dims)
            {
                var values = new float[dims.Aggregate(1, (a, b) => a * b)];
                for (int i = 0; i < values.Length; i++) values[i] = offset + scale * (float)(2 * rng.NextDouble() - 1);
                tensors[name] = values;
                if (name != skip) writer.F32(name, values, dims);
            }

            void Linear(string prefix, int outputs, int inputs)
            {
                Add(prefix + ".weight", 1.5f / MathF.Sqrt(inputs), 0, outputs, inputs);
                Add(prefix + ".bias", 0.2f, 0, outputs);
            }

            void Norm(string prefix)
            {
                Add(prefix + ".weight", 0.3f, 1, w);
                Add(prefix + ".bias", 0.2f, 0, w);
            }

            int p = shape.PatchSize;
            Add(shape.Embedding + ".weight", 1.5f / MathF.Sqrt(shape.PatchValues), 0,
                linearPatch ? new[] { w, shape.PatchValues } : new[] { w, shape.Channels, p, p });
            Add(shape.Embedding + ".bias", 0.2f, 0, w);
            Add(shape.Embedding + ".position", 0.5f, 0, batchedPosition ? new[] { 1, t, w } : new[] { t, w });
            foreach (var layer in shape.Layers)
            {
                Norm(layer.Prefix + ".norm1");
                Linear(layer.Prefix + ".attn.q", w, w);
                Linear(layer.Prefix + ".attn.k", w, w);
                Linear(layer.Prefix + ".attn.v", w, w);
                Linear(layer.Prefix + ".attn.out", w, w);
                Norm(layer.Prefix + ".norm2");
                Linear(layer.Prefix + ".ffn.fc1", layer.FeedForward, w);
                Linear(layer.Prefix + ".ffn.fc2", w, layer.FeedForward);
            }

            Norm(shape.FinalNorm);
            int inputs = w;
            foreach (var dense in shape.Head)
            {
                Linear(dense.Name, dense.Outputs, inputs);
                inputs = dense.Outputs;
            }

            return (tensors, writer.ToBytes());
        }

        /// <summary>A random image in [0, 1].</summary>
        public static float[] RandomImage(TransformerShape shape, Random rng)
        {
            var image = new float[shape.InputSize];
            for (int i = 0; i < image.Length; i++) image[i] = (float)rng.NextDouble();
            return image;
        }
    }
}
