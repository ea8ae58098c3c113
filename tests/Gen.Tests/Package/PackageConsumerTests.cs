using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Loader;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Gen.Runtime;
using Gen.Runtime.Interpreter;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Package
{
    /// <summary>
    /// What a user sees: the Gen.Quantized package is packed into a folder feed, a new console project outside the
    /// repository adds it with <c>dotnet add package</c> (no project reference), declares an 8-32-3 model on a weights
    /// file, builds and runs for net10.0, net9.0 and net8.0 (one project with three target frameworks; only the .NET 10
    /// runtime is installed, so the older builds roll forward to it) and publishes with NativeAOT for net10.0 and
    /// net9.0; the printed outputs must equal the reference interpreter's. The packaged generator is also run by the
    /// Roslyn 4.8 compiler API, the oldest compiler Gen supports.
    /// </summary>
    public sealed class PackageConsumerTests : IClassFixture<PackageConsumerTests.Consumer>
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
        private readonly Consumer _consumer;
        private readonly ITestOutputHelper _log;

        public PackageConsumerTests(Consumer consumer, ITestOutputHelper log)
        {
            _consumer = consumer;
            _log = log;
        }

        [Fact]
        public void PackageHasTheDocumentedLayoutAndMetadata()
        {
            using var zip = ZipFile.OpenRead(_consumer.PackagePath);
            var files = zip.Entries.Select(e => e.FullName).Where(n => !n.StartsWith("_rels/", StringComparison.Ordinal) &&
                !n.StartsWith("package/", StringComparison.Ordinal) && n != "[Content_Types].xml").OrderBy(n => n, StringComparer.Ordinal).ToArray();
            _log.WriteLine(string.Join("\n", files));
            Assert.Equal(new[]
            {
                "Gen.Quantized.nuspec",
                "LICENSE",
                "README.md",
                "analyzers/dotnet/cs/Gen.Generators.dll",
                "analyzers/dotnet/cs/Google.Protobuf.dll",
                "build/Gen.ModelPackages.targets",
                "build/Gen.Quantized.targets",
                "build/Gen.targets",
                "buildTransitive/Gen.ModelPackages.targets",
                "buildTransitive/Gen.Quantized.targets",
                "buildTransitive/Gen.targets",
                "docs/diagnostics.md",
                "lib/net8.0/Gen.Attributes.dll",
                "lib/net8.0/Gen.Attributes.xml",
                "lib/net8.0/Gen.Runtime.dll",
                "lib/net8.0/Gen.Runtime.xml",
            }, files);

            // The packed weights step is the repository's Gen.targets, byte for byte.
            string targets = File.ReadAllText(Path.Combine(Repository.Root, "src", "Generators", "build", "Gen.targets"));
            using (var reader = new StreamReader(zip.GetEntry("build/Gen.targets")!.Open())) Assert.Equal(targets, reader.ReadToEnd());

            XDocument nuspec;
            using (var stream = zip.GetEntry("Gen.Quantized.nuspec")!.Open()) nuspec = XDocument.Load(stream);
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            Assert.Equal("Gen.Quantized", Field("id"));
            Assert.Equal(_consumer.Version, Field("version"));
            // A pack without a release version gets a local version of its own (see LocalPacksGetAVersionOfTheirOwn).
            Assert.Matches(@"^0\.1\.0-local\.\d{14}$", _consumer.Version);
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Contains("source generator", Field("description"), StringComparison.OrdinalIgnoreCase);
            // No NuGet dependencies: the generator's Roslyn reference is build-time only.
            Assert.DoesNotContain(metadata.Descendants(), e => e.Name.LocalName == "dependency");
        }

        /// <summary>
        /// A local pack is versioned 0.1.0-local.&lt;UTC time&gt; (the fixture's package is one), so NuGet's cache never
        /// hands out an older build under the same version; a version passed on the command line is the release's.
        /// </summary>
        [Fact]
        public void LocalPacksGetAVersionOfTheirOwn()
        {
            var evaluate = Repository.Execute("dotnet",
                "msbuild src/Package/Gen.Package.csproj -getProperty:PackageVersion -getProperty:Version -p:Version=0.2.0",
                Repository.Root, Timeout);
            Assert.True(evaluate.ExitCode == 0, evaluate.Output);
            Assert.Matches(new Regex(@"""PackageVersion"":\s*""0\.2\.0"""), evaluate.Output);
            Assert.Matches(new Regex(@"""Version"":\s*""0\.2\.0"""), evaluate.Output);

            // The fixture packed without a version: a local one, made of the repository's version and the time.
            evaluate = Repository.Execute("dotnet", "msbuild src/Package/Gen.Package.csproj -getProperty:Version", Repository.Root, Timeout);
            Assert.True(evaluate.ExitCode == 0, evaluate.Output);
            Assert.StartsWith(evaluate.Output.Trim() + "-local.", _consumer.Version, StringComparison.Ordinal);
            var stamp = DateTime.ParseExact(_consumer.Version.Substring(_consumer.Version.LastIndexOf('.') + 1), "yyyyMMddHHmmss",
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            Assert.InRange(stamp, _consumer.Created.AddMinutes(-1), DateTime.UtcNow);
        }

        /// <summary>
        /// Every target framework Gen supports builds from the package and computes the reference outputs. net8.0 has
        /// no AVX-VNNI path (AvxVnni is a preview API there: using it is error CA2252), net9.0 and net10.0 have it.
        /// </summary>
        [Theory]
        [InlineData("net10.0")]
        [InlineData("net9.0")]
        [InlineData("net8.0")]
        public void FreshProjectBuildsAndRunsWithThePackage(string framework)
        {
            Assert.True(_consumer.Build.ExitCode == 0, _consumer.Build.Output);
            // The weights step wrote its encoded copy under obj/, not into the project folder.
            Assert.True(File.Exists(_consumer.EncodedWeights(framework)), _consumer.EncodedWeights(framework));
            Assert.False(Directory.Exists(Path.Combine(_consumer.ProjectDirectory, "gen-weights")));

            var run = Repository.Execute("dotnet", $"run -c Release -f {framework} --no-build", _consumer.ProjectDirectory, Timeout, _consumer.Environment);
            Assert.True(run.ExitCode == 0, run.Output);
            _log.WriteLine(run.Output);
            var (outputs, kernels) = Split(run.Output);
            Assert.Equal(_consumer.ExpectedOutput, outputs);
            Assert.Equal(Consumer.BestPath(vnni: framework != "net8.0"), kernels);
        }

        /// <summary>
        /// A [BertEncoder] over an ONNX file (as a model package carries it) with its calibration file, in a project that only
        /// references the package: the generator reads the ONNX file itself, and the encoder prints the reference
        /// interpreter's embedding. (The package also carries the model-package step, Gen.ModelPackages.targets; its own
        /// test is ModelPackagesBuildStepTests.)
        /// </summary>
        [Fact]
        public void FreshProjectGeneratesABertEncoderFromAnOnnxFile()
        {
            Assert.True(_consumer.Build.ExitCode == 0, _consumer.Build.Output);
            var run = Repository.Execute("dotnet", "run -c Release -f net10.0 --no-build -- bert", _consumer.ProjectDirectory, Timeout, _consumer.Environment);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal(_consumer.ExpectedBert, run.Output.Trim());
        }

        /// <summary>
        /// NativeAOT with the instruction set named once, in the package's own property: GenInstructionSet x86-64-v4
        /// reaches ILC as x86-64-v4 for net10.0 and as x86-x64-v4 for net9.0 (each ILC rejects the other spelling), and
        /// the native binary runs the same kernels as the JIT (without the instruction set it would fall back to the
        /// baseline's). On .NET 9 the two-panel AVX-VNNI kernel is replaced by one-panel ones at run time.
        /// </summary>
        [Theory]
        [InlineData("net10.0", "x86-64-v4")]
        [InlineData("net9.0", "x86-x64-v4")]
        public void FreshProjectPublishesWithNativeAot(string framework, string ilcInstructionSet)
        {
            Assert.True(_consumer.Build.ExitCode == 0, _consumer.Build.Output);
            string publish = Path.Combine(_consumer.WorkDirectory, "aot-" + framework);
            var build = Repository.Execute("dotnet", $"publish -c Release -f {framework} -r linux-x64 -o \"{publish}\"", _consumer.ProjectDirectory, Timeout, _consumer.Environment);
            Assert.True(build.ExitCode == 0, build.Output);
            Assert.Contains("Generating native code", build.Output);
            Assert.DoesNotMatch(new Regex(@"warning IL[23]\d{3}"), build.Output);
            string rsp = File.ReadAllText(Path.Combine(_consumer.ProjectDirectory, "obj", "Release", framework, "linux-x64", "native", "Consumer.ilc.rsp"));
            Assert.Contains("--instruction-set:" + ilcInstructionSet + "\n", rsp.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);

            string binary = Path.Combine(publish, "Consumer");
            _log.WriteLine($"NativeAOT binary ({framework}): {new FileInfo(binary).Length:N0} bytes");
            var run = Repository.Execute(binary, "", publish, Timeout);
            Assert.True(run.ExitCode == 0, run.Output);
            var (outputs, kernels) = Split(run.Output);
            Assert.Equal(_consumer.ExpectedOutput, outputs);
            Assert.Equal(Consumer.BestPath(vnni: true), kernels);
        }

        /// <summary>
        /// The packaged generator, loaded from the .nupkg the way a compiler loads an analyzer (its own load context,
        /// Microsoft.CodeAnalysis shared with the host), run by Roslyn 4.8.0 (the .NET 8 SDK's compiler) over the
        /// consumer's source and the weights file the package's MSBuild step encoded; the result must compile as C# 12
        /// and compute the reference outputs.
        /// </summary>
        [Fact]
        public void PackagedGeneratorRunsInRoslyn48()
        {
            Assert.True(_consumer.Build.ExitCode == 0, _consumer.Build.Output);
            Assert.Equal(new Version(4, 8, 0, 0), typeof(CSharpCompilation).Assembly.GetName().Version);

            string extracted = Path.Combine(_consumer.WorkDirectory, "extracted");
            if (!Directory.Exists(extracted)) ZipFile.ExtractToDirectory(_consumer.PackagePath, extracted);
            var loader = new IsolatedAnalyzerLoader();
            var reference = new AnalyzerFileReference(Path.Combine(extracted, "analyzers", "dotnet", "cs", "Gen.Generators.dll"), loader);
            var failures = new List<string>();
            reference.AnalyzerLoadFailed += (_, e) => failures.Add(e.Message);
            var generators = reference.GetGenerators(LanguageNames.CSharp);
            Assert.Empty(failures);
            Assert.Single(generators);
            var loaded = Assert.Single(loader.Loaded);
            Assert.StartsWith(extracted, loaded.Location, StringComparison.Ordinal);
            var roslyn = loaded.GetReferencedAssemblies().Single(a => a.Name == "Microsoft.CodeAnalysis");
            Assert.True(roslyn.Version! <= new Version(4, 8, 0, 0), $"the packaged generator needs Roslyn {roslyn.Version}");

            var parse = new CSharpParseOptions(LanguageVersion.CSharp12);
            string harness = "public static class Harness { public static sbyte[] Run(sbyte[] input) { var output = new sbyte[Tiny.OutputSize]; Tiny.Run(input, output); return output; } }";
            var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
                .Where(p => p.Length > 0 && !Path.GetFileName(p).StartsWith("Gen.", StringComparison.Ordinal))
                .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
                .Append(MetadataReference.CreateFromFile(Path.Combine(extracted, "lib", "net8.0", "Gen.Attributes.dll")));
            var compilation = CSharpCompilation.Create("Roslyn48Consumer",
                new[]
                {
                    CSharpSyntaxTree.ParseText(File.ReadAllText(Path.Combine(_consumer.ProjectDirectory, "Model.cs")), parse, "Model.cs"),
                    CSharpSyntaxTree.ParseText(harness, parse, "Harness.cs"),
                },
                references,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                    nullableContextOptions: NullableContextOptions.Enable));
            string encoded = _consumer.EncodedWeights();
            var driver = CSharpGeneratorDriver.Create(generators, new AdditionalText[] { new InMemoryText(encoded, File.ReadAllText(encoded)) }, parse);
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
            Assert.Empty(generatorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
            Assert.Contains(generatorDiagnostics, d => d.Id == "GEN100");
            Assert.Equal(2, output.SyntaxTrees.Count() - compilation.SyntaxTrees.Count());

            using var image = new MemoryStream();
            var emit = output.Emit(image);
            Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
            image.Position = 0;
            var context = new AssemblyLoadContext("gen-roslyn48-consumer", isCollectible: true);
            try
            {
                var run = context.LoadFromStream(image).GetType("Harness")!.GetMethod("Run")!;
                var lines = Consumer.Inputs.Select((row, r) => $"{r}: {string.Join(" ", (sbyte[])run.Invoke(null, new object[] { row })!)}");
                Assert.Equal(_consumer.ExpectedRows, string.Join("\n", lines));
            }
            finally
            {
                context.Unload();
            }
        }

        /// <summary>
        /// The packaged generator reads ONNX files with Google.Protobuf, which ships beside it in analyzers/dotnet/cs: loaded
        /// in a context that resolves dependencies from that folder only (as the compiler's analyzer loader does), its
        /// ONNX reader runs, and the Google.Protobuf it ran with is the packaged one. Without the DLL in the package the
        /// read would fail (the reader reports the missing assembly as an error).
        /// </summary>
        [Fact]
        public void PackagedGeneratorLoadsItsProtobufDependencyFromTheAnalyzerFolder()
        {
            string extracted = Path.Combine(_consumer.WorkDirectory, "extracted-protobuf");
            if (!Directory.Exists(extracted)) ZipFile.ExtractToDirectory(_consumer.PackagePath, extracted);
            string folder = Path.Combine(extracted, "analyzers", "dotnet", "cs");
            var context = new AnalyzerFolderContext(folder);
            try
            {
                var generator = context.LoadFromAssemblyPath(Path.Combine(folder, "Gen.Generators.dll"));
                var read = generator.GetType("Gen.Import.OnnxModel", throwOnError: true)!.GetMethod("Read")!;
                object result = read.Invoke(null, new object[] { new Gen.Tests.Import.TinyBert().Onnx() })!;
                Assert.True((bool)result.GetType().GetProperty("Succeeded")!.GetValue(result)!, (string?)result.GetType().GetProperty("Error")!.GetValue(result));
                var protobuf = context.Assemblies.Single(a => a.GetName().Name == "Google.Protobuf");
                Assert.StartsWith(folder, protobuf.Location, StringComparison.Ordinal);
            }
            finally
            {
                context.Unload();
            }
        }

        /// <summary>Resolves an analyzer's dependencies from its folder, the rest (the framework) from the host.</summary>
        private sealed class AnalyzerFolderContext : AssemblyLoadContext
        {
            private readonly string _folder;

            public AnalyzerFolderContext(string folder)
                : base("gen-analyzer-folder-" + Guid.NewGuid().ToString("N"), isCollectible: true) => _folder = folder;

            protected override Assembly? Load(AssemblyName name)
            {
                string path = Path.Combine(_folder, name.Name + ".dll");
                return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
            }
        }

        private static string Normalize(string output) => output.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();

        /// <summary>The program's outputs, and the kernel path it printed last.</summary>
        private static (string Outputs, string Kernels) Split(string output)
        {
            string text = Normalize(output);
            int last = text.LastIndexOf('\n');
            Assert.True(last > 0 && text.Substring(last + 1).StartsWith("kernels: ", StringComparison.Ordinal), text);
            return (text.Substring(0, last), text.Substring(last + 1 + "kernels: ".Length));
        }

        /// <summary>Loads analyzers into a context of their own, as the compiler does, so that the test's own copy of
        /// Gen.Generators is not the one used.</summary>
        private sealed class IsolatedAnalyzerLoader : IAnalyzerAssemblyLoader
        {
            private readonly AssemblyLoadContext _context = new("gen-package-analyzer-" + Guid.NewGuid().ToString("N"));

            public List<Assembly> Loaded { get; } = new();

            public void AddDependencyLocation(string fullPath)
            {
            }

            public Assembly LoadFromPath(string fullPath)
            {
                var assembly = _context.LoadFromAssemblyPath(fullPath);
                if (!Loaded.Contains(assembly)) Loaded.Add(assembly);
                return assembly;
            }
        }

        /// <summary>
        /// Packs the package (in a build folder of its own, so that concurrent builds of the repository are not
        /// disturbed), writes the consumer project into a temporary folder and builds it once for all tests.
        /// </summary>
        public sealed class Consumer : IDisposable
        {
            internal static readonly sbyte[][] Inputs =
            {
                new sbyte[] { 0, 0, 0, 0, 0, 0, 0, 0 },
                new sbyte[] { 10, -20, 30, -40, 50, -60, 70, -80 },
                new sbyte[] { 127, 127, 127, 127, 127, 127, 127, 127 },
                new sbyte[] { -128, -128, -128, -128, -128, -128, -128, -128 },
                new sbyte[] { 127, -128, 64, -64, 32, -32, 16, -16 },
                new sbyte[] { -5, 17, -33, 99, -101, 3, 88, -77 },
            };

            /// <summary>32 hidden channels: two panels of 16, so that 4-row blocks take the two-panel kernels.</summary>
            private const int Hidden = 32;

            private const string ModelSource = """
                using Gen;

                [QuantizedModel("Data/tiny.safetensors")]
                [ModelInput(8, Scale = 0.015625f, ZeroPoint = 0)]
                [Dense("fc1", 32, Activation = Activation.Relu, OutputScale = 0.03125f, OutputZeroPoint = -128)]
                [Dense("fc2", 3, OutputScale = 0.03125f, OutputZeroPoint = 3)]
                public static partial class Tiny { }
                """;

            // The README's recipe, for three target frameworks at once. RollForward: only the .NET 10 runtime is
            // installed here. PublishAot only where it is published (a net8.0 one would restore the .NET 8 NativeAOT
            // packs for nothing).
            private const string ProjectFile = """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFrameworks>net10.0;net9.0;net8.0</TargetFrameworks>
                    <RollForward>Major</RollForward>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <InvariantGlobalization>true</InvariantGlobalization>
                    <PublishAot Condition="'$(TargetFramework)' != 'net8.0'">true</PublishAot>
                    <GenInstructionSet>x86-64-v4</GenInstructionSet>
                  </PropertyGroup>
                </Project>
                """;

            public Consumer()
            {
                WorkDirectory = Path.Combine(Path.GetTempPath(), "gen-package-" + Guid.NewGuid().ToString("N"));
                ProjectDirectory = Path.Combine(WorkDirectory, "Consumer");
                string feed = Path.Combine(WorkDirectory, "feed");
                Directory.CreateDirectory(Path.Combine(ProjectDirectory, "Data"));

                // Packed as a user would, without a version: a local pack is versioned by itself, so that NuGet's
                // cache never stands in an older build for this one. The version is read from what was packed.
                Created = DateTime.UtcNow;
                var pack = Repository.Execute("dotnet",
                    $"pack src/Package/Gen.Package.csproj -c Release -o \"{feed}\" " +
                    $"-p:UseArtifactsOutput=true -p:ArtifactsPath=\"{Path.Combine(WorkDirectory, "artifacts")}\"",
                    Repository.Root, Timeout);
                if (pack.ExitCode != 0) throw new InvalidOperationException("dotnet pack failed:\n" + pack.Output);
                PackagePath = Directory.GetFiles(feed, "Gen.Quantized.*.nupkg").Single();
                Version = Path.GetFileNameWithoutExtension(PackagePath).Substring("Gen.Quantized.".Length);

                // The user's machine: nuget.org plus the folder feed; a private package cache that falls back on this
                // machine's cache for everything else (the NativeAOT compiler packs are large).
                string machineCache = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
                    ? configured
                    : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
                File.WriteAllText(Path.Combine(WorkDirectory, "nuget.config"), $"""
                    <?xml version="1.0" encoding="utf-8"?>
                    <configuration>
                      <packageSources>
                        <clear />
                        <add key="gen-local" value="{feed}" />
                        <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
                      </packageSources>
                      <fallbackPackageFolders>
                        <clear />
                        <add key="machine" value="{machineCache}" />
                      </fallbackPackageFolders>
                    </configuration>
                    """);
                Environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(WorkDirectory, "packages") };

                File.WriteAllText(Path.Combine(ProjectDirectory, "Consumer.csproj"), ProjectFile);
                File.WriteAllText(Path.Combine(ProjectDirectory, "Model.cs"), ModelSource);
                File.WriteAllText(Path.Combine(ProjectDirectory, "Program.cs"), ProgramSource());
                var (weights, reference) = TinyModel();
                File.WriteAllBytes(Path.Combine(ProjectDirectory, "Data", "tiny.safetensors"), weights);
                ExpectedBert = WriteBert(ProjectDirectory);

                var add = Repository.Execute("dotnet", $"add package Gen.Quantized --version {Version}", ProjectDirectory, Timeout, Environment);
                if (add.ExitCode != 0) throw new InvalidOperationException("dotnet add package failed:\n" + add.Output);
                string project = File.ReadAllText(Path.Combine(ProjectDirectory, "Consumer.csproj"));
                if (!project.Contains("Include=\"Gen.Quantized\"", StringComparison.Ordinal) || project.Contains("ProjectReference", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("unexpected project file after dotnet add package:\n" + project);
                }

                Build = Repository.Execute("dotnet", "build -c Release", ProjectDirectory, Timeout, Environment);

                var rows = new List<string>();
                foreach (var (row, r) in Inputs.Select((row, r) => (row, r)))
                {
                    var output = new sbyte[3];
                    reference.Run(row, output);
                    rows.Add($"{r}: {string.Join(" ", output)}");
                }

                ExpectedRows = string.Join("\n", rows);
                if (rows.Select(r => r.Substring(r.IndexOf(' ') + 1)).Distinct().Count() < 4) throw new InvalidOperationException("degenerate test model:\n" + ExpectedRows);
                ExpectedOutput = "Tiny 8 -> 3\n" + ExpectedRows + "\nbatch: " + string.Join(" | ", rows.Select(l => l.Substring(l.IndexOf(' ') + 1)));
            }

            public string WorkDirectory { get; }

            public string ProjectDirectory { get; }

            public string PackagePath { get; }

            /// <summary>The copy of the weights file that the package's MSBuild step encoded for the generator.</summary>
            public string EncodedWeights(string framework = "net10.0") =>
                Directory.GetFiles(Path.Combine(ProjectDirectory, "obj", "Release", framework, "gen-weights"), "tiny.safetensors.*.genweights", SearchOption.AllDirectories).Single();

            public string Version { get; }

            /// <summary>When the package was packed (UTC).</summary>
            public DateTime Created { get; }

            public IReadOnlyDictionary<string, string?> Environment { get; }

            public (int ExitCode, string Output) Build { get; }

            public string ExpectedRows { get; }

            public string ExpectedOutput { get; }

            /// <summary>What the consumer's BERT encoder prints for <see cref="BertIds"/>, from the reference interpreter.</summary>
            public string ExpectedBert { get; }

            internal static readonly int[] BertIds = { 1, 5, 7, 2 };

            // A tiny BERT as an ONNX export (what a model package carries) with its calibration, declared with [BertEncoder].
            private static string WriteBert(string project)
            {
                var tiny = new Gen.Tests.Import.TinyBert(layers: 1, width: 16, heads: 2, feedForward: 24, vocabulary: 20, positions: 8, pooler: false);
                byte[] onnx = tiny.Onnx();
                File.WriteAllBytes(Path.Combine(project, "Data", "tinybert.onnx"), onnx);
                var checkpoint = Gen.Import.BertCheckpoint.FromOnnx(onnx).Value!;
                var floats = Gen.Runtime.Interpreter.FloatModel.Bert(checkpoint.ToSafeTensors(), checkpoint.Shape(8, Gen.Runtime.Graph.BertPooling.Mean).Value!);
                var statistics = new Gen.Runtime.Calibration.ActivationStatistics(floats);
                statistics.AddSequences(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0 }, new[] { 8, 4 });
                var calibration = Gen.Runtime.Calibration.ActivationCalibration.Calibrate(statistics, new Gen.Runtime.Calibration.MaxCalibrator());
                File.WriteAllText(Path.Combine(project, "Data", "tinybert.calibration.txt"), calibration.ToText());
                File.WriteAllText(Path.Combine(project, "Encoder.cs"), """
                    using Gen;

                    [QuantizedModel("Data/tinybert.onnx", Calibration = "Data/tinybert.calibration.txt")]
                    [BertEncoder(8)]
                    public static partial class Encoder { }
                    """);
                var reference = new Gen.Runtime.Interpreter.ReferenceInterpreter(calibration.Quantize(floats));
                var padded = new int[8];
                BertIds.CopyTo(padded, 0);
                var embedding = new sbyte[reference.OutputSize];
                reference.Run(padded, new[] { BertIds.Length }, embedding);
                return "bert: " + string.Join(" ", embedding);
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

            /// <summary>The kernel path the generated code picks on this machine under the JIT.</summary>
            internal static string BestPath(bool vnni) =>
                vnni && AvxVnni.IsSupported ? (Avx512BW.IsSupported ? "Avx512Vnni" : "AvxVnni")
                : Avx512BW.IsSupported ? "Avx512" : Avx2.IsSupported ? "Avx2" : Vector128.IsHardwareAccelerated ? "Vector128" : "Scalar";

            /// <summary>The consumer's program: every input row through Run, then all rows at once through the batch
            /// Run (a block of 4 rows and 2 single rows), then the kernel path.</summary>
            private static string ProgramSource()
            {
                var text = new StringBuilder();
                text.AppendLine("if (args.Length > 0 && args[0] == \"bert\")");
                text.AppendLine("{");
                text.AppendLine("    var embedding = new sbyte[Encoder.OutputSize];");
                text.AppendLine($"    Encoder.Run(new[] {{ {string.Join(", ", BertIds)} }}, embedding);");
                text.AppendLine("    Console.WriteLine(\"bert: \" + string.Join(\" \", embedding));");
                text.AppendLine("    return;");
                text.AppendLine("}");
                text.AppendLine();
                text.AppendLine("sbyte[][] inputs =");
                text.AppendLine("{");
                foreach (var row in Inputs) text.AppendLine($"    new sbyte[] {{ {string.Join(", ", row)} }},");
                text.AppendLine("};");
                text.AppendLine("""
                    Console.WriteLine($"Tiny {Tiny.InputSize} -> {Tiny.OutputSize}");
                    var output = new sbyte[Tiny.OutputSize];
                    for (int r = 0; r < inputs.Length; r++)
                    {
                        Tiny.Run(inputs[r], output);
                        Console.WriteLine($"{r}: {string.Join(" ", output)}");
                    }

                    var batchIn = inputs.SelectMany(row => row).ToArray();
                    var batchOut = new sbyte[inputs.Length * Tiny.OutputSize];
                    Tiny.Run(batchIn, batchOut, inputs.Length);
                    Console.WriteLine("batch: " + string.Join(" | ", batchOut.Chunk(Tiny.OutputSize).Select(o => string.Join(" ", o))));
                    Console.WriteLine($"kernels: {Tiny.ActivePath}");
                    """);
                return text.ToString();
            }

            /// <summary>An 8-32-3 MLP with fixed random float weights, and its reference interpreter.</summary>
            private static (byte[] Weights, ReferenceInterpreter Reference) TinyModel()
            {
                var rng = new Random(20260);
                float[] Uniform(int count, double range) => Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * range)).ToArray();
                float[] w1 = Uniform(Hidden * 8, 1), b1 = Uniform(Hidden, 0.5), w2 = Uniform(3 * Hidden, 0.4), b2 = Uniform(3, 0.5);
                byte[] bytes = new SafeTensorsWriter()
                    .F32("fc1.weight", w1, Hidden, 8).F32("fc1.bias", b1, Hidden)
                    .F32("fc2.weight", w2, 3, Hidden).F32("fc2.bias", b2, 3)
                    .ToBytes();
                var input = new QuantizationParameters(0.015625f, 0);
                var hidden = new QuantizationParameters(0.03125f, -128);
                var output = new QuantizationParameters(0.03125f, 3);
                var layers = new[]
                {
                    QuantizedDense.FromFloat("fc1", 8, Hidden, input, hidden, FusedActivation.Relu, w1, b1, perChannel: true),
                    QuantizedDense.FromFloat("fc2", Hidden, 3, hidden, output, FusedActivation.None, w2, b2, perChannel: true),
                };
                return (bytes, new ReferenceInterpreter(8, input, layers));
            }
        }
    }
}
