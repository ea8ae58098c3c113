using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using Gen.Runtime;
using Gen.Runtime.Interpreter;

namespace Gen.Benchmarks
{
    /// <summary>
    /// One benchmarked vision transformer, prepared for both implementations: Gen's generated integer-only model
    /// (<see cref="MnistVit"/> or <see cref="Vit256"/>, reached through its public API) and
    /// <see cref="FloatModel"/>, the SIMD float32 forward pass of the same float weights, which the program reads
    /// at run time from the file the generator compiled. Both run the same image: a held-out MNIST digit for the MNIST
    /// ViT, a random image for the larger model.
    /// </summary>
    public sealed class TransformerCase
    {
        /// <summary>The MNIST vision transformer of samples/MnistVit (trained).</summary>
        public const string Mnist = "MnistVit";

        /// <summary>The larger random transformer (32 x 32 x 3, 64 tokens, width 256, 4 layers).</summary>
        public const string Large = "Vit256";

        /// <summary>The models, in the order the tables list them.</summary>
        public static readonly IReadOnlyList<string> All = new[] { Mnist, Large };

        /// <summary>The first held-out MNIST digit (images 0 to 7,999 trained and calibrated the model).</summary>
        public const int FirstHeldOut = 8000;

        private readonly int _id;

        private TransformerCase(string name)
        {
            Name = name;
            _id = Id(name);
            Shape = ShapeOf(name);
            string weights = Path.Combine(AppContext.BaseDirectory, WeightsFile(name));
            if (!File.Exists(weights))
            {
                throw new FileNotFoundException($"{WeightsFile(name)} is missing next to the program; build the project to generate or copy it.", weights);
            }

            Float = FloatModel.VisionTransformer(SafeTensorsFile.Parse(File.ReadAllBytes(weights)), Shape);
            if (Float.InputSize != InputSize(_id) || Float.OutputSize != OutputSize(_id))
            {
                throw new InvalidOperationException($"{name}: the float model takes {Float.InputSize} values and writes {Float.OutputSize}; the generated one {InputSize(_id)} and {OutputSize(_id)}.");
            }

            FloatImage = name == Mnist ? MnistDigits.Load().Image(FirstHeldOut) : RandomImage(Shape.InputSize, seed: 1);
            Image = new sbyte[Shape.InputSize];
            Quantize(FloatImage, Image);
            Output = new sbyte[Shape.OutputSize];
            FloatOutput = new float[Shape.OutputSize];
        }

        /// <summary>The model's name (<see cref="Mnist"/> or <see cref="Large"/>).</summary>
        public string Name { get; }

        /// <summary>The architecture.</summary>
        public TransformerShape Shape { get; }

        /// <summary>The float32 model.</summary>
        public FloatModel Float { get; }

        /// <summary>The timed image, as floats (CHW, pixels / 255).</summary>
        public float[] FloatImage { get; }

        /// <summary>The timed image quantized with the generated model's <c>QuantizeInput</c>.</summary>
        public sbyte[] Image { get; }

        /// <summary>The generated model's output of the last run.</summary>
        public sbyte[] Output { get; }

        /// <summary>The float model's output of the last run.</summary>
        public float[] FloatOutput { get; }

        /// <summary>Multiply-accumulates per inference of the matrix products (see <see cref="MacsOf"/>).</summary>
        public long Macs => MacsOf(Shape);

        /// <summary>Loads the weights and prepares the image of model <paramref name="name"/>.</summary>
        public static TransformerCase Create(string name) => new TransformerCase(name);

        /// <summary>The generated model on the prepared INT8 image.</summary>
        public void RunInt8() => Run(_id, Image, Output);

        /// <summary>The generated model from the float image: its <c>QuantizeInput</c>, then <c>Run</c>.</summary>
        public void RunInt8FromFloat()
        {
            Quantize(FloatImage, Image);
            Run(_id, Image, Output);
        }

        /// <summary>The float32 model on the float image.</summary>
        public void RunFloat() => Float.Run(FloatImage, FloatOutput);

        /// <summary>The generated model's <c>QuantizeInput</c>.</summary>
        public void Quantize(ReadOnlySpan<float> image, Span<sbyte> destination)
        {
            switch (_id)
            {
                case 0: MnistVit.QuantizeInput(image, destination); break;
                default: Vit256.QuantizeInput(image, destination); break;
            }
        }

        /// <summary>The generated model's <c>DequantizeOutput</c>.</summary>
        public void Dequantize(ReadOnlySpan<sbyte> output, Span<float> destination)
        {
            switch (_id)
            {
                case 0: MnistVit.DequantizeOutput(output, destination); break;
                default: Vit256.DequantizeOutput(output, destination); break;
            }
        }

        /// <summary>The generated model's <c>Run</c> on one image.</summary>
        public static void Run(int id, ReadOnlySpan<sbyte> image, Span<sbyte> output)
        {
            switch (id)
            {
                case 0: MnistVit.Run(image, output); break;
                case 1: Vit256.Run(image, output); break;
                default: throw new ArgumentOutOfRangeException(nameof(id));
            }
        }

        /// <summary>The generated model's batched <c>Run</c>.</summary>
        public void RunBatch(ReadOnlySpan<sbyte> images, Span<sbyte> outputs, int batchSize)
        {
            switch (_id)
            {
                case 0: MnistVit.Run(images, outputs, batchSize); break;
                default: Vit256.Run(images, outputs, batchSize); break;
            }
        }

