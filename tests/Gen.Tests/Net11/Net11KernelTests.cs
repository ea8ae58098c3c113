using System;
using System.IO;
using System.Text;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Net11
{
    /// <summary>
    /// The kernels on .NET 11, bit for bit: random dense models of odd shapes and every route, built as one self-contained
    /// net11.0 program (JIT) whose generator sees .NET 11's <c>AvxVnni.V512</c> and so emits the zmm VNNI kernels; the
    /// program runs every x86 path (AvxVnni512 included) on several row counts and compares each output with the
    /// reference interpreter's, computed here. The test host is .NET 10; the .NET 10 SDK builds the net11.0 program
    /// through tests/Net11/Net11.props, the repository's one copy of that workaround.
    /// </summary>
    public class Net11KernelTests
    {
        /// <summary>The x86 paths of a .NET 11 build, best first.</summary>
        internal static readonly string[] Net11Paths = { "AvxVnni512", "Avx512Vnni", "AvxVnni", "Avx512", "Avx2", "Vector128", "Scalar" };

        // The shapes of the ARM64 test plus wider layers: 65, 130 and 200 outputs give four-panel blocks and single-panel
        // tails; sizes, pre-quantized, largest |w| (Pair 64, Quad 32, Wide 127).
        private static readonly (int[] Sizes, bool PreQuantized, int MaxWeight)[] Models =
        {
            (new[] { 1, 1 }, false, 127),
            (new[] { 3, 17 }, false, 127),
            (new[] { 784, 17, 10 }, false, 127),
            (new[] { 64, 33, 47, 5 }, false, 127),
            (new[] { 15, 16, 31, 32, 65 }, false, 127),
            (new[] { 100, 40, 9 }, true, 127),
            (new[] { 40, 33, 7 }, true, 64),
            (new[] { 17, 48, 5 }, true, 32),
            (new[] { 70, 19, 3 }, true, 32),
            (new[] { 130, 200, 70 }, true, 64),
            (new[] { 257, 130, 64 }, true, 32),
            (new[] { 96, 129, 65 }, false, 127),
        };

        private const int Rows = 40;

        private static readonly int[] Counts = { 1, 3, 4, 5, 9, Rows };

        [Fact]
        public void EveryX86PathOnDotNet11EqualsTheInterpreter()
        {
            string dir = Path.Combine(Path.GetTempPath(), "gen-net11-" + Guid.NewGuid().ToString("N"));
            try
            {
                string project = WriteProject(dir, Net11Paths, nativeAot: false);
                var (code, build) = Repository.Execute("dotnet", "build -c Release -v q -nologo", project, TimeSpan.FromMinutes(5));
                Assert.True(code == 0, build);
                var (exit, output) = Repository.Execute(Path.Combine(project, "bin", "Release", "net11.0", "linux-x64", "KernelDiff"), "", project, TimeSpan.FromMinutes(2));
                Assert.True(exit == 0, output);
                int checks = Models.Length * (Net11Paths.Length * Counts.Length + 1);
                Assert.Contains($"{checks} of {checks} checks equal the interpreter", output, StringComparison.Ordinal);
                Assert.Contains("runtime 11.", output, StringComparison.Ordinal);
                // SelectPath takes the zmm kernels exactly where the CPU has them (this machine's Zen 5 does).
                bool zmm = output.Contains("AvxVnni.V512 True;", StringComparison.Ordinal);
                Assert.Equal(zmm, output.Replace("\r", "").Contains("active path AvxVnni512\n", StringComparison.Ordinal));
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>
        /// .NET 10 NativeAOT (ILCompiler 10.0.12, x86-64-v4), every x86 path it has: among them the 4-row two-panel
        /// AVX-VNNI kernel, which .NET 9's code generator miscompiled (NativeAOT 9.0.20), on paths AvxVnni and Avx512Vnni.
        /// A net10.0 build emits that kernel with no run-time version check; this is the proof that it may.
        /// </summary>
        [Fact]
        public void EveryX86PathUnderDotNet10NativeAotEqualsTheInterpreter()
        {
            string dir = Path.Combine(Path.GetTempPath(), "gen-aot10-" + Guid.NewGuid().ToString("N"));
            string[] paths = Net11Paths[1..];
            try
            {
                string project = WriteProject(dir, paths, nativeAot: true);
                string publish = Path.Combine(dir, "out");
                var (code, build) = Repository.Execute("dotnet", $"publish -c Release -r linux-x64 -v q -nologo -o \"{publish}\"", project, TimeSpan.FromMinutes(5));
                Assert.True(code == 0, build);
                Assert.DoesNotContain("VnniWideBlocks", File.ReadAllText(Path.Combine(project, "obj", "Release", "net10.0", "linux-x64", "generated", "Gen.Generators", "Gen.Generators.ModelGenerator", "Aot.M4.Model.g.cs")), StringComparison.Ordinal);
                var (exit, output) = Repository.Execute(Path.Combine(publish, "KernelDiff"), "", publish, TimeSpan.FromMinutes(2));
                Assert.True(exit == 0, output);
                int checks = Models.Length * (paths.Length * Counts.Length + 1);
                Assert.Contains($"{checks} of {checks} checks equal the interpreter", output, StringComparison.Ordinal);
                Assert.Contains("runtime 10.", output, StringComparison.Ordinal);
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>
        /// Writes the random models, their inputs and the interpreter's outputs, and a program that compares on
        /// <paramref name="paths"/>: a net11.0 JIT project, or a net10.0 NativeAOT one.
        /// </summary>
        private static string WriteProject(string dir, string[] paths, bool nativeAot)
        {
            string ns = nativeAot ? "Aot" : "Net11";
            Directory.CreateDirectory(Path.Combine(dir, "weights"));
            Directory.CreateDirectory(Path.Combine(dir, "data"));
            var program = new StringBuilder();
            program.AppendLine("using System;");
            program.AppendLine("using System.IO;");
            program.AppendLine("using System.Runtime.Intrinsics.X86;");
            program.AppendLine("// Generated by Net11KernelTests: each model's RunRows on every x86 path against the interpreter's outputs.");
            program.AppendLine("int checks = 0, equal = 0;");
            program.AppendLine("string data = Path.Combine(AppContext.BaseDirectory, \"data\");");
            program.AppendLine(nativeAot
                ? "Console.WriteLine($\"runtime {Environment.Version}; Avx512BW {Avx512BW.IsSupported} AvxVnni {AvxVnni.IsSupported}\");"
                : "Console.WriteLine($\"runtime {Environment.Version}; AvxVnni.V512 {AvxVnni.V512.IsSupported}; Avx512BW {Avx512BW.IsSupported} AvxVnni {AvxVnni.IsSupported}\");");
            program.AppendLine($"Console.WriteLine(\"active path \" + {ns}.M0.Model.ActivePath);");
            program.AppendLine("int[] counts = { " + string.Join(", ", Counts) + " };");
            var rng = new Random(1511);
            for (int i = 0; i < Models.Length; i++)
            {
                var (sizes, pre, maxWeight) = Models[i];
                var model = RandomModel.Create(rng, sizes, pre, maxWeight);
                File.WriteAllText(Path.Combine(dir, $"M{i}.cs"), model.Source
                    .Replace("namespace DiffTest;", $"namespace {ns}.M{i};")
                    .Replace("weights/model.safetensors", $"weights/m{i}.safetensors"));
                File.WriteAllBytes(Path.Combine(dir, "weights", $"m{i}.safetensors"), model.Weights);
                var inputs = new sbyte[Rows * model.InputSize];
                for (int j = 0; j < inputs.Length; j++) inputs[j] = (sbyte)(j % 97 < 5 ? (rng.Next(2) == 0 ? -128 : 127) : rng.Next(-128, 128));
                var expected = new sbyte[Rows * model.OutputSize];
                model.Reference.Run(inputs, expected);
                File.WriteAllBytes(Path.Combine(dir, "data", $"m{i}.in"), (byte[])(Array)inputs);
                File.WriteAllBytes(Path.Combine(dir, "data", $"m{i}.out"), (byte[])(Array)expected);
                string m = $"{ns}.M{i}.Model";
                program.AppendLine("{");
                program.AppendLine($"    // {model.Description}");
                program.AppendLine($"    sbyte[] x = (sbyte[])(Array)File.ReadAllBytes(Path.Combine(data, \"m{i}.in\"));");
                program.AppendLine($"    sbyte[] e = (sbyte[])(Array)File.ReadAllBytes(Path.Combine(data, \"m{i}.out\"));");
                program.AppendLine($"    foreach (var path in new[] {{ {string.Join(", ", Array.ConvertAll(paths, p => m + ".KernelPath." + p))} }})");
                program.AppendLine("    {");
                program.AppendLine("        foreach (int count in counts)");
                program.AppendLine("        {");
                program.AppendLine($"            var y = new sbyte[count * {m}.OutputSize];");
                program.AppendLine($"            {m}.RunRows(x.AsSpan(0, count * {m}.InputSize), y, count, (int)path);");
                program.AppendLine("            checks++;");
                program.AppendLine("            if (e.AsSpan(0, y.Length).SequenceEqual(y)) equal++;");
                program.AppendLine($"            else Console.WriteLine($\"model {i} ({model.Description}), path {{path}}, {{count}} rows differ from the interpreter\");");
                program.AppendLine("        }");
                program.AppendLine("    }");
                program.AppendLine("    {");
                program.AppendLine("        // The public entry point, on the active path.");
                program.AppendLine("        var y = new sbyte[e.Length];");
                program.AppendLine($"        {m}.Run(x, y, {Rows});");
                program.AppendLine("        checks++;");
                program.AppendLine($"        if (e.AsSpan().SequenceEqual(y)) equal++; else Console.WriteLine(\"model {i}: Run differs from the interpreter\");");
                program.AppendLine("    }");
                program.AppendLine("}");
            }

            program.AppendLine("Console.WriteLine($\"{equal} of {checks} checks equal the interpreter\");");
            program.AppendLine("return equal == checks ? 0 : 1;");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), program.ToString());
            string root = Repository.Root;
            string frameworkProperties = nativeAot
                ? """
                    <TargetFramework>net10.0</TargetFramework>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                    <PublishAot>true</PublishAot>
                    <GenInstructionSet>x86-64-v4</GenInstructionSet>
                    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                  """
                : """
                    <TargetFramework>net11.0</TargetFramework>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                    <SelfContained>true</SelfContained>
                  """;
            // The .NET 11 program needs the SDK workaround; the NativeAOT one is a plain net10.0 project.
            string import = nativeAot ? "" : $"<Import Project=\"{root}/tests/Net11/Net11.props\" />";
            File.WriteAllText(Path.Combine(dir, "KernelDiff.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  {import}
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                {frameworkProperties}
                    <Nullable>enable</Nullable>
                    <InvariantGlobalization>true</InvariantGlobalization>
                  </PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{root}/src/Attributes/Gen.Attributes.csproj" />
                    <ProjectReference Include="{root}/src/Runtime/Gen.Runtime.csproj" />
                    <ProjectReference Include="{root}/src/Generators/Gen.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                    <None Include="data/*" CopyToOutputDirectory="PreserveNewest" CopyToPublishDirectory="PreserveNewest" />
                  </ItemGroup>
                  <Import Project="{root}/src/Generators/build/Gen.targets" />
                </Project>
                """);
            return dir;
        }
    }
}
