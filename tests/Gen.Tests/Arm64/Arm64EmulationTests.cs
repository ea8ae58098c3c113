using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Arm64
{
    /// <summary>
    /// A fact that runs only where linux-arm64 programs can be emulated: Debian's qemu-user (qemu-aarch64) and the
    /// aarch64 sysroot of libc6-dev-arm64-cross, with clang, lld and llvm-objcopy for the NativeAOT link. Elsewhere it is skipped with a message saying what to install
    /// (.ci/run installs both).
    /// </summary>
    public sealed class Arm64EmulationFactAttribute : FactAttribute
    {
        public Arm64EmulationFactAttribute()
        {
            if (Arm64EmulationTests.Qemu is null || !Directory.Exists(Arm64EmulationTests.Sysroot) ||
                !File.Exists("/usr/bin/clang") || !File.Exists("/usr/bin/ld.lld") || !File.Exists("/usr/bin/llvm-objcopy"))
            {
                Skip = "ARM64 emulation and cross-linking need qemu-aarch64, " + Arm64EmulationTests.Sysroot + ", clang, ld.lld and llvm-objcopy" +
                       " (apt-get install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross clang lld llvm; .ci/run installs them)";
            }
        }
    }

    /// <summary>
    /// The ARM64 kernels, bit for bit, under <c>qemu-aarch64 -cpu max</c> (which has AdvSimd and the dot product):
    /// random dense models of odd shapes and every route, published as one self-contained linux-arm64 program (JIT),
    /// checked against the reference interpreter with every ARM64 path forced in turn; and the MNIST sample's checksum
    /// and size as a NativeAOT linux-arm64 binary, on the dot-product path and forced to plain AdvSimd.
    /// </summary>
    public class Arm64EmulationTests
    {
        public const string Sysroot = "/usr/aarch64-linux-gnu";

        public static string? Qemu => new[] { "/usr/bin/qemu-aarch64", "/usr/local/bin/qemu-aarch64" }.FirstOrDefault(File.Exists);

        // The shapes and routes of DifferentialTests: sizes, pre-quantized, largest |w| (Pair 64, Quad 32, Wide 127).
        private static readonly (int[] Sizes, bool PreQuantized, int MaxWeight)[] Models =
        {
            (new[] { 1, 1 }, false, 127),
            (new[] { 3, 17 }, false, 127),
            (new[] { 17, 3, 1 }, false, 127),
            (new[] { 784, 17, 10 }, false, 127),
            (new[] { 64, 33, 47, 5 }, false, 127),
            (new[] { 15, 16, 31, 32, 65 }, false, 127),
            (new[] { 100, 40, 9 }, true, 127),
            (new[] { 40, 33, 7 }, true, 64),
            (new[] { 17, 48, 5 }, true, 32),
            (new[] { 70, 19, 3 }, true, 32),
        };

        private const int Rows = 40;

        [Arm64EmulationFact]
        public void ArmPathsEqualTheInterpreterAndMnistKeepsItsChecksum()
        {
            string dir = Path.Combine(Path.GetTempPath(), "gen-arm64-" + Guid.NewGuid().ToString("N"));
            try
            {
                string models = WriteDifferentialProject(Path.Combine(dir, "diff"));
                string mnist = CopyMnistSample(Path.Combine(dir, "mnist"));
                // Both publishes, then the emulated runs side by side (two cores).
                string diffOut = Publish(models, Path.Combine(dir, "diff-out"));
                string mnistOut = Publish(mnist, Path.Combine(dir, "mnist-out"), nativeAot: true);
                long size = new FileInfo(Path.Combine(mnistOut, "Mnist")).Length;
                Assert.True(size < 3_000_000, $"the ARM64 NativeAOT MNIST binary has {size} bytes");
                var runs = new[]
                {
                    Task.Run(() => Emulate(diffOut, "ArmDiff", null)),
                    Task.Run(() => Emulate(diffOut, "ArmDiff", "AdvSimd")),
                    Task.Run(() => Emulate(diffOut, "ArmDiff", "Avx2")),
                    Task.Run(() => Emulate(mnistOut, "Mnist", null)),
                    Task.Run(() => Emulate(mnistOut, "Mnist", "AdvSimd")),
                };
                Task.WaitAll(runs);
                var (best, lowered, x86, mnistBest, mnistLowered) = (runs[0].Result, runs[1].Result, runs[2].Result, runs[3].Result, runs[4].Result);

                int checks = Models.Length * 4 * 7;
                foreach (var run in new[] { best, lowered, x86 })
                {
                    Assert.True(run.ExitCode == 0, run.Output);
                    Assert.Contains($"{checks} of {checks} checks equal the interpreter", run.Output, StringComparison.Ordinal);
                }

                // SelectPath: the dot product under -cpu max; GEN_KERNEL_PATH lowers it; an x86 path cannot run there and is ignored.
                Assert.Contains("active path AdvSimdDp", best.Output, StringComparison.Ordinal);
                Assert.Contains("active path AdvSimd\n", lowered.Output.Replace("\r", ""), StringComparison.Ordinal);
                Assert.Contains("active path AdvSimdDp", x86.Output, StringComparison.Ordinal);

                foreach (var (run, path) in new[] { (mnistBest, "AdvSimdDp"), (mnistLowered, "AdvSimd") })
                {
                    Assert.True(run.ExitCode == 0, run.Output);
                    Assert.Contains($"kernels {path},", run.Output, StringComparison.Ordinal);
                    Assert.Contains("output checksum: d299519410e889b5", run.Output, StringComparison.Ordinal);
                    Assert.Contains("equals one row at a time: yes", run.Output, StringComparison.Ordinal);
                }
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>Writes the random models, their inputs and the interpreter's outputs, and a program that compares.</summary>
        private static string WriteDifferentialProject(string dir)
        {
            Directory.CreateDirectory(Path.Combine(dir, "weights"));
            Directory.CreateDirectory(Path.Combine(dir, "data"));
            var program = new StringBuilder();
            program.AppendLine("using System;");
            program.AppendLine("using System.IO;");
            program.AppendLine("// Generated by Arm64EmulationTests: each model's RunRows with every ARM64 path against the interpreter's outputs.");
            program.AppendLine("int checks = 0, equal = 0;");
            program.AppendLine("string data = Path.Combine(AppContext.BaseDirectory, \"data\");");
            program.AppendLine("Console.WriteLine(\"active path \" + Arm.M0.Model.ActivePath);");
            program.AppendLine("int[] counts = { 1, 3, 4, 5, 9, " + Rows + " };");
            var rng = new Random(1500);
            for (int i = 0; i < Models.Length; i++)
            {
                var (sizes, pre, maxWeight) = Models[i];
                var model = RandomModel.Create(rng, sizes, pre, maxWeight);
                File.WriteAllText(Path.Combine(dir, $"M{i}.cs"), model.Source
                    .Replace("namespace DiffTest;", $"namespace Arm.M{i};")
                    .Replace("weights/model.safetensors", $"weights/m{i}.safetensors"));
                File.WriteAllBytes(Path.Combine(dir, "weights", $"m{i}.safetensors"), model.Weights);
                var inputs = new sbyte[Rows * model.InputSize];
                for (int j = 0; j < inputs.Length; j++) inputs[j] = (sbyte)(j % 97 < 5 ? (rng.Next(2) == 0 ? -128 : 127) : rng.Next(-128, 128));
                var expected = new sbyte[Rows * model.OutputSize];
                model.Reference.Run(inputs, expected);
                File.WriteAllBytes(Path.Combine(dir, "data", $"m{i}.in"), (byte[])(Array)inputs);
                File.WriteAllBytes(Path.Combine(dir, "data", $"m{i}.out"), (byte[])(Array)expected);
                string m = $"Arm.M{i}.Model";
                program.AppendLine("{");
                program.AppendLine($"    // {model.Description}");
                program.AppendLine($"    sbyte[] x = (sbyte[])(Array)File.ReadAllBytes(Path.Combine(data, \"m{i}.in\"));");
                program.AppendLine($"    sbyte[] e = (sbyte[])(Array)File.ReadAllBytes(Path.Combine(data, \"m{i}.out\"));");
                program.AppendLine($"    foreach (var path in new[] {{ {m}.KernelPath.AdvSimdDp, {m}.KernelPath.AdvSimd, {m}.KernelPath.Vector128, {m}.KernelPath.Scalar }})");
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
                program.AppendLine($"        var y = new sbyte[e.Length];");
                program.AppendLine($"        {m}.Run(x, y, {Rows});");
                program.AppendLine("        checks += 4;");
                program.AppendLine($"        if (e.AsSpan().SequenceEqual(y)) equal += 4; else Console.WriteLine(\"model {i}: Run differs from the interpreter\");");
                program.AppendLine("    }");
                program.AppendLine("}");
            }

            program.AppendLine("Console.WriteLine($\"{equal} of {checks} checks equal the interpreter\");");
            program.AppendLine("return equal == checks ? 0 : 1;");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), program.ToString());
            string root = Repository.Root;
            File.WriteAllText(Path.Combine(dir, "ArmDiff.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
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

        /// <summary>A copy of samples/Mnist whose references point at this repository (its own obj/, so no other test's build is touched).</summary>
        private static string CopyMnistSample(string dir)
        {
            string source = Path.Combine(Repository.Root, "samples", "Mnist");
            foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(source, file);
                if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal)) continue;
                string target = Path.Combine(dir, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            string project = Path.Combine(dir, "Mnist.csproj");
            File.WriteAllText(project, File.ReadAllText(project).Replace("..\\..\\", Repository.Root + "/"));
            return dir;
        }

        /// <summary>
        /// The README's ARM64 publishes: self-contained linux-arm64 on the JIT, or NativeAOT cross-compiled and linked
        /// with clang and lld (the project sets PublishAot; Debian's clang, lld and llvm, the sysroot of libc6-dev-arm64-cross).
        /// </summary>
        private static string Publish(string project, string output, bool nativeAot = false)
        {
            string mode = nativeAot
                ? "-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld -p:ObjCopyName=llvm-objcopy"
                : "--self-contained -p:PublishAot=false";
            var (code, text) = Repository.Execute("dotnet",
                $"publish \"{project}\" -c Release -r linux-arm64 {mode} -p:InvariantGlobalization=true -o \"{output}\"",
                project, TimeSpan.FromMinutes(5));
            Assert.True(code == 0, text);
            return output;
        }

        private static (int ExitCode, string Output) Emulate(string directory, string program, string? kernelPath) =>
            Repository.Execute(Qemu!, $"-cpu max -L {Sysroot} ./{program}", directory, TimeSpan.FromMinutes(4),
                new Dictionary<string, string?> { ["GEN_KERNEL_PATH"] = kernelPath });
    }
}
