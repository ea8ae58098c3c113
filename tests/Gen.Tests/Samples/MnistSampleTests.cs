using System;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Samples
{
    /// <summary>
    /// The README's main command, end to end: the MNIST sample under the JIT and as a NativeAOT binary. Checks the
    /// accuracy promise (INT8 within 0.5 points of float) and that both runs print the same predictions.
    /// </summary>
    public class MnistSampleTests
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

        [Fact]
        public void JitAndNativeAotRunsAgreeAndKeepFloatAccuracy()
        {
            string root = Repository.Root;
            var jit = Repository.Execute("dotnet", "run --project samples/Mnist -c Release", root, Timeout);
            Assert.True(jit.ExitCode == 0, jit.Output);
            var (floatAccuracy, intAccuracy, jitChecksum, jitPredictions) = Parse(jit.Output);
            Assert.Contains("batched Run (blocks of 4 rows) equals one row at a time: yes", jit.Output);
            Assert.InRange(floatAccuracy, 90, 100);
            Assert.InRange(intAccuracy - floatAccuracy, -0.5, 0.5);

            string publish = Path.Combine(Path.GetTempPath(), "gen-mnist-aot-" + Guid.NewGuid().ToString("N"));
            try
            {
                var build = Repository.Execute("dotnet", $"publish samples/Mnist -c Release -r linux-x64 -o \"{publish}\"", root, Timeout);
                Assert.True(build.ExitCode == 0, build.Output);
                // No AOT or trimming warning may appear (IL2xxx trimming, IL3xxx AOT).
                Assert.DoesNotMatch(new Regex(@"warning IL[23]\d{3}"), build.Output);
                var native = Repository.Execute(Path.Combine(publish, "Mnist"), "", publish, Timeout);
                Assert.True(native.ExitCode == 0, native.Output);
                Assert.Contains("NativeAOT", native.Output);
                Assert.Contains("batched Run (blocks of 4 rows) equals one row at a time: yes", native.Output);
                var (_, nativeIntAccuracy, nativeChecksum, nativePredictions) = Parse(native.Output);
                Assert.Equal(intAccuracy, nativeIntAccuracy);
                Assert.Equal(jitPredictions, nativePredictions);
                Assert.Equal(jitChecksum, nativeChecksum);
            }
            finally
            {
                if (Directory.Exists(publish)) Directory.Delete(publish, recursive: true);
            }
        }

        private static (double Float, double Int, string Checksum, string Predictions) Parse(string output)
        {
            double Number(string pattern)
            {
                var m = Regex.Match(output, pattern);
                Assert.True(m.Success, $"'{pattern}' not found in:\n{output}");
                return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            var checksum = Regex.Match(output, @"output checksum: ([0-9a-f]{16})");
            var predictions = Regex.Match(output, @"first predictions: ([0-9 ]+)");
            Assert.True(checksum.Success && predictions.Success, output);
            return (Number(@"float32 accuracy:\s+([0-9.]+) %"), Number(@"INT8 integer-only accuracy:\s+([0-9.]+) %"),
                checksum.Groups[1].Value, predictions.Groups[1].Value.Trim());
        }
    }
}
