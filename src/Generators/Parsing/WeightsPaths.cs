using System;
using System.Collections.Generic;
using System.Text;

namespace Gen.Generators.Parsing
{
    /// <summary>
    /// How the path in <c>[QuantizedModel("...")]</c> finds its weights file, purely on strings (a generator must not
    /// touch the file system). Gen's build step (<c>build/Gen.targets</c>, task <c>GenEncodeWeights</c>) applies the
    /// same rules on disk to decide which files to encode; keep the two in step.
    /// <list type="number">
    /// <item>The path is resolved like an MSBuild path: relative to the project folder (<c>../shared/mlp.safetensors</c>
    /// and <c>sub/../mlp.safetensors</c> included), or as written when it is rooted. A weights file at exactly that
    /// path is the one.</item>
    /// <item>Otherwise a path that does not climb out with <c>..</c> also matches as a suffix on a path boundary: a
    /// bare file name finds the file in any subfolder (<c>mlp.safetensors</c> finds <c>Data/mlp.safetensors</c>).
    /// Two such files make the name ambiguous (GEN014).</item>
    /// </list>
    /// </summary>
    internal static class WeightsPaths
    {
        /// <summary>
        /// The weights files that <paramref name="attributePath"/> names, as indices into <paramref name="sources"/>:
        /// the exact file if there is one, else every suffix match (none, one, or an ambiguous several).
        /// </summary>
        public static List<int> Resolve(string attributePath, string? projectDirectory, IReadOnlyList<string> sources)
        {
            var found = new List<int>();
            string wanted = Normalize(attributePath);
            if (wanted.Length == 0 || wanted == ".") return found;

            string? full = IsRooted(wanted) ? wanted
                : string.IsNullOrEmpty(projectDirectory) ? null
                : Normalize(projectDirectory + "/" + wanted);
            if (full != null)
            {
                // Exact first by ordinal comparison; a case-insensitive file system may report another casing.
                for (int i = 0; i < sources.Count; i++)
                {
                    if (string.Equals(Normalize(sources[i]), full, StringComparison.Ordinal)) found.Add(i);
                }

                if (found.Count == 0)
                {
                    for (int i = 0; i < sources.Count; i++)
                    {
                        if (string.Equals(Normalize(sources[i]), full, StringComparison.OrdinalIgnoreCase)) found.Add(i);
                    }
                }

                if (found.Count > 0) return found;
            }

            if (IsRooted(wanted) || wanted == ".." || wanted.StartsWith("../", StringComparison.Ordinal)) return found;
            for (int i = 0; i < sources.Count; i++)
            {
                if (IsSuffix(Normalize(sources[i]), wanted)) found.Add(i);
            }

            return found;
        }

        /// <summary>Whether <paramref name="wanted"/> (normalized) ends <paramref name="source"/> (normalized) on a path boundary.</summary>
        public static bool IsSuffix(string source, string wanted) =>
            string.Equals(source, wanted, StringComparison.OrdinalIgnoreCase) ||
            source.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// <paramref name="path"/> with '/' separators, without empty and "." segments, and with every "name/.."
        /// pair removed (lexically, as MSBuild and <c>Path.GetFullPath</c> do). A leading "/", "//" or drive ("C:/")
        /// is kept; ".." segments that cannot collapse stay at the front of a relative path.
        /// </summary>
        public static string Normalize(string path)
        {
            string p = path.Trim().Replace('\\', '/');
            string root = "";
            if (p.StartsWith("//", StringComparison.Ordinal)) root = "//";
            else if (p.StartsWith("/", StringComparison.Ordinal)) root = "/";
            else if (p.Length >= 2 && p[1] == ':' && char.IsLetter(p[0])) root = p.Length >= 3 && p[2] == '/' ? p.Substring(0, 3) : p.Substring(0, 2);
            var segments = new List<string>();
            foreach (string segment in p.Substring(root.Length).Split('/'))
            {
                if (segment.Length == 0 || segment == ".") continue;
                if (segment == ".." && segments.Count > 0 && segments[segments.Count - 1] != "..")
                {
                    segments.RemoveAt(segments.Count - 1);
                }
                else if (segment == ".." && root.Length > 0)
                {
                    // Above the root is the root.
                }
                else
                {
                    segments.Add(segment);
                }
            }

            return root + string.Join("/", segments);
        }

        /// <summary>Whether a normalized path is rooted ("/x", "//server/x", "C:/x").</summary>
        public static bool IsRooted(string normalized) =>
            normalized.StartsWith("/", StringComparison.Ordinal) || (normalized.Length >= 2 && normalized[1] == ':' && char.IsLetter(normalized[0]));

        /// <summary>
        /// <paramref name="path"/> as the user would write it in the attribute: relative to the project folder (with
        /// "../" when it is outside), or the full path when there is no project folder or no common root.
        /// </summary>
        public static string Display(string path, string? projectDirectory)
        {
            string full = Normalize(path);
            if (string.IsNullOrEmpty(projectDirectory)) return full;
            string[] target = full.Split('/');
            string[] from = Normalize(projectDirectory!).Split('/');
            int common = 0;
            while (common < target.Length - 1 && common < from.Length &&
                   string.Equals(target[common], from[common], StringComparison.Ordinal))
            {
                common++;
            }

            // Nothing in common but the root ("/" splits into an empty first segment): the full path is clearer.
            if (common == 0 || (common == 1 && target[0].Length == 0 && from.Length > 1)) return full;
            var relative = new StringBuilder();
            for (int i = common; i < from.Length; i++)
            {
                if (from[i].Length > 0) relative.Append("../");
            }

            relative.Append(string.Join("/", target, common, target.Length - common));
            return relative.ToString();
        }
    }
}
