using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Gen.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Gen.Generators.Parsing
{
    /// <summary>
    /// Reads a quantization-parameter file, one activation per line: <c>name scale zero_point [min max]</c>
    /// (<c>input</c> for the model's input, the layer name for a layer's output). Blank lines and lines starting
    /// with '#' are ignored. The calibration tool writes these files; they are plain text, so Roslyn passes them to
    /// the generator directly.
    /// </summary>
    internal static class CalibrationFileReader
    {
        public const string Extension = ".calibration.txt";

        public static bool IsCalibrationFile(AdditionalText text) =>
            text.Path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        public static CalibrationFileSpec Read(AdditionalText text, CancellationToken cancellationToken)
        {
            var content = text.GetText(cancellationToken);
            if (content is null)
            {
                return new CalibrationFileSpec(text.Path, EquatableArray<CalibrationEntry>.Empty, "the build could not read it");
            }

            var entries = new List<CalibrationEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in content.Lines)
            {
                string raw = line.ToString().Trim();
                if (raw.Length == 0 || raw.StartsWith("#", StringComparison.Ordinal)) continue;
                string[] fields = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                string where = $"line {(line.LineNumber + 1).ToString(CultureInfo.InvariantCulture)}";
                if (fields.Length != 3 && fields.Length != 5)
                {
                    return Error(text.Path, $"{where} has {fields.Length.ToString(CultureInfo.InvariantCulture)} fields; expected 'name scale zero_point [min max]'");
                }

                if (!float.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float scale))
                {
                    return Error(text.Path, $"{where}: '{fields[1]}' is not a number");
                }

                if (!int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int zeroPoint))
                {
                    return Error(text.Path, $"{where}: '{fields[2]}' is not an integer zero point");
                }

                if (!seen.Add(fields[0]))
                {
                    return Error(text.Path, $"{where}: '{fields[0]}' is given twice");
                }

                entries.Add(new CalibrationEntry(fields[0], scale, zeroPoint));
            }

            return new CalibrationFileSpec(text.Path, new EquatableArray<CalibrationEntry>(entries.ToArray()), null);
        }

        private static CalibrationFileSpec Error(string path, string message) =>
            new CalibrationFileSpec(path, EquatableArray<CalibrationEntry>.Empty, message);
    }
}
