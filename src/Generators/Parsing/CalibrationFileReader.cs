using System;
using System.Threading;
using Gen.Generators.Model;
using Gen.Runtime;
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
        public const string Extension = QuantizationParameterFile.Extension;

        public static bool IsCalibrationFile(AdditionalText text) =>
            text.Path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        public static CalibrationFileSpec Read(AdditionalText text, CancellationToken cancellationToken)
        {
            var content = text.GetText(cancellationToken);
            if (content is null)
            {
                return new CalibrationFileSpec(text.Path, EquatableArray<CalibrationEntry>.Empty, "the build could not read it");
            }

            string? error = QuantizationParameterFile.TryParse(content.ToString(), out var lines);
            if (error != null) return Error(text.Path, error);
            var entries = new CalibrationEntry[lines.Count];
            for (int i = 0; i < entries.Length; i++) entries[i] = new CalibrationEntry(lines[i].Name, lines[i].Scale, lines[i].ZeroPoint);
            return new CalibrationFileSpec(text.Path, new EquatableArray<CalibrationEntry>(entries), null);
        }

        private static CalibrationFileSpec Error(string path, string message) =>
            new CalibrationFileSpec(path, EquatableArray<CalibrationEntry>.Empty, message);
    }
}
