using System;
using System.Globalization;
using System.Threading;
using Gen.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Gen.Generators.Parsing
{
    /// <summary>
    /// Reads a weights file that the build converted to text. Roslyn gives generators additional files only as
    /// text, so Gen's MSBuild targets encode each <c>.safetensors</c> file a <c>[QuantizedModel]</c> names as
    /// <code>
    /// gen-weights 2
    /// source: /full/path/of/model.safetensors
    /// size: &lt;the file's length in bytes&gt;
    /// modified: &lt;its last-write time, UTC ticks&gt;
    /// &lt;the file's bytes in base64, one line&gt;
    /// </code>
    /// in the intermediate folder, and pass that as an additional file (<c>model.safetensors.&lt;hash&gt;.genweights</c>).
    /// The build step compares size and time to decide whether to encode again; here the size checks the data.
    /// </summary>
    internal static class WeightsFileReader
    {
        public const string Extension = ".genweights";
        private const string Magic = "gen-weights 2";
        private const string OldMagic = "gen-weights 1";
        private const string SourcePrefix = "source: ";
        private const string SizePrefix = "size: ";

        /// <summary>Characters decoded at a time (a multiple of 4), so that no string of the whole file is built.</summary>
        private const int ChunkChars = 1 << 16;

        public static bool IsWeightsFile(AdditionalText text) =>
            text.Path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        public static WeightsFileSpec Read(AdditionalText text, CancellationToken cancellationToken)
        {
            string fallbackSource = FallbackSource(text.Path);
            var content = text.GetText(cancellationToken);
            if (content is null)
            {
                return new WeightsFileSpec(fallbackSource, EquatableArray<byte>.Empty, "the build could not read it");
            }

            var lines = content.Lines;
            string magic = lines.Count > 0 ? lines[0].ToString().Trim() : "";
            bool hasSource = lines.Count > 1 && lines[1].ToString().StartsWith(SourcePrefix, StringComparison.Ordinal);
            string source = hasSource ? lines[1].ToString().Substring(SourcePrefix.Length).Trim() : fallbackSource;
            if (magic == OldMagic)
            {
                return new WeightsFileSpec(source, EquatableArray<byte>.Empty,
                    $"its encoded copy '{text.Path}' was written by an older version of Gen's build step ('{OldMagic}', " +
                    $"this generator reads '{Magic}'); make sure the project imports the Gen.targets of the same Gen version as the generator, and rebuild");
            }

            if (magic != Magic || !hasSource)
            {
                return new WeightsFileSpec(fallbackSource, EquatableArray<byte>.Empty,
                    $"'{text.Path}' is not a weights file written by Gen's build step (expected a '{Magic}' header)");
            }

            // Header fields ("name: value") up to the data line; base64 never contains ':'.
            long? size = null;
            int data = 2;
            for (; data < lines.Count; data++)
            {
                string line = lines[data].ToString();
                if (line.IndexOf(':') < 0) break;
                if (line.StartsWith(SizePrefix, StringComparison.Ordinal) &&
                    long.TryParse(line.Substring(SizePrefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long s))
                {
                    size = s;
                }
            }

            if (data >= lines.Count || size is null)
            {
                return new WeightsFileSpec(source, EquatableArray<byte>.Empty, "its encoded copy is corrupt (no size or no data); rebuild the project");
            }

            byte[]? bytes = Decode(content, lines[data].Span, size.Value, cancellationToken);
            return bytes is null
                ? new WeightsFileSpec(source, EquatableArray<byte>.Empty, "its encoded copy is corrupt; rebuild the project")
                : new WeightsFileSpec(source, new EquatableArray<byte>(bytes), null);
        }

        /// <summary>Decodes the base64 line in chunks straight from the text (no string of the whole line); null when
        /// it is not valid base64 of exactly <paramref name="size"/> bytes.</summary>
        private static byte[]? Decode(SourceText content, TextSpan span, long size, CancellationToken cancellationToken)
        {
            int start = span.Start, end = span.End;
            while (end > start && char.IsWhiteSpace(content[end - 1])) end--;
            while (start < end && char.IsWhiteSpace(content[start])) start++;
            int length = end - start;
            if (length % 4 != 0 || size > int.MaxValue) return null;
            long expected = length / 4 * 3L;
            if (length > 0 && content[end - 1] == '=') expected--;
            if (length > 1 && content[end - 2] == '=') expected--;
            if (expected != size) return null;

            var bytes = new byte[size];
            var buffer = new char[Math.Min(ChunkChars, Math.Max(length, 4))];
            int written = 0;
            try
            {
                for (int at = start; at < end; at += buffer.Length)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int count = Math.Min(buffer.Length, end - at);
                    content.CopyTo(at, buffer, 0, count);
                    byte[] chunk = Convert.FromBase64CharArray(buffer, 0, count);
                    if (written + chunk.Length > bytes.Length) return null;
                    Buffer.BlockCopy(chunk, 0, bytes, written, chunk.Length);
                    written += chunk.Length;
                }
            }
            catch (FormatException)
            {
                return null;
            }

            return written == bytes.Length ? bytes : null;
        }

        /// <summary>The original path guessed from the encoded copy's name (model.safetensors.1a2b3c4d.genweights).</summary>
        private static string FallbackSource(string path)
        {
            string stem = path.Substring(0, path.Length - Extension.Length);
            int dot = stem.LastIndexOf('.');
            if (dot >= 0 && stem.Length - dot - 1 == 8 && IsHex(stem.Substring(dot + 1))) stem = stem.Substring(0, dot);
            return stem;
        }

        private static bool IsHex(string s)
        {
            foreach (char c in s)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            }

            return true;
        }

        /// <summary>
        /// Whether a file is the one an attribute names by suffix: the attribute's path, with either separator and
        /// "." / ".." segments collapsed, ends the file's full path on a path boundary (a bare file name matches in
        /// any folder). Weights files resolve with <see cref="WeightsPaths.Resolve"/>, which tries the exact path
        /// relative to the project first.
        /// </summary>
        public static bool Matches(string sourcePath, string attributePath)
        {
            string wanted = WeightsPaths.Normalize(attributePath);
            if (wanted.Length == 0) return false;
            return WeightsPaths.IsSuffix(WeightsPaths.Normalize(sourcePath), wanted);
        }
    }
}
