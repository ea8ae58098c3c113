using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Samples
{
    /// <summary>
    /// The vision transformer sample end to end, under the JIT and as a NativeAOT binary: integer-only accuracy within
    /// one point of float, a complete per-activation table, and the same outputs from both runs.
    /// </summary>
    public class MnistVitSampleTests
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

        [Fact]
        public void JitAndNativeAotRunsAgreeAndKeepFloatAccuracy()
        {
            string root = Repository.Root;
            var jit = Repository.Execute("dotnet", "run --project samples/MnistVit -c Release", root, Timeout);
            Assert.True(jit.ExitCode == 0, jit.Output);
            var (floatAccuracy, intAccuracy, checksum) = Parse(jit.Output);
            Assert.InRange(floatAccuracy, 95, 100);
            Assert.InRange(intAccuracy - floatAccuracy, -1.0, 1.0);
            Assert.Contains("batched Run equals one image at a time: yes", jit.Output);
            Assert.Contains("identical outputs on 200 of 200 digits", jit.Output);

            // One table row per activation, each with a cosine close to 1 (a broken scale would show here first).
            var rows = Regex.Matches(jit.Output, @"^\s+([a-z0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$", RegexOptions.Multiline);
            Assert.Equal(30, rows.Count);
            Assert.All(rows, r => Assert.True(double.Parse(r.Groups[2].Value, CultureInfo.InvariantCulture) > 0.99, r.Value));
            Assert.Contains(rows, r => r.Groups[1].Value == "blocks.1.attn.context");

            string publish = Path.Combine(Path.GetTempPath(), "gen-mnistvit-aot-" + Guid.NewGuid().ToString("N"));
            try
            {
                var build = Repository.Execute("dotnet", $"publish samples/MnistVit -c Release -r linux-x64 -o \"{publish}\"", root, Timeout);
                Assert.True(build.ExitCode == 0, build.Output);
                Assert.DoesNotMatch(new Regex(@"warning IL[23]\d{3}"), build.Output);
                var native = Repository.Execute(Path.Combine(publish, "MnistVit"), "", publish, Timeout);
                Assert.True(native.ExitCode == 0, native.Output);
                Assert.Contains("NativeAOT", native.Output);
                var (_, nativeIntAccuracy, nativeChecksum) = Parse(native.Output);
                Assert.Equal(intAccuracy, nativeIntAccuracy);
                Assert.Equal(checksum, nativeChecksum);
            }
            finally
            {
                if (Directory.Exists(publish)) Directory.Delete(publish, recursive: true);
            }
        }

        private static (double Float, double Int, string Checksum) Parse(string output)
        {
            double Number(string pattern)
            {
                var m = Regex.Match(output, pattern);
                Assert.True(m.Success, $"'{pattern}' not found in:\n{output}");
                return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            var checksum = Regex.Match(output, @"output checksum: ([0-9a-f]{16})");
            Assert.True(checksum.Success, output);
            return (Number(@"float32 accuracy:\s+([0-9.]+) %"), Number(@"INT8 integer-only accuracy:\s+([0-9.]+) %"), checksum.Groups[1].Value);
        }
    }
}
