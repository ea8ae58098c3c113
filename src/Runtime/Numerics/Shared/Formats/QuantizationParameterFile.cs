using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Runtime
{
    /// <summary>One line of a quantization-parameter file: an activation's name, scale and zero point as written.</summary>
    public readonly struct QuantizationParameterLine
    {
        /// <summary>Creates a line.</summary>
        public QuantizationParameterLine(string name, float scale, int zeroPoint)
        {
            Name = name;
            Scale = scale;
            ZeroPoint = zeroPoint;
        }

        /// <summary>The activation's name (<c>input</c>, a layer's name, or a transformer activation such as <c>blocks.0.attn.q</c>).</summary>
        public string Name { get; }

        /// <summary>The scale as written (not yet checked to be positive).</summary>
        public float Scale { get; }

        /// <summary>The zero point as written (not yet checked to be in range).</summary>
        public int ZeroPoint { get; }
    }

    /// <summary>
    /// Reads a quantization-parameter file, one activation per line: <c>name scale zero_point [min max]</c>. Blank lines
    /// and lines starting with '#' are ignored. The calibration tool writes these files and the generator reads them.
    /// </summary>
    public static class QuantizationParameterFile
    {
        /// <summary>The file name ending the generator looks for: <c>&lt;weights stem&gt;.calibration.txt</c>.</summary>
        public const string Extension = ".calibration.txt";

        /// <summary>The parameters by activation name.</summary>
        /// <exception cref="FormatException">A line is malformed or a name repeats (the message names the line), or a
        /// scale is not positive and finite.</exception>
        public static IReadOnlyDictionary<string, QuantizationParameters> Parse(string text)
        {
            string? error = TryParse(text, out var lines);
            if (error != null) throw new FormatException(error);
            var result = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
            foreach (var line in lines)
            {
                if (!(line.Scale > 0) || float.IsInfinity(line.Scale))
                {
                    throw new FormatException($"'{line.Name}' has scale {line.Scale.ToString("R", CultureInfo.InvariantCulture)}; a scale must be positive and finite.");
                }

                result[line.Name] = new QuantizationParameters(line.Scale, line.ZeroPoint);
            }

            return result;
        }

        /// <summary>The lines of <paramref name="text"/> in order; returns the first problem (null when none).</summary>
        public static string? TryParse(string text, out List<QuantizationParameterLine> lines)
        {
            lines = new List<QuantizationParameterLine>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string[] rows = text.Split('\n');
            for (int n = 0; n < rows.Length; n++)
            {
                string raw = rows[n].Trim();
                if (raw.Length == 0 || raw.StartsWith("#", StringComparison.Ordinal)) continue;
                string[] fields = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                string where = "line " + (n + 1).ToString(CultureInfo.InvariantCulture);
                if (fields.Length != 3 && fields.Length != 5)
                {
                    return $"{where} has {fields.Length.ToString(CultureInfo.InvariantCulture)} fields; expected 'name scale zero_point [min max]'";
                }

                if (!float.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float scale))
                {
                    return $"{where}: '{fields[1]}' is not a number";
                }

                if (!int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int zeroPoint))
                {
                    return $"{where}: '{fields[2]}' is not an integer zero point";
                }

                if (!seen.Add(fields[0]))
                {
                    return $"{where}: '{fields[0]}' is given twice";
                }

                lines.Add(new QuantizationParameterLine(fields[0], scale, zeroPoint));
            }

            return null;
        }
    }
}
