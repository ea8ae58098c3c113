using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

namespace Gen.Tests.Support
{
    /// <summary>
    /// Debian's headless Chromium (<c>apt-get install chromium</c>; .ci/run installs it): the rendered DOM of a page and a
    /// screenshot of it. Each run gets a new profile folder and no network services, so nothing is fetched or kept.
    /// </summary>
    internal static class Chromium
    {
        public static string? Path => new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/local/bin/chromium" }.FirstOrDefault(File.Exists);

        /// <summary>Whether this run is CI's (<c>CI=true</c>), where a missing Chromium is a failure rather than a skip.</summary>
        public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

        /// <summary>The path, or a failed assertion that says how to install it (a test reaches this only in CI).</summary>
        public static string Require() => Path ?? throw new Xunit.Sdk.XunitException(
            "Chromium is not installed (/usr/bin/chromium): CI=true, so the quantization report cannot go unchecked. " +
            "Install it as root with 'apt-get install -y chromium' (.ci/run does).");

        /// <summary>The DOM after Chromium loaded and laid out the page.</summary>
        public static string DumpDom(string page) => Run("--dump-dom " + Url(page)).Output;

        /// <summary>A PNG screenshot of the page in a window <paramref name="width"/> x <paramref name="height"/>.</summary>
        public static void Screenshot(string page, string png, int width, int height)
        {
            if (File.Exists(png)) File.Delete(png);
            var (_, log) = Run($"--screenshot={Quote(png)} --window-size={width},{height} --hide-scrollbars {Url(page)}");
            Assert.True(File.Exists(png), "Chromium wrote no screenshot: " + log);
        }

        private static string Url(string page) => Quote(new Uri(System.IO.Path.GetFullPath(page)).AbsoluteUri);

        private static string Quote(string s) => "\"" + s + "\"";

        private static (string Output, string Log) Run(string arguments)
        {
            string profile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gen-chromium-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(profile);
            try
            {
                var start = new ProcessStartInfo(Require(),
                    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking " +
                    $"--disable-component-update --disable-sync --user-data-dir={Quote(profile)} " + arguments)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(start)!;
                var output = new StringBuilder();
                var log = new StringBuilder();
                process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.AppendLine(e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                if (!process.WaitForExit(120_000))
                {
                    process.Kill(entireProcessTree: true);
                    throw new TimeoutException("Chromium did not finish within 2 minutes: " + log);
                }

                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"Chromium exited with {process.ExitCode}: {log}");
                return (output.ToString(), log.ToString());
            }
            finally
            {
                try
                {
                    Directory.Delete(profile, recursive: true);
                }
                catch (IOException)
                {
                    // A helper process may still hold a file for a moment; the folder is in the temporary directory.
                }
            }
        }
    }

    /// <summary>
    /// A fact that needs Chromium: skipped, with the reason, where it is missing, except in CI (<c>CI=true</c>), where the
    /// test runs and fails with the install command.
    /// </summary>
    public sealed class ChromiumFactAttribute : FactAttribute
    {
        public ChromiumFactAttribute()
        {
            if (Chromium.Path is null && !Chromium.InCi)
            {
                Skip = "Chromium is not installed (apt-get install -y chromium; .ci/run installs it, and in CI a missing Chromium fails this test)";
            }
        }
    }
}
