using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;

namespace Gen.Generators.Emitting
{
    /// <summary>A small indenting writer for emitted C#; numbers are always formatted with the invariant culture.</summary>
    internal sealed class CodeWriter
    {
        private static readonly Regex MethodHeader = new Regex(@"^(?:public|private|internal)(?: unsafe)? static [^=(]+ (\w+)\(", RegexOptions.CultureInvariant);
        private readonly StringBuilder _text = new StringBuilder();
        private readonly Dictionary<string, long> _stackBytes = new Dictionary<string, long>(StringComparer.Ordinal);
        private string _method = "";
        private int _indent;

        public CodeWriter Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
            _text.Append('\n');
            return this;
        }

        public CodeWriter Open(string line)
        {
            var header = MethodHeader.Match(line);
            if (header.Success) _method = header.Groups[1].Value;
            if (line.Length > 0) Line(line);
            Line("{");
            _indent++;
            return this;
        }

        public CodeWriter Close(string suffix = "")
        {
            _indent--;
            return Line("}" + suffix);
        }

        public override string ToString() => _text.ToString();

        /// <summary>
        /// <c>stackalloc type[count]</c>, with its bytes counted against the method being written, so that the model can
        /// state how much stack it needs (<see cref="StackBound"/>).
        /// </summary>
        public string StackAlloc(string type, long count)
        {
            long size = type switch { "sbyte" or "byte" => 1, "short" or "ushort" => 2, "int" or "uint" => 4, "long" or "ulong" => 8, _ => throw new ArgumentException(type) };
            _stackBytes.TryGetValue(_method, out long bytes);
            _stackBytes[_method] = bytes + size * count;
            return $"stackalloc {type}[{Int(count)}]";
        }

        /// <summary>
        /// An upper bound on the stack buffers live at once below <paramref name="entry"/>: its own plus the two largest of
        /// any other method (the generated call chains are at most three deep: entry, step or layer, kernel).
        /// </summary>
        public long StackBound(string entry)
        {
            _stackBytes.TryGetValue(entry, out long own);
            return own + _stackBytes.Where(m => m.Key != entry).Select(m => m.Value).OrderByDescending(b => b).Take(2).Sum();
        }

        public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>A float literal that round-trips exactly (C# 'f' suffix).</summary>
        public static string Float(float value)
        {
            string s = value.ToString("R", CultureInfo.InvariantCulture);
            if (s.IndexOfAny(new[] { '.', 'E', 'e' }) < 0) s += ".0";
            return s + "f";
        }

        /// <summary>An identifier as C# source: a keyword (contextual ones too) gets the verbatim prefix, <c>@class</c>.</summary>
        public static string Identifier(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
                ? "@" + name
                : name;

        /// <summary>A dotted name (a namespace) as C# source, each part escaped as <see cref="Identifier"/>.</summary>
        public static string QualifiedName(string name) => string.Join(".", Array.ConvertAll(name.Split('.'), Identifier));

        /// <summary>
        /// Text from the declaration (a layer name, a file path) made safe inside a <c>//</c> or <c>///</c> comment: every
        /// character that would end the line (CR, LF, NEL, the line and paragraph separators), every other control
        /// character and every unpaired surrogate is written as its escape (<c>\n</c>, <c>\u2028</c>).
        /// </summary>
        public static string Comment(string text)
        {
            StringBuilder? sb = null;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                bool pairedSurrogate = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ||
                    char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1]);
                bool unsafeChar = char.IsControl(c) || c == '\u0085' || c == '\u2028' || c == '\u2029' || char.IsSurrogate(c) && !pairedSurrogate;
                if (!unsafeChar)
                {
                    sb?.Append(c);
                    continue;
                }

                sb ??= new StringBuilder(text, 0, i, text.Length + 16);
                sb.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                });
            }

            return sb?.ToString() ?? text;
        }

        /// <summary>A readable approximation for comments.</summary>
        public static string Real(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

        /// <summary>Values as comma-separated literals, <paramref name="perLine"/> to a line.</summary>
        public void Values<T>(T[] values, int start, int count, int perLine, Func<T, string> format)
        {
            var line = new StringBuilder();
            for (int i = 0; i < count; i++)
            {
                if (i > 0 && i % perLine == 0)
                {
                    Line(line.ToString());
                    line.Clear();
                }

                line.Append(format(values[start + i])).Append(',');
                if ((i + 1) % perLine != 0 && i + 1 < count) line.Append(' ');
            }

            if (line.Length > 0) Line(line.ToString());
        }
    }
}
