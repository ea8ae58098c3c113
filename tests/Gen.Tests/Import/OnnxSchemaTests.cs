using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The committed C# of the ONNX schema subset (src/Import/Onnx/Proto/OnnxSubset.g.cs) is what protoc of the
    /// Google.Protobuf.Tools package (the version of GenProtobufVersion, which Gen.Import restores) writes from
    /// onnx-subset.proto: neither can change without the other (tools/onnx-proto/generate.sh regenerates it).
    /// </summary>
    public sealed class OnnxSchemaTests
    {
        [Fact]
        public void GeneratedCodeIsWhatProtocWritesFromTheProtoFile()
        {
            string root = Repository.Root;
            string props = File.ReadAllText(Path.Combine(root, "src", "Directory.Build.props"));
            string version = Regex.Match(props, "<GenProtobufVersion>(.*?)</GenProtobufVersion>").Groups[1].Value;
            Assert.Equal("3.36.2", version);
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string platform = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "windows_x64/protoc.exe"
                : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "macosx_x64/protoc"
                : RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux_aarch64/protoc" : "linux_x64/protoc";
            string protoc = Path.Combine(packages, "google.protobuf.tools", version, "tools", platform);
            Assert.True(File.Exists(protoc), protoc + " is missing (Gen.Import restores Google.Protobuf.Tools)");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(protoc, File.GetUnixFileMode(protoc) | UnixFileMode.UserExecute);

            string proto = Path.Combine(root, "src", "Import", "Onnx", "Proto");
            string output = Directory.CreateTempSubdirectory("gen-protoc-").FullName;
            try
            {
                var run = Repository.Execute(protoc, $"--proto_path=\"{proto}\" --csharp_out=\"{output}\" --csharp_opt=internal_access,file_extension=.g.cs onnx-subset.proto", proto, TimeSpan.FromMinutes(1));
                Assert.True(run.ExitCode == 0, run.Output);
                Assert.Equal(File.ReadAllText(Path.Combine(proto, "OnnxSubset.g.cs")), File.ReadAllText(Path.Combine(output, "OnnxSubset.g.cs")));
            }
            finally
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
