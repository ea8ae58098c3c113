using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// How <c>[QuantizedModel("path")]</c> finds its weights file among the encoded copies the build passes: the path
    /// resolves against the project folder (MSBuildProjectDirectory, a global option) like an MSBuild path, else it
    /// matches as a suffix; a suffix that matches two files is GEN014, nothing at all GEN002.
    /// </summary>
    public partial class DiagnosticTests
    {
        private const string ProjectDirectory = "/ws/App";

        private static readonly Dictionary<string, string> InProject = new() { ["build_property.MSBuildProjectDirectory"] = ProjectDirectory };

        /// <summary>Valid tensors for <see cref="ValidSource"/>, different for every seed.</summary>
        private static byte[] SeededTensors(int seed) => new SafeTensorsWriter()
            .F32("fc1.weight", Values(12, seed), 3, 4).F32("fc1.bias", Values(3, seed + 1), 3)
            .F32("fc2.weight", Values(6, seed + 2), 2, 3).F32("fc2.bias", Values(2, seed + 3), 2)
            .ToBytes();

        /// <summary><see cref="ValidSource"/> naming <paramref name="weightsPath"/>, with the weights files encoded as
        /// the build step names them (file name, a hash, .genweights).</summary>
        private static GeneratorRun RunNaming(string weightsPath, IReadOnlyDictionary<string, string>? options, params (string Path, byte[] Bytes)[] weights)
        {
            string literal = "\"" + weightsPath.Replace("\\", "\\\\", StringComparison.Ordinal) + "\"";
            string source = ValidSource.Replace("\"model.safetensors\"", literal, StringComparison.Ordinal);
            var files = weights.Select((w, i) => (AdditionalText)new InMemoryText(
                $"{ProjectDirectory}/obj/gen-weights/{System.IO.Path.GetFileName(w.Path)}.{i:x8}.genweights", SafeTensorsWriter.Encode(w.Bytes, w.Path)));
            return GeneratorHarness.Run(GeneratorHarness.Compilation(source), GeneratorHarness.Driver(files, options));
        }

        private static readonly (string Path, int Seed)[] Layout =
        {
            ("/ws/w1/mlp.safetensors", 1),
            ("/ws/w2/mlp.safetensors", 2),
            ("/ws/App/model.safetensors", 3),
            ("/ws/App/sub/model.safetensors", 4),
            ("/ws/App/src/Data/digits.safetensors", 5),
        };

        [Theory]
        [InlineData("../w1/mlp.safetensors", "/ws/w1/mlp.safetensors")]
        [InlineData("..\\w2\\mlp.safetensors", "/ws/w2/mlp.safetensors")]
        [InlineData("sub/../../w2/mlp.safetensors", "/ws/w2/mlp.safetensors")]
        [InlineData("/ws/w2/mlp.safetensors", "/ws/w2/mlp.safetensors")]
        [InlineData("sub/../model.safetensors", "/ws/App/model.safetensors")]
        [InlineData("./sub/./model.safetensors", "/ws/App/sub/model.safetensors")]
        [InlineData("sub//model.safetensors", "/ws/App/sub/model.safetensors")]
        // The exact path relative to the project folder wins over a suffix match in a subfolder.
        [InlineData("model.safetensors", "/ws/App/model.safetensors")]
        // Suffix matching (a bare name, or the end of a path) still finds a file in a subfolder.
        [InlineData("digits.safetensors", "/ws/App/src/Data/digits.safetensors")]
        [InlineData("Data/digits.safetensors", "/ws/App/src/Data/digits.safetensors")]
        public void PathsResolveLikeMSBuildPathsFromTheProjectFolder(string attribute, string expected)
        {
            var all = Layout.Select(f => (f.Path, SeededTensors(f.Seed))).ToArray();
            var run = RunNaming(attribute, InProject, all);
            AssertNoException(run);
            Assert.True(!run.Errors.Any(), string.Join("\n", run.Errors));

            // The same declaration with only one file, at the expected path, each seed in turn: only the expected
            // file's weights give the same code (and the seeds do give different code, so this can fail).
            var bySeed = Layout.Select(f => RunNaming(attribute, InProject, (expected, SeededTensors(f.Seed))).GeneratedSource(".Net.g.cs")).ToList();
            Assert.Equal(bySeed.Count, bySeed.Distinct().Count());
            int seedIndex = Array.FindIndex(Layout, f => f.Path == expected);
            Assert.Equal(bySeed[seedIndex], run.GeneratedSource(".Net.g.cs"));
        }

        [Fact]
        public void Gen014_BareNameOfTwoFilesInDifferentFolders()
        {
            var run = RunNaming("mlp.safetensors", InProject,
                ("/ws/App/b/mlp.safetensors", SeededTensors(1)), ("/ws/App/a/mlp.safetensors", SeededTensors(2)));
            var d = Expect(run, "GEN014", "QuantizedModel(\"mlp.safetensors\")",
                "The weights file 'mlp.safetensors' is ambiguous: it matches 'a/mlp.safetensors', 'b/mlp.safetensors'; " +
                "give the path relative to the project folder, for example 'a/mlp.safetensors'");
            Assert.Equal("QuantizedModel(\"mlp.safetensors\")", SpanText(run, d));
        }

        [Fact]
        public void Gen014_SameNamedWeightsItemsOutsideTheProject()
        {
            // <GenWeights Include="../w1/mlp.safetensors" /> and "../w2/mlp.safetensors": the bare name is ambiguous,
            // each relative path is not.
            var files = new[] { ("/ws/w1/mlp.safetensors", SeededTensors(1)), ("/ws/w2/mlp.safetensors", SeededTensors(2)) };
            Expect(RunNaming("mlp.safetensors", InProject, files), "GEN014", "QuantizedModel",
                "it matches '../w1/mlp.safetensors', '../w2/mlp.safetensors'; give the path relative to the project folder, for example '../w1/mlp.safetensors'");
            Assert.Empty(RunNaming("../w1/mlp.safetensors", InProject, files).Errors);

            // Without the build step's project folder the candidates are named by their full paths.
            Expect(RunNaming("mlp.safetensors", null, files), "GEN014", "QuantizedModel",
                "it matches '/ws/w1/mlp.safetensors', '/ws/w2/mlp.safetensors'");
        }

        [Fact]
        public void Gen002_PathThatClimbsOutMatchesOnlyExactly()
        {
            // "../w1/mlp.safetensors" must not match /ws/App/x/w1/mlp.safetensors as a suffix.
            var run = RunNaming("../w1/mlp.safetensors", InProject, ("/ws/App/x/w1/mlp.safetensors", SeededTensors(1)));
            var d = Expect(run, "GEN002", "QuantizedModel", "The weights file '../w1/mlp.safetensors' was not found; give the path of an existing file relative to the project folder");
            Assert.Contains("(found: x/w1/mlp.safetensors)", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen002_ListsTheBuildStepsCandidatesRelativeToTheProject()
        {
            // The build step encodes only the files attributes name, but tells the generator every candidate.
            var options = new Dictionary<string, string>(InProject)
            {
                ["build_property.GenWeightsCandidates"] = "/ws/App/Data/mlp.safetensors|/ws/shared/x.safetensors",
            };
            var d = Expect(RunNaming("weights/mlp.safetensors", options), "GEN002", "QuantizedModel(\"weights/mlp.safetensors\")",
                "The weights file 'weights/mlp.safetensors' was not found");
            Assert.EndsWith("(found: ../shared/x.safetensors, Data/mlp.safetensors)", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_EncodedCopyInTheOldFormat()
        {
            string old = "gen-weights 1\nsource: " + WeightsPath + "\n" + Convert.ToBase64String(ValidTensors().ToBytes()) + "\n";
            var run = RunWithText(ValidSource, "/project/obj/gen-weights/model.safetensors.genweights", old);
            var d = Expect(run, "GEN003", "QuantizedModel", "The weights file 'model.safetensors' cannot be read: its encoded copy");
            Assert.Contains("was written by an older version of Gen's build step ('gen-weights 1', this generator reads 'gen-weights 2')", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_EncodedCopyShorterThanItsHeaderSays()
        {
            byte[] bytes = ValidTensors().ToBytes();
            string text = SafeTensorsWriter.Encode(bytes, WeightsPath).Replace($"size: {bytes.Length}\n", $"size: {bytes.Length + 3}\n", StringComparison.Ordinal);
            var d = Expect(RunWithText(ValidSource, WeightsPath + ".genweights", text), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("corrupt", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void LargeEncodedCopiesDecodeAcrossChunks()
        {
            // 300 KB of another tensor first, so the model's own tensors lie several decoding chunks into the text.
            byte[] padding = Enumerable.Range(0, 300_001).Select(i => (byte)(i * 37)).ToArray();
            var large = new SafeTensorsWriter().Raw("padding", "U8", padding, padding.Length)
                .F32("fc1.weight", Values(12), 3, 4).F32("fc1.bias", Values(3, 1), 3)
                .F32("fc2.weight", Values(6, 2), 2, 3).F32("fc2.bias", Values(2, 3), 2).ToBytes();
            var big = Run(ValidSource, large);
            var small = Run(ValidSource, ValidTensors().ToBytes());
            Assert.Empty(big.Errors);
            Assert.Equal(small.GeneratedSource(".Net.g.cs"), big.GeneratedSource(".Net.g.cs"));
        }
    }
}
