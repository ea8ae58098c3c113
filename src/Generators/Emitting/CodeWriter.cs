using System;
using System.Globalization;
using System.Text;

namespace Gen.Generators.Emitting
{
    /// <summary>A small indenting writer for emitted C#; numbers are always formatted with the invariant culture.</summary>
    internal sealed class CodeWriter
    {
        private readonly StringBuilder _text = new StringBuilder();
        private int _indent;

        public CodeWriter Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
            _text.Append('\n');
            return this;
        }

        public CodeWriter Open(string line)
        {
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
