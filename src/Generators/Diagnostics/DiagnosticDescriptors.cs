using Microsoft.CodeAnalysis;

namespace Gen.Generators.Diagnostics
{
    /// <summary>Every diagnostic Gen reports, in one table. IDs are stable; never reuse one.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "Gen";

        public static readonly DiagnosticDescriptor ClassNotPartial = Error("GEN001",
            "Model class must be partial",
            "The model class '{0}' must be declared 'partial' so that Gen can add the generated members to it");

        public static readonly DiagnosticDescriptor WeightsFileMissing = Error("GEN002",
            "Weights file not found",
            "The weights file '{0}' was not found; give the path of an existing file relative to the project folder (inside it or not), or just its file name when only one weights file of the project has that name{1}");

        public static readonly DiagnosticDescriptor WeightsFileUnreadable = Error("GEN003",
            "Weights file unreadable",
            "The weights file '{0}' cannot be read: {1}");

        public static readonly DiagnosticDescriptor TensorMissing = Error("GEN004",
            "Tensor missing",
            "Layer '{0}' needs tensor '{1}' but the weights file has no such tensor (it has: {2})");

        public static readonly DiagnosticDescriptor ShapeMismatch = Error("GEN005",
            "Tensor shape mismatch",
            "Tensor '{0}' has shape {1} but the model declares {2}");

        public static readonly DiagnosticDescriptor ScaleInvalid = Error("GEN006",
            "Scale not positive or not finite",
            "{0} must be a positive, finite number; it is {1}");

        public static readonly DiagnosticDescriptor ZeroPointOutOfRange = Error("GEN007",
            "Zero point out of range",
            "{0} is {1}; an INT8 zero point must be in [-128, 127]");

        public static readonly DiagnosticDescriptor MultiplierOutOfRange = Error("GEN008",
            "Requantization multiplier out of range",
            "Layer '{0}' channel {1}: the requantization multiplier S_in * S_w / S_out = {2} {3}");

        public static readonly DiagnosticDescriptor AccumulatorOverflow = Error("GEN009",
            "Accumulator overflow possible",
            "Layer '{0}' channel {1}: an INT32 accumulator can reach {2} for some input, beyond 2^31 - 1: {3}");

        public static readonly DiagnosticDescriptor UnsupportedOption = Error("GEN010",
            "Unsupported option",
            "{0}");

        public static readonly DiagnosticDescriptor InvalidDeclaration = Error("GEN011",
            "Invalid model declaration",
            "{0}");

        public static readonly DiagnosticDescriptor CalibrationFileProblem = Error("GEN012",
            "Quantization-parameter file missing or malformed",
            "The quantization-parameter file '{0}' cannot be used: {1}");

        public static readonly DiagnosticDescriptor TransformerOutOfRange = Error("GEN013",
            "Transformer constant out of range",
            "{0}");

        public static readonly DiagnosticDescriptor WeightsFileAmbiguous = Error("GEN014",
            "Weights file name is ambiguous",
            "The weights file '{0}' is ambiguous: it matches {1}; give the path relative to the project folder, for example '{2}'");

        public static readonly DiagnosticDescriptor TypeKindNotSupported = Error("GEN015",
            "Model type kind not supported",
            "{0}");

        public static readonly DiagnosticDescriptor MemberNameConflict = Error("GEN016",
            "Member name conflict",
            "{0}");

        public static readonly DiagnosticDescriptor IntermediateOverflow = Error("GEN017",
            "Integer overflow possible",
            "{0}: {1} can reach {2} for some input, beyond {3}; {4}");

        public static readonly DiagnosticDescriptor InternalError = Error("GEN099",
            "Gen failed unexpectedly",
            "Gen could not generate this model because of an internal error; please report it: {0}");

        public static readonly DiagnosticDescriptor PlanSummary = new DiagnosticDescriptor("GEN100",
            "Model generated",
            "Model '{0}': {1}",
            Category, DiagnosticSeverity.Info, isEnabledByDefault: true, Help("GEN100"));

        public static readonly DiagnosticDescriptor[] All =
        {
            ClassNotPartial, WeightsFileMissing, WeightsFileUnreadable, TensorMissing, ShapeMismatch, ScaleInvalid,
            ZeroPointOutOfRange, MultiplierOutOfRange, AccumulatorOverflow, UnsupportedOption, InvalidDeclaration, CalibrationFileProblem, TransformerOutOfRange,
            WeightsFileAmbiguous, TypeKindNotSupported, MemberNameConflict, IntermediateOverflow, InternalError, PlanSummary,
        };

        public static DiagnosticDescriptor ById(string id)
        {
            foreach (var d in All)
            {
                if (d.Id == id) return d;
            }

            return InvalidDeclaration;
        }

        private static DiagnosticDescriptor Error(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, Help(id));

        /// <summary>
        /// Where each ID is explained. There is no web address to link to (helpLinkUri stays unset); the page ships in
        /// the repository and in the Gen.Quantized package, both as docs/diagnostics.md.
        /// </summary>
        private static string Help(string id) =>
            $"Explained, with an example and the fix, in docs/diagnostics.md#{id.ToLowerInvariant()} (in the Gen repository and in the Gen.Quantized package).";
    }
}
