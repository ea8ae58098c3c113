using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

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
