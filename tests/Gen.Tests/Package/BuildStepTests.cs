using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Gen.Runtime;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Package
{
    /// <summary>
    /// Gen's MSBuild weights step (src/Generators/build/Gen.targets) in real builds: a console project outside the
    /// repository imports it by path and references the generator as an analyzer (as samples/Mnist does). One project
    /// covers every case, built twice: models named by a bare name, by sub/../, by ../ paths to <c>&lt;GenWeights&gt;</c>
    /// items that share a file name and to a file outside the project without an item, an ambiguous bare name (GEN014,
    /// demoted to a warning so that the build goes on), and an unused 24 MB checkpoint. Between the builds one weights
    /// file is replaced by different weights with an older timestamp, as <c>cp -p</c>, tar and unzip leave it.
    /// </summary>
    public sealed class BuildStepTests : IClassFixture<BuildStepTests.Workspace>
    {
        private readonly Workspace _workspace;
        private readonly ITestOutputHelper _log;

        public BuildStepTests(Workspace workspace, ITestOutputHelper log)
        {
            _workspace = workspace;
            _log = log;
        }

        [Fact]
        public void ReplacementWithAnOlderTimestampIsCompiledByThePlainNextBuild()
        {
            var w = _workspace;
            Assert.True(w.First.ExitCode == 0, w.First.Output);
            Assert.True(w.Second.ExitCode == 0, w.Second.Output);
            Assert.Equal(w.Expected("Root", Workspace.RootSeed), w.Line(w.FirstRun, "Root"));
            Assert.Equal(w.Expected("Root", Workspace.ReplacementSeed), w.Line(w.SecondRun, "Root"));
            Assert.NotEqual(w.Line(w.FirstRun, "Root"), w.Line(w.SecondRun, "Root"));
            Assert.Equal(w.Expected("SubDotDot", Workspace.ReplacementSeed), w.Line(w.SecondRun, "SubDotDot"));

            // Only the replaced file's copy was written again; the others kept their bytes and their time.
            string root = w.FirstCopies.Keys.Single(n => n.StartsWith("model.safetensors.", StringComparison.Ordinal) &&
                w.Header(n).Contains("source: " + Path.Combine(w.ProjectDirectory, "model.safetensors") + "\n", StringComparison.Ordinal));
            Assert.Equal(w.FirstCopies.Keys.OrderBy(n => n), w.SecondCopies.Keys.OrderBy(n => n));
            foreach (var (name, time) in w.FirstCopies)
            {
                if (name == root) Assert.NotEqual(time, w.SecondCopies[name]);
                else Assert.Equal(time, w.SecondCopies[name]);
            }
        }

        [Fact]
        public void OnlyTheFilesAttributesNameAreEncoded()
        {
            var w = _workspace;
            Assert.True(w.First.ExitCode == 0, w.First.Output);
            _log.WriteLine(string.Join("\n", w.FirstCopies.Keys));
            // model.safetensors, sub/model.safetensors, ../w1, ../w2 and ../shared_weights mlp.safetensors; not
            // checkpoints/unused.safetensors, which no attribute names.
            Assert.Equal(5, w.FirstCopies.Count);
            Assert.Equal(2, w.FirstCopies.Keys.Count(n => Regex.IsMatch(n, @"^model\.safetensors\.[0-9a-f]{8}\.genweights$")));
            Assert.Equal(3, w.FirstCopies.Keys.Count(n => Regex.IsMatch(n, @"^mlp\.safetensors\.[0-9a-f]{8}\.genweights$")));
            Assert.DoesNotContain(w.FirstCopies.Keys, n => n.Contains("unused", StringComparison.Ordinal));
            Assert.Empty(Directory.GetDirectories(w.EncodedDirectory));

            // Not encoded although the build step saw it: it is among the candidates it tells the generator about.
            string options = File.ReadAllText(Path.Combine(w.ProjectDirectory, "obj", "Release", "net10.0", "App.GeneratedMSBuildEditorConfig.editorconfig"));
            var candidates = Regex.Match(options, @"build_property\.GenWeightsCandidates = (.*)").Groups[1].Value.Trim().Split('|');
            Assert.Contains(Path.Combine(w.ProjectDirectory, "checkpoints", "unused.safetensors"), candidates);
            Assert.Contains("build_property.MSBuildProjectDirectory = " + w.ProjectDirectory, options, StringComparison.Ordinal);
        }

        /// <summary>
        /// Which files the step encodes, with only its target run (no compile, a second or two each): the string
        /// literal forms an attribute can use, a bare name found in a subfolder, an explicit &lt;GenWeights&gt; item
        /// nobody names (encoded), an attribute whose path is a constant (every candidate is encoded then), and a
        /// copy no longer needed (deleted).
        /// </summary>
        [Fact]
        public void TheStepFindsTheLiteralFormsOfTheAttribute()
        {
            string project = Path.Combine(_workspace.WorkDirectory, "Scan");
            foreach (var file in new[] { "verbatim/a", "named/b", "raw/c", "escaped/d", "unused/e", "deep/Data/f", "explicit/g" })
            {
                Directory.CreateDirectory(Path.Combine(project, Path.GetDirectoryName(file)!));
                File.WriteAllBytes(Path.Combine(project, file + ".safetensors"), new byte[] { 1, 2, 3, (byte)file[0] });
            }

            File.WriteAllText(Path.Combine(project, "Scan.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
                  <ItemGroup><GenWeights Include="explicit/g.safetensors" /></ItemGroup>
                  <Import Project="{Repository.Root}/src/Generators/build/Gen.targets" />
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "A.cs"), "using Gen;\n" +
                "[QuantizedModel(@\"verbatim\\a.safetensors\")] class A { }\n" +
                "[Gen.QuantizedModelAttribute( weightsFile : \"named/b.safetensors\", Calibration = \"b.calibration.txt\")] class B { }\n" +
                "[QuantizedModel(\"\"\"raw/c.safetensors\"\"\")] class C { }\n" +
                "[QuantizedModel(\"escaped\\\\d.safetensors\")] class D { }\n" +
                "[QuantizedModel(\"Data/f.safetensors\")] class F { }\n");
            string[] Encoded()
            {
                var run = Repository.Execute("dotnet", "msbuild -t:_GenEncodeWeights -p:Configuration=Release -nodeReuse:false -v:n", project, TimeSpan.FromMinutes(5));
                Assert.True(run.ExitCode == 0, run.Output);
                return Directory.GetFiles(Path.Combine(project, "obj", "Release", "net10.0", "gen-weights"))
                    .Select(f => Path.GetFileName(f).Split('.')[0]).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            }

            Assert.Equal(new[] { "a", "b", "c", "d", "f", "g" }, Encoded());

            File.WriteAllText(Path.Combine(project, "E.cs"), "using Gen;\nstatic class Paths { public const string E = \"unused/e.safetensors\"; }\n[QuantizedModel(Paths.E)] class E { }\n");
            Assert.Equal(new[] { "a", "b", "c", "d", "e", "f", "g" }, Encoded());

            File.Delete(Path.Combine(project, "E.cs"));
            Assert.Equal(new[] { "a", "b", "c", "d", "f", "g" }, Encoded());
        }

        [Fact]
        public void SameNamedFilesInDifferentFoldersEachBindTheirOwnWeights()
        {
            var w = _workspace;
            Assert.True(w.First.ExitCode == 0, w.First.Output);
            Assert.Equal(w.Expected("W1", Workspace.W1Seed), w.Line(w.FirstRun, "W1"));
            Assert.Equal(w.Expected("W2", Workspace.W2Seed), w.Line(w.FirstRun, "W2"));
            Assert.NotEqual(w.Line(w.FirstRun, "W1").Substring(3), w.Line(w.FirstRun, "W2").Substring(3));
        }

        [Fact]
        public void RelativePathsResolveFromTheProjectFolder()
        {
            var w = _workspace;
            Assert.True(w.First.ExitCode == 0, w.First.Output);
            // @"..\shared_weights\mlp.safetensors", outside the project and without a <GenWeights> item.
            Assert.Equal(w.Expected("Shared", Workspace.SharedSeed), w.Line(w.FirstRun, "Shared"));
            // "sub/../model.safetensors" is model.safetensors, not sub/model.safetensors.
            Assert.Equal(w.Expected("SubDotDot", Workspace.RootSeed), w.Line(w.FirstRun, "SubDotDot"));
            Assert.Equal(w.Expected("Sub", Workspace.SubSeed), w.Line(w.FirstRun, "Sub"));
        }

        [Fact]
        public void AmbiguousBareNameIsGen014AtTheAttribute()
        {
            var w = _workspace;
            Assert.True(w.First.ExitCode == 0, w.First.Output);
            var found = Regex.Matches(w.First.Output, @"Models\.cs\((\d+),(\d+)\): warning GEN014: ([^\[\r\n]*)");
            Assert.True(found.Count > 0, w.First.Output);
            var m = found[0];
            Assert.Equal(w.AmbiguousLine.ToString(CultureInfo.InvariantCulture), m.Groups[1].Value);
            Assert.Equal("2", m.Groups[2].Value); // the attribute, after '['
            Assert.Equal("The weights file 'mlp.safetensors' is ambiguous: it matches '../shared_weights/mlp.safetensors', " +
                "'../w1/mlp.safetensors', '../w2/mlp.safetensors'; give the path relative to the project folder, for example " +
                "'../shared_weights/mlp.safetensors'", m.Groups[3].Value.Trim());
            Assert.DoesNotContain("GEN002", w.First.Output, StringComparison.Ordinal);
        }

        /// <summary>The project, its two builds and their results, made once for all tests.</summary>
        public sealed class Workspace : IDisposable
        {
            public const int RootSeed = 1, SubSeed = 2, W1Seed = 3, W2Seed = 4, SharedSeed = 5, ReplacementSeed = 6;
            private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

            private static readonly sbyte[][] Inputs =
            {
                new sbyte[] { 0, 0, 0, 0, 0, 0, 0, 0 },
                new sbyte[] { 10, -20, 30, -40, 50, -60, 70, -80 },
                new sbyte[] { 127, -128, 64, -64, 32, -32, 16, -16 },
                new sbyte[] { -5, 17, -33, 99, -101, 3, 88, -77 },
            };

            /// <summary>Class name, the attribute's argument as written in C#, and the seed of the weights it must bind.</summary>
            private static readonly (string Name, string Argument)[] Models =
            {
                ("Root", "\"model.safetensors\""),
                ("Sub", "\"sub/model.safetensors\""),
                ("SubDotDot", "\"sub/../model.safetensors\""),
                ("W1", "\"../w1/mlp.safetensors\""),
                ("W2", "\"..\\\\w2\\\\mlp.safetensors\""),
                ("Shared", "@\"..\\shared_weights\\mlp.safetensors\""),
                ("Ambiguous", "\"mlp.safetensors\""),
            };

            private readonly Dictionary<int, ReferenceInterpreter> _references = new();

            public Workspace()
            {
                WorkDirectory = Path.Combine(Path.GetTempPath(), "gen-buildstep-" + Guid.NewGuid().ToString("N"));
                ProjectDirectory = Path.Combine(WorkDirectory, "App");
                EncodedDirectory = Path.Combine(ProjectDirectory, "obj", "Release", "net10.0", "gen-weights");
                Directory.CreateDirectory(ProjectDirectory);
                string repo = Repository.Root;
                File.WriteAllText(Path.Combine(ProjectDirectory, "App.csproj"), $"""
                    <Project Sdk="Microsoft.NET.Sdk">
                      <PropertyGroup>
                        <OutputType>Exe</OutputType>
                        <TargetFramework>net10.0</TargetFramework>
                        <ImplicitUsings>enable</ImplicitUsings>
                        <Nullable>enable</Nullable>
                      </PropertyGroup>
                      <ItemGroup>
                        <ProjectReference Include="{repo}/src/Attributes/Gen.Attributes.csproj" />
                        <ProjectReference Include="{repo}/src/Runtime/Gen.Runtime.csproj" />
                        <ProjectReference Include="{repo}/src/Generators/Gen.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                        <GenWeights Include="../w1/mlp.safetensors;../w2/mlp.safetensors" />
                      </ItemGroup>
                      <Import Project="{repo}/src/Generators/build/Gen.targets" />
                    </Project>
                    """);
                // GEN014 as a warning, so that one build shows it and still runs the other models (a global config:
                // the compiler applies a per-file .editorconfig severity to analyzers' diagnostics, not to generators').
                File.WriteAllText(Path.Combine(ProjectDirectory, ".globalconfig"), "is_global = true\ndotnet_diagnostic.GEN014.severity = warning\n");
                File.WriteAllText(Path.Combine(ProjectDirectory, "Models.cs"), ModelsSource(out int ambiguousLine));
                AmbiguousLine = ambiguousLine;
                File.WriteAllText(Path.Combine(ProjectDirectory, "Program.cs"), ProgramSource());

                Write("App/model.safetensors", RootSeed);
                Write("App/sub/model.safetensors", SubSeed);
                Write("w1/mlp.safetensors", W1Seed);
                Write("w2/mlp.safetensors", W2Seed);
                Write("shared_weights/mlp.safetensors", SharedSeed);
                // A checkpoint nobody uses (and not even a valid one): it must cost nothing.
                var unused = new byte[24 << 20];
                new Random(7).NextBytes(unused);
                Directory.CreateDirectory(Path.Combine(ProjectDirectory, "checkpoints"));
                File.WriteAllBytes(Path.Combine(ProjectDirectory, "checkpoints", "unused.safetensors"), unused);

                First = Build();
                FirstCopies = Copies();
                FirstRun = Run();

                // cp -p of a file made earlier: different weights, same size, an older last-write time.
                string replacement = Path.Combine(WorkDirectory, "replacement.safetensors");
                File.WriteAllBytes(replacement, Weights(ReplacementSeed));
                File.SetLastWriteTimeUtc(replacement, new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
                string target = Path.Combine(ProjectDirectory, "model.safetensors");
                File.Copy(replacement, target, overwrite: true);
                File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(replacement));

                Second = Build();
                SecondCopies = Copies();
                SecondRun = Run();
            }

            public string WorkDirectory { get; }

            public string ProjectDirectory { get; }

            public string EncodedDirectory { get; }

            public int AmbiguousLine { get; }

            public (int ExitCode, string Output) First { get; }

            public (int ExitCode, string Output) Second { get; }

            /// <summary>The encoded copies after each build: file name and last-write time.</summary>
            public IReadOnlyDictionary<string, DateTime> FirstCopies { get; }

            public IReadOnlyDictionary<string, DateTime> SecondCopies { get; }

            public string FirstRun { get; }

            public string SecondRun { get; }

            /// <summary>The header lines (up to the data) of an encoded copy.</summary>
            public string Header(string name)
            {
                using var reader = new StreamReader(Path.Combine(EncodedDirectory, name));
                var text = new StringBuilder();
                for (int i = 0; i < 4; i++) text.Append(reader.ReadLine()).Append('\n');
                return text.ToString();
            }

            /// <summary>The program's line for one model.</summary>
            public string Line(string output, string name) =>
                output.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').SingleOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"no line for {name} in:\n{output}");

            /// <summary>The line the reference interpreter computes for a model on the weights of <paramref name="seed"/>.</summary>
            public string Expected(string name, int seed)
            {
                var reference = _references[seed];
                var rows = Inputs.Select(row =>
                {
                    var output = new sbyte[3];
                    reference.Run(row, output);
                    return string.Join(" ", output);
                });
                return name + ": " + string.Join(" | ", rows);
            }

            public void Dispose()
            {
                try
                {
                    Directory.Delete(WorkDirectory, recursive: true);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }

            private (int ExitCode, string Output) Build() =>
                Repository.Execute("dotnet", "build -c Release -nodeReuse:false", ProjectDirectory, Timeout);

            private string Run()
            {
                var run = Repository.Execute("dotnet", Path.Combine("bin", "Release", "net10.0", "App.dll"), ProjectDirectory, Timeout);
                return run.ExitCode == 0 ? run.Output : "exit code " + run.ExitCode + ":\n" + run.Output;
            }

            private Dictionary<string, DateTime> Copies() =>
                Directory.Exists(EncodedDirectory)
                    ? Directory.GetFiles(EncodedDirectory, "*", SearchOption.AllDirectories).ToDictionary(
                        f => Path.GetRelativePath(EncodedDirectory, f), File.GetLastWriteTimeUtc, StringComparer.Ordinal)
                    : new Dictionary<string, DateTime>();

            private void Write(string relativePath, int seed)
            {
                string path = Path.Combine(WorkDirectory, relativePath);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, Weights(seed));
            }

            /// <summary>An 8-4-3 MLP with random float weights for <paramref name="seed"/>; keeps its reference interpreter.</summary>
            private byte[] Weights(int seed)
            {
                var rng = new Random(1000 + seed);
                float[] Uniform(int count, double range) => Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * range)).ToArray();
                float[] w1 = Uniform(4 * 8, 1), b1 = Uniform(4, 0.5), w2 = Uniform(3 * 4, 1), b2 = Uniform(3, 0.5);
                var input = new QuantizationParameters(0.015625f, 0);
                var hidden = new QuantizationParameters(0.03125f, -128);
                var output = new QuantizationParameters(0.03125f, 3);
                _references[seed] = new ReferenceInterpreter(8, input, new[]
                {
                    QuantizedDense.FromFloat("fc1", 8, 4, input, hidden, FusedActivation.Relu, w1, b1, perChannel: true),
                    QuantizedDense.FromFloat("fc2", 4, 3, hidden, output, FusedActivation.None, w2, b2, perChannel: true),
                });
                return new SafeTensorsWriter()
                    .F32("fc1.weight", w1, 4, 8).F32("fc1.bias", b1, 4)
                    .F32("fc2.weight", w2, 3, 4).F32("fc2.bias", b2, 3)
                    .ToBytes();
            }

            private static string ModelsSource(out int ambiguousLine)
            {
                var text = new StringBuilder("using Gen;\n\nnamespace App;\n");
                ambiguousLine = 0;
                foreach (var (name, argument) in Models)
                {
                    text.Append('\n');
                    if (name == "Ambiguous") ambiguousLine = text.ToString().Count(c => c == '\n') + 1;
                    text.Append(CultureInfo.InvariantCulture, $"""
                        [QuantizedModel({argument})]
                        [ModelInput(8, Scale = 0.015625f, ZeroPoint = 0)]
                        [Dense("fc1", 4, Activation = Activation.Relu, OutputScale = 0.03125f, OutputZeroPoint = -128)]
                        [Dense("fc2", 3, OutputScale = 0.03125f, OutputZeroPoint = 3)]
                        public static partial class {name} {"{ }"}

                        """);
                }

                return text.ToString();
            }

            private static string ProgramSource()
            {
                var text = new StringBuilder("using App;\n\nsbyte[][] inputs =\n{\n");
                foreach (var row in Inputs) text.AppendLine($"    new sbyte[] {{ {string.Join(", ", row)} }},");
                text.AppendLine("};");
                text.AppendLine("""
                    void Print(string name, Action<sbyte[], sbyte[]> run)
                    {
                        var rows = inputs.Select(row => { var output = new sbyte[3]; run(row, output); return string.Join(" ", output); });
                        Console.WriteLine(name + ": " + string.Join(" | ", rows));
                    }

                    """);
                foreach (var (name, _) in Models.Where(m => m.Name != "Ambiguous")) text.AppendLine($"Print(\"{name}\", (i, o) => {name}.Run(i, o));");
                return text.ToString();
            }
        }
    }
}