        /// <summary>The kernel path the generated model runs (its <c>ActivePath</c>).</summary>
        public string ActivePath => _id == 0 ? MnistVit.ActivePath.ToString() : Vit256.ActivePath.ToString();

        /// <summary>
        /// Multiply-accumulates of the matrix products per image: the patch projection, per layer Q, K, V and the
        /// output projection, Q K^T and the weights times V, the two feed-forward layers, then the head (LayerNorm,
        /// Softmax, GELU and the adds are not counted).
        /// </summary>
        public static long MacsOf(TransformerShape s)
        {
            long t = s.Tokens, w = s.Width;
            long macs = t * s.PatchValues * w;
            foreach (var layer in s.Layers) macs += 4 * t * w * w + 2 * t * t * w + 2 * t * w * layer.FeedForward;
            long inputs = w;
            foreach (var dense in s.Head)
            {
                macs += inputs * dense.Outputs;
                inputs = dense.Outputs;
            }

            return macs;
        }

        /// <summary>The architecture of a model (the declaration in Gen.Benchmarks.Models/Models.cs).</summary>
        public static TransformerShape ShapeOf(string name) => name switch
        {
            Mnist => new TransformerShape(28, 28, 1, 7, 64, "embed",
                new[] { new EncoderLayerShape("blocks.0", 4, 128), new EncoderLayerShape("blocks.1", 4, 128) }, "norm",
                new[] { new HeadLayerShape("head", 10) }),
            Large => new TransformerShape(32, 32, 3, 4, 256, "embed",
                new[]
                {
                    new EncoderLayerShape("blocks.0", 4, 1024), new EncoderLayerShape("blocks.1", 4, 1024),
                    new EncoderLayerShape("blocks.2", 4, 1024), new EncoderLayerShape("blocks.3", 4, 1024),
                }, "norm", new[] { new HeadLayerShape("head", 10) }),
            _ => throw new ArgumentException($"No transformer named '{name}'.", nameof(name)),
        };

        /// <summary>A short description for tables: tokens, width, layers, feed-forward.</summary>
        public static string Describe(string name)
        {
            var s = ShapeOf(name);
            return FormattableString.Invariant(
                $"{s.Channels}x{s.ImageHeight}x{s.ImageWidth}, {s.Tokens} tokens, width {s.Width}, {s.Layers.Count} layers, FF {s.Layers[0].FeedForward}");
        }

        /// <summary>A deterministic random image (uniform pixels / 255), not one of the calibration images.</summary>
        public static float[] RandomImage(int size, int seed)
        {
            var random = new Random(4242 + seed);
            var image = new float[size];
            for (int i = 0; i < size; i++) image[i] = random.Next(256) / 255f;
            return image;
        }

        private static int Id(string name) => name switch
        {
            Mnist => 0,
            Large => 1,
            _ => throw new ArgumentException($"No transformer named '{name}'.", nameof(name)),
        };

        private static int InputSize(int id) => id == 0 ? MnistVit.InputSize : Vit256.InputSize;

        private static int OutputSize(int id) => id == 0 ? MnistVit.OutputSize : Vit256.OutputSize;

        private static string WeightsFile(string name) => name == Mnist ? "Data/mnist_vit.safetensors" : "Weights/vit256.safetensors";
    }

    /// <summary>The MNIST digits of samples/Mnist/Data (copied to Data/ next to the program): 10,000 images and labels.</summary>
    public sealed class MnistDigits
    {
        public const int ImageSize = 784;

        private static MnistDigits? _loaded;
        private readonly byte[] _pixels;

        private MnistDigits(byte[] pixels, byte[] labels)
        {
            _pixels = pixels;
            Labels = labels;
        }

        /// <summary>One byte per image.</summary>
        public byte[] Labels { get; }

        public int Count => Labels.Length;

        /// <summary>Reads the files once.</summary>
        public static MnistDigits Load()
        {
            if (_loaded != null) return _loaded;
            string images = Path.Combine(AppContext.BaseDirectory, "Data", "mnist-images.u8.gz");
            string labels = Path.Combine(AppContext.BaseDirectory, "Data", "mnist-labels.u8");
            if (!File.Exists(images) || !File.Exists(labels))
            {
                throw new FileNotFoundException("The MNIST digits (Data/mnist-images.u8.gz, Data/mnist-labels.u8) are missing next to the program; build the project to copy them.");
            }

            using var stream = new GZipStream(File.OpenRead(images), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] pixels = buffer.ToArray();
            byte[] labelBytes = File.ReadAllBytes(labels);
            if (pixels.Length != labelBytes.Length * ImageSize)
            {
                throw new InvalidDataException($"{pixels.Length} pixel bytes for {labelBytes.Length} labels.");
            }

            return _loaded = new MnistDigits(pixels, labelBytes);
        }

        /// <summary>Image <paramref name="index"/> as floats in [0, 1] (pixel / 255), as the model was trained.</summary>
        public float[] Image(int index)
        {
            var image = new float[ImageSize];
            for (int i = 0; i < ImageSize; i++) image[i] = _pixels[index * ImageSize + i] / 255f;
            return image;
        }
    }
}
