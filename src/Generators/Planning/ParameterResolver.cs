using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Generators.Parsing;
using Gen.Runtime;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Settles every activation's scale and zero point: the value written in the attribute, else the calibration
    /// file's line for it (<c>input</c> or the layer's name). The file is the one named by
    /// <c>[QuantizedModel(Calibration = ...)]</c>, else <c>&lt;weights file name&gt;.calibration.txt</c> beside the weights
    /// if the project has one.
    /// </summary>
    internal static class ParameterResolver
    {
        /// <returns>The input's parameters followed by each layer's output parameters, or null after reporting why not.</returns>
        public static QuantizationParameters[]? Resolve(ModelSpec spec, string weightsPath,
            EquatableArray<CalibrationFileSpec> calibrations, List<DiagnosticInfo> diagnostics)
        {
            var input = spec.Input!;
            var requests = new List<Request> { new Request("input", "The input Scale", "The input ZeroPoint", input.Scale, input.ZeroPoint, input.Location) };
            foreach (var layer in spec.Layers)
            {
                requests.Add(new Request(layer.Name, $"Layer '{layer.Name}' OutputScale", $"Layer '{layer.Name}' OutputZeroPoint",
                    layer.OutputScale, layer.OutputZeroPoint, layer.Location));
            }

            var resolved = Settle(spec, weightsPath, calibrations, requests, "set it in the attribute", diagnostics);
            return resolved?.Select(r => r.Value).ToArray();
        }

        /// <summary>
        /// Settles each requested activation (in order): its explicit scale and zero point where the attributes give
        /// them, else the parameter file's line of that name.
        /// </summary>
        /// <returns>The parameters by activation name, or null after reporting every missing or invalid one.</returns>
        public static Dictionary<string, QuantizationParameters>? ResolveNamed(ModelSpec spec, string weightsPath,
            EquatableArray<CalibrationFileSpec> calibrations, IReadOnlyList<QuantizationSpec> requests, List<DiagnosticInfo> diagnostics)
        {
            var resolved = Settle(spec, weightsPath, calibrations,
                requests.Select(r => new Request(r.Name, $"The scale of activation '{r.Name}'", $"The zero point of activation '{r.Name}'",
                    r.Scale, r.ZeroPoint, r.Location)).ToList(),
                "set it with [Quantization(\"{0}\", scale, zeroPoint)]", diagnostics);
            return resolved?.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        }

        /// <summary>An activation to settle: its name, how messages call its scale and zero point, and what the attributes say.</summary>
        private sealed record Request(string Name, string ScaleLabel, string ZeroPointLabel, float? Scale, int? ZeroPoint, LocationInfo? Location);

        private static List<KeyValuePair<string, QuantizationParameters>>? Settle(ModelSpec spec, string weightsPath,
            EquatableArray<CalibrationFileSpec> calibrations, List<Request> requests, string setHint, List<DiagnosticInfo> diagnostics)
        {
            int before = diagnostics.Count;
            var file = FindFile(spec, weightsPath, calibrations, diagnostics);
            if (diagnostics.Count > before) return null;

            var entries = file?.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal) ?? new Dictionary<string, CalibrationEntry>();
            string source = file is null ? "" : $" (from {System.IO.Path.GetFileName(file.Path)})";
            string missingHint = file is null
                ? $"; {setHint}, or put its line in {System.IO.Path.GetFileNameWithoutExtension(weightsPath)}{CalibrationFileReader.Extension} beside the weights"
                : $" and {System.IO.Path.GetFileName(file.Path)} has no '{{0}}' line";
            var result = requests.Select(r => new KeyValuePair<string, QuantizationParameters>(r.Name,
                One(r.Name, r.ScaleLabel, r.ZeroPointLabel, r.Scale, r.ZeroPoint, r.Location, entries, source, missingHint, diagnostics))).ToList();
            return diagnostics.Count > before ? null : result;
        }

        private static QuantizationParameters One(string name, string scaleLabel, string zeroPointLabel, float? scale, int? zeroPoint,
            LocationInfo? location, Dictionary<string, CalibrationEntry> entries, string source, string missingHint,
            List<DiagnosticInfo> diagnostics)
        {
            entries.TryGetValue(name, out var entry);
            float s = scale ?? entry?.Scale ?? float.NaN;
            int z = zeroPoint ?? entry?.ZeroPoint ?? 0;
            if (scale is null && entry is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ScaleInvalid, location, scaleLabel,
                    "not set" + string.Format(CultureInfo.InvariantCulture, missingHint, name)));
                return default;
            }

            if (scale is null || zeroPoint is null)
            {
                // Values from the file get the same checks as values written in the attribute.
                int count = diagnostics.Count;
                ModelParser.CheckScale(scaleLabel + source, scale is null ? s : null, location, diagnostics);
                ModelParser.CheckZeroPoint(zeroPointLabel + source, zeroPoint is null ? z : null, location, diagnostics);
                if (diagnostics.Count > count) return default;
            }

            return new QuantizationParameters(s, z);
        }

        private static CalibrationFileSpec? FindFile(ModelSpec spec, string weightsPath, EquatableArray<CalibrationFileSpec> calibrations,
            List<DiagnosticInfo> diagnostics)
        {
            CalibrationFileSpec? file;
            if (spec.CalibrationFile != null)
            {
                var matches = calibrations.Where(c => WeightsFileReader.Matches(c.Path, spec.CalibrationFile)).ToList();
                if (matches.Count != 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CalibrationFileProblem, spec.Location, spec.CalibrationFile,
                        matches.Count == 0
                            ? $"no such file among the project's *{CalibrationFileReader.Extension} files"
                            : "the name matches several files (" + string.Join(", ", matches.Select(m => m.Path)) + "); give more of its path"));
                    return null;
                }

                file = matches[0];
            }
            else
            {
                // The default: model.safetensors -> model.calibration.txt in the same folder.
                string directory = weightsPath.Replace('\\', '/');
                int slash = directory.LastIndexOf('/');
                string stem = System.IO.Path.GetFileNameWithoutExtension(weightsPath);
                string expected = (slash >= 0 ? directory.Substring(0, slash + 1) : "") + stem + CalibrationFileReader.Extension;
                file = calibrations.FirstOrDefault(c => string.Equals(c.Path.Replace('\\', '/'), expected, StringComparison.OrdinalIgnoreCase));
            }

            if (file?.Error != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CalibrationFileProblem, spec.Location,
                    System.IO.Path.GetFileName(file.Path), file.Error));
                return null;
            }

            return file;
        }
    }
}
