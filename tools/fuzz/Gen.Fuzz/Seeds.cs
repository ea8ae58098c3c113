using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Gen.Fuzz
{
    /// <summary>
    /// Writes the seed corpora: small files derived from the samples' real weights and calibration files (their
    /// real headers and values), and small generated models that the generator accepts, so that fuzzing starts from
    /// inputs that reach every stage. Deterministic: running it again gives the same bytes.
    /// </summary>
    public static class Seeds
    {
        public static void Write(string corpus)
        {
            string repository = FindRepository();
            string safetensors = Directory.CreateDirectory(Path.Combine(corpus, "safetensors")).FullName;
            string calibration = Directory.CreateDirectory(Path.Combine(corpus, "calibration")).FullName;
            string generator = Directory.CreateDirectory(Path.Combine(corpus, "generator")).FullName;
            var rng = new Random(17);

            // --- safetensors ---
            // The samples' real headers, with the first bytes of their data (the whole files are too big to mutate).
            foreach (string sample in new[] { "samples/Mnist/Data/mnist_mlp.safetensors", "samples/MnistVit/Data/mnist_vit.safetensors" })
            {
                byte[] bytes = File.ReadAllBytes(Path.Combine(repository, sample));
                long header = BitConverter.ToInt64(bytes, 0);
                File.WriteAllBytes(Path.Combine(safetensors, "real-header-" + Path.GetFileNameWithoutExtension(sample)), bytes.AsSpan(0, (int)Math.Min(bytes.Length, 8 + header + 64)).ToArray());
            }

            var mlp = Mlp(rng, new[] { 8, 6, 3 });
            File.WriteAllBytes(Path.Combine(safetensors, "mlp-f32"), mlp.Weights);
            var preQuantized = PreQuantized(rng, 6, 4);
            File.WriteAllBytes(Path.Combine(safetensors, "prequantized-i8-i32"), preQuantized.Weights);
            File.WriteAllBytes(Path.Combine(safetensors, "edge-cases"), new TensorWriter()
                .Add("scalar", "F32", new byte[4])
                .Add("empty", "I8", Array.Empty<byte>(), 0, 3)
                .Add("half", "F16", new byte[6], 3)
                .Add("wide", "I64", new byte[8], 1)
                .Add("u8", "U8", new byte[] { 1, 2 }, 2)
                .ToBytes(metadata: "{\"format\":\"pt\",\"note\":\"esc\\\"aped \\u00e9\"}"));
            File.WriteAllBytes(Path.Combine(safetensors, "no-tensors"), new TensorWriter().ToBytes(metadata: null));

            // --- quantization-parameter files ---
            foreach (string sample in new[] { "samples/Mnist/Data/mnist_mlp.calibration.txt", "samples/MnistVit/Data/mnist_vit.calibration.txt" })
            {
                File.Copy(Path.Combine(repository, sample), Path.Combine(calibration, "real-" + Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(sample))), overwrite: true);
            }

            File.WriteAllText(Path.Combine(calibration, "comments-and-crlf"), "# written by hand\r\ninput 0.0039215689 -128\r\n\r\n\tfc1  6.19e-2  -128  0 15.8\r\nfc2 0.2284767 25\n");

            // --- the generator's whole input ---
            File.WriteAllBytes(Path.Combine(generator, "mlp-inline-scales"), Container(mlp.Source, ("safetensors weights/model.safetensors", mlp.Weights)));
            File.WriteAllBytes(Path.Combine(generator, "mlp-prequantized"), Container(preQuantized.Source, ("safetensors weights/model.safetensors", preQuantized.Weights)));
            // The MNIST sample's declaration shape, its scales from its real calibration file beside the weights.
            var fromFile = Mlp(rng, new[] { 12, 5, 3 }, inlineScales: false);
            string realCalibration = File.ReadAllText(Path.Combine(repository, "samples/Mnist/Data/mnist_mlp.calibration.txt"));
            File.WriteAllBytes(Path.Combine(generator, "mlp-calibration-file"), Container(fromFile.Source,
                ("safetensors weights/model.safetensors", fromFile.Weights), ("text weights/model.calibration.txt", Encoding.UTF8.GetBytes(realCalibration)),
                ("option build_property.MSBuildProjectDirectory=/project", Array.Empty<byte>())));
            File.WriteAllBytes(Path.Combine(generator, "mlp-encoded-weights"), Container(mlp.Source,
                ("genweights weights/model.safetensors", Encoding.UTF8.GetBytes(GeneratorHarness.Encode(mlp.Weights, "/project/weights/model.safetensors")))));
            var vit = Vit(rng, repository);
            File.WriteAllBytes(Path.Combine(generator, "vit-calibration-file"), Container(vit.Source,
                ("safetensors weights/vit.safetensors", vit.Weights), ("text weights/vit.calibration.txt", Encoding.UTF8.GetBytes(vit.Calibration))));

            foreach (string file in Directory.GetFiles(generator).OrderBy(f => f, StringComparer.Ordinal))
            {
                try
                {
                    string summary = GeneratorHarness.Describe(File.ReadAllBytes(file));
                    Console.WriteLine($"{Path.GetFileName(file)}: {summary}");
                }
                catch (Exception e)
                {
                    Console.WriteLine($"{Path.GetFileName(file)}: CRASH {e.Message}");
                }
            }
        }

        private static byte[] Container(string source, params (string Header, byte[] Body)[] sections)
        {
            using var stream = new MemoryStream();
            stream.Write(Encoding.UTF8.GetBytes(source.TrimEnd('\n')));
            foreach (var (header, body) in sections)
            {
                stream.Write(Encoding.ASCII.GetBytes(GeneratorHarness.Marker + header + "\n"));
                stream.Write(body);
            }

            return stream.ToArray();
        }

        private static (string Source, byte[] Weights) Mlp(Random rng, int[] sizes, bool inlineScales = true)
        {
            var writer = new TensorWriter();
            var source = new StringBuilder("using Gen;\nnamespace Fuzz;\n[QuantizedModel(\"weights/model.safetensors\")]\n");
            source.Append(inlineScales ? $"[ModelInput({sizes[0]}, Scale = 0.02f, ZeroPoint = -3)]\n" : $"[ModelInput({sizes[0]})]\n");
            string[] names = { "fc1", "fc2", "fc3" };
            string[] activations = { "Relu", "None", "Relu6" };
            for (int l = 1; l < sizes.Length; l++)
            {
                int k = sizes[l - 1], n = sizes[l];
                writer.F32(names[l - 1] + ".weight", Floats(rng, n * k, 1 / Math.Sqrt(k)), n, k);
                writer.F32(names[l - 1] + ".bias", Floats(rng, n, 0.2), n);
                string weights = l == 1 ? "PerChannel" : "PerTensor";
                source.Append(inlineScales
                    ? $"[Dense(\"{names[l - 1]}\", {n}, Activation = Activation.{activations[l - 1]}, OutputScale = 0.05f, OutputZeroPoint = {l * 7 - 128}, Weights = WeightQuantization.{weights})]\n"
                    : $"[Dense(\"{names[l - 1]}\", {n}, Activation = Activation.{activations[l - 1]})]\n");
            }

            source.Append("public static partial class Model { }\n");
            return (source.ToString(), writer.ToBytes());
        }

        private static (string Source, byte[] Weights) PreQuantized(Random rng, int k, int n)
        {
            var weights = new byte[n * k];
            for (int i = 0; i < weights.Length; i++) weights[i] = unchecked((byte)(sbyte)rng.Next(-127, 128));
            var bias = new byte[n * 4];
            for (int i = 0; i < n; i++) BitConverter.GetBytes(rng.Next(-3000, 3000)).CopyTo(bias, 4 * i);
            var bytes = new TensorWriter()
                .Add("fc1.weight", "I8", weights, n, k)
                .F32("fc1.weight_scale", Enumerable.Range(0, n).Select(c => 0.004f + 0.001f * c).ToArray(), n)
                .Add("fc1.bias", "I32", bias, n)
                .ToBytes();
            string source = "using Gen;\n[QuantizedModel(\"weights/model.safetensors\")]\n" +
                $"[ModelInput({k}, Scale = 0.03f, ZeroPoint = 5)]\n[Dense(\"fc1\", {n}, OutputScale = 0.1f, OutputZeroPoint = 0)]\n" +
                "internal static partial class Quantized { }\n";
            return (source, bytes);
        }

        /// <summary>A vision transformer of one encoder layer on 8x8 images, its scales those of the MNIST ViT sample.</summary>
        private static (string Source, byte[] Weights, string Calibration) Vit(Random rng, string repository)
        {
            const int image = 8, patch = 4, width = 8, feedForward = 8, outputs = 3, tokens = image / patch * (image / patch);
            var writer = new TensorWriter();
            void Linear(string prefix, int n, int k)
            {
                writer.F32(prefix + ".weight", Floats(rng, n * k, 1.5 / Math.Sqrt(k)), n, k);
                writer.F32(prefix + ".bias", Floats(rng, n, 0.2), n);
            }

            void Norm(string prefix)
            {
                writer.F32(prefix + ".weight", Floats(rng, width, 0.3).Select(v => v + 1).ToArray(), width);
                writer.F32(prefix + ".bias", Floats(rng, width, 0.2), width);
            }

            writer.F32("embed.weight", Floats(rng, width * patch * patch, 1.5 / patch), width, 1, patch, patch);
            writer.F32("embed.bias", Floats(rng, width, 0.2), width);
            writer.F32("embed.position", Floats(rng, tokens * width, 0.5), tokens, width);
            Norm("blocks.0.norm1");
            foreach (string p in new[] { "q", "k", "v", "out" }) Linear("blocks.0.attn." + p, width, width);
            Norm("blocks.0.norm2");
            Linear("blocks.0.ffn.fc1", feedForward, width);
            Linear("blocks.0.ffn.fc2", width, feedForward);
            Norm("norm");
            Linear("head", outputs, width);

            // The real sample's calibration lines for the activations this model has (the second layer's dropped).
            string calibration = string.Concat(File.ReadAllLines(Path.Combine(repository, "samples/MnistVit/Data/mnist_vit.calibration.txt"))
                .Where(line => !line.StartsWith("blocks.1.", StringComparison.Ordinal)).Select(line => line + "\n"));
            string source = "using Gen;\nnamespace Fuzz.Vision\n{\n[QuantizedModel(\"weights/vit.safetensors\")]\n[ModelInput(64)]\n" +
                $"[PatchEmbedding(\"embed\", {image}, {image}, {patch}, {width})]\n" +
                $"[EncoderLayer(\"blocks.0\", Heads = 2, FeedForward = {feedForward})]\n[LayerNorm(\"norm\")]\n[MeanPool]\n[Dense(\"head\", {outputs})]\n" +
                "[Quantization(\"head\", 0.025781687f, -55)]\npublic static partial class Vit { }\n}\n";
            return (source, writer.ToBytes(), calibration);
        }

        private static float[] Floats(Random rng, int count, double scale) =>
            Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

        private static string FindRepository()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Gen.sln"))) return dir.FullName;
            }

            throw new InvalidOperationException("Gen.sln not found above " + AppContext.BaseDirectory);
        }

        /// <summary>A small safetensors writer of its own (the reader under test is not used to write its input).</summary>
        private sealed class TensorWriter
        {
            private readonly List<(string Name, string DType, int[] Shape, byte[] Data)> _tensors = new();

            public TensorWriter Add(string name, string dtype, byte[] data, params int[] shape)
            {
                _tensors.Add((name, dtype, shape, data));
                return this;
            }

            public TensorWriter F32(string name, float[] values, params int[] shape)
            {
                var data = new byte[values.Length * 4];
                Buffer.BlockCopy(values, 0, data, 0, data.Length);
                return Add(name, "F32", data, shape);
            }

            public byte[] ToBytes(string? metadata = "{\"format\":\"pt\"}")
            {
                var entries = new List<string>();
                if (metadata != null) entries.Add("\"__metadata__\":" + metadata);
                long offset = 0;
                foreach (var t in _tensors)
                {
                    entries.Add(string.Format(CultureInfo.InvariantCulture, "\"{0}\":{{\"dtype\":\"{1}\",\"shape\":[{2}],\"data_offsets\":[{3},{4}]}}",
                        t.Name, t.DType, string.Join(",", t.Shape), offset, offset + t.Data.Length));
                    offset += t.Data.Length;
                }

                var header = new StringBuilder("{" + string.Join(",", entries) + "}");
                while (header.Length % 8 != 0) header.Append(' ');
                using var stream = new MemoryStream();
                stream.Write(BitConverter.GetBytes((ulong)header.Length));
                stream.Write(Encoding.UTF8.GetBytes(header.ToString()));
                foreach (var t in _tensors) stream.Write(t.Data);
                return stream.ToArray();
            }
        }
    }
}
