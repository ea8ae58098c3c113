using System;
using System.Linq;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Gen.Generators.Model
{
    /// <summary>
    /// What Gen's build step tells the generator about the project, through <c>&lt;CompilerVisibleProperty&gt;</c>
    /// (read once from the global options, compared by value, so it never invalidates the pipeline by itself).
    /// </summary>
    /// <param name="Directory">The project folder (MSBuildProjectDirectory), against which attribute paths resolve;
    /// null without the build step.</param>
    /// <param name="WeightsFiles">The full path of every weights file the build step could encode (GenWeightsCandidates,
    /// encoded or not): used only to tell the user what exists when a path matches nothing.</param>
    internal sealed record ProjectOptions(string? Directory, EquatableArray<string> WeightsFiles)
    {
        public const string DirectoryProperty = "build_property.MSBuildProjectDirectory";
        public const string WeightsFilesProperty = "build_property.GenWeightsCandidates";

        public static ProjectOptions None { get; } = new ProjectOptions(null, EquatableArray<string>.Empty);

        public static ProjectOptions Read(AnalyzerConfigOptions options)
        {
            string? directory = options.TryGetValue(DirectoryProperty, out var d) && !string.IsNullOrWhiteSpace(d) ? d.Trim() : null;
            string[] files = options.TryGetValue(WeightsFilesProperty, out var f) && f != null
                ? f.Split(new[] { '|' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).Where(s => s.Length > 0).ToArray()
                : Array.Empty<string>();
            return new ProjectOptions(directory, new EquatableArray<string>(files));
        }
    }
}
