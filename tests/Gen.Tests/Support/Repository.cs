using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace Gen.Tests.Support
{
    /// <summary>Locates the repository and runs the dotnet CLI for end-to-end tests.</summary>
    internal static class Repository
    {
        public static string Root
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Gen.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("Gen.sln not found above " + AppContext.BaseDirectory);
            }
        }

        /// <summary>Runs a program to completion and returns its exit code and combined output; <paramref name="environment"/>
        /// sets (or, with a null value, removes) environment variables of the child.</summary>
        public static (int ExitCode, string Output) Execute(string fileName, string arguments, string workingDirectory, TimeSpan timeout,
            IReadOnlyDictionary<string, string?>? environment = null)
        {
            var start = new ProcessStartInfo(fileName, arguments)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            // A nested build must not inherit the test host's MSBuild node settings.
            start.Environment.Remove("MSBuildExtensionsPath");
            start.Environment.Remove("MSBUILD_EXE_PATH");
            start.Environment.Remove("MSBuildSDKsPath");
            foreach (var pair in environment ?? new Dictionary<string, string?>())
            {
                if (pair.Value is null) start.Environment.Remove(pair.Key);
                else start.Environment[pair.Key] = pair.Value;
            }

            using var process = Process.Start(start)!;
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{fileName} {arguments}' did not finish within {timeout}.\n{output}");
            }

            process.WaitForExit();
            return (process.ExitCode, output.ToString());
        }
    }
}
