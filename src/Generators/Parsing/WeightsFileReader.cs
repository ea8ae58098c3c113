using System;
using System.Threading;
using Gen.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Gen.Generators.Parsing
{
    /// <summary>
    /// Reads a weights file that the build converted to text. Roslyn gives generators additional files only as
    /// text, so Gen's MSBuild targets encode each <c>.safetensors</c> file as
    /// <code>
    /// gen-weights 1
    /// source: /full/path/of/model.safetensors
    /// &lt;the file's bytes in base64, one line&gt;
    /// </code>
    /// in the intermediate folder, and pass that as an additional file (extension <c>.genweights</c>).
    /// </summary>
    internal static class WeightsFileReader
    {
        public const string Extension = ".genweights";
        private const string Magic = "gen-weights 1";
        private const string SourcePrefix = "source: ";

        public static bool IsWeightsFile(AdditionalText text) =>
            text.Path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        public static WeightsFileSpec Read(AdditionalText text, CancellationToken cancellationToken)
        {
            string fallbackSource = text.Path.Substring(0, text.Path.Length - Extension.Length);
            var content = text.GetText(cancellationToken);
            if (content is null)
            {
                return new WeightsFileSpec(fallbackSource, EquatableArray<byte>.Empty, "the build could not read it");
            }

            var lines = content.Lines;
            if (lines.Count < 3 || lines[0].ToString().Trim() != Magic || !lines[1].ToString().StartsWith(SourcePrefix, StringComparison.Ordinal))
            {
                return new WeightsFileSpec(fallbackSource, EquatableArray<byte>.Empty,
                    $"'{text.Path}' is not a weights file written by Gen's build step (expected a '{Magic}' header)");
            }

            string source = lines[1].ToString().Substring(SourcePrefix.Length).Trim();
            try
            {
                byte[] bytes = Convert.FromBase64String(lines[2].ToString().Trim());
                return new WeightsFileSpec(source, new EquatableArray<byte>(bytes), null);
            }
            catch (FormatException)
            {
                return new WeightsFileSpec(source, EquatableArray<byte>.Empty, "its encoded copy is corrupt; rebuild the project");
            }
        }

        /// <summary>
        /// Whether a converted file is the one an attribute names: the attribute's path, with either separator, is a
        /// suffix of the original file's full path on a path boundary (a bare file name matches in any folder).
        /// </summary>
        public static bool Matches(string sourcePath, string attributePath)
        {
            string source = Normalize(sourcePath);
            string wanted = Normalize(attributePath);
            while (wanted.StartsWith("./", StringComparison.Ordinal)) wanted = wanted.Substring(2);
            if (wanted.Length == 0) return false;
            if (string.Equals(source, wanted, StringComparison.OrdinalIgnoreCase)) return true;
            return source.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase);
        }

        private static string Normalize(string path) => path.Replace('\\', '/').Trim();
    }
}
