using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Gen.Generators.Model
{
    // The pipeline's models: only strings, numbers and equatable arrays, never symbols or syntax, so that
    // Roslyn can compare them between edits and skip everything downstream when they are equal.

    /// <summary>Where a diagnostic points, in a form that compares by value (a Location does not).</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public static LocationInfo? From(SyntaxNode? node)
        {
            if (node is null) return null;
            var location = node.GetLocation();
            return location.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
        }
    }

    /// <summary>A diagnostic to report: its descriptor's ID, where, and the message arguments.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
            new DiagnosticInfo(descriptor.Id, location, new EquatableArray<string>(arguments));
    }

    /// <summary>The declared input of a model.</summary>
    /// <remarks>A null scale or zero point was left out of the attribute, to come from a calibration file.</remarks>
    internal sealed record InputSpec(int Size, float? Scale, int? ZeroPoint, LocationInfo? Location);

    /// <summary>One declared dense layer, as written in its attribute.</summary>
    /// <remarks>A null scale or zero point was left out of the attribute, to come from a calibration file.</remarks>
    internal sealed record DenseSpec(string Name, int Outputs, int Activation, float? OutputScale, int? OutputZeroPoint,
        int WeightQuantization, LocationInfo? Location);

    /// <summary>An activation's scale and zero point as an attribute sets them (null: left to the parameter file).</summary>
    internal sealed record QuantizationSpec(string Name, float? Scale, int? ZeroPoint, LocationInfo? Location);

    /// <summary>[PatchEmbedding]: the image, its patches and the model width.</summary>
    internal sealed record PatchEmbeddingSpec(string Name, int ImageHeight, int ImageWidth, int Channels, int PatchSize, int Width,
        float? OutputScale, int? OutputZeroPoint, LocationInfo? Location);

    /// <summary>[EncoderLayer]: one pre-LayerNorm encoder layer.</summary>
    internal sealed record EncoderLayerSpec(string Prefix, int Heads, int FeedForward, int HeadSize, LocationInfo? Location);

    /// <summary>The transformer part of a model: everything before the head's [Dense] layers.</summary>
    internal sealed record TransformerSpec(
        PatchEmbeddingSpec? Embedding,
        EquatableArray<EncoderLayerSpec> Layers,
        QuantizationSpec? FinalNorm,
        QuantizationSpec? Pool,
        EquatableArray<QuantizationSpec> Overrides);

    /// <summary>[BertEncoder]: the encoder's numbers as declared (0: read from the weights) and its pooling.</summary>
    internal sealed record BertSpec(int MaxTokens, int Layers, int Heads, int Width, int FeedForward, int Vocabulary, int Pooling, bool Normalize,
        LocationInfo? Location)
    {
        /// <summary>Whether the residual stream is wide (INT32); see the attribute's property.</summary>
        public bool WideResidual { get; init; } = true;
    }

    /// <summary>Everything the attributes of one model class say, plus what is wrong with them.</summary>
    /// <remarks>With <see cref="Transformer"/> set, <see cref="Layers"/> are the head applied to the pooled tokens.</remarks>
    internal sealed record ModelSpec(
        string? Namespace,
        string ClassName,
        string Modifiers,
        string WeightsFile,
        string? CalibrationFile,
        InputSpec? Input,
        EquatableArray<DenseSpec> Layers,
        LocationInfo? Location,
        EquatableArray<DiagnosticInfo> Diagnostics,
        TransformerSpec? Transformer = null)
    {
        public string HintName => (Namespace is null ? "" : Namespace + ".") + ClassName;

        /// <summary>
        /// The names the user's class already has (its members, inherited ones, accessor names without get_/set_):
        /// the generated layer-specific names avoid them (see Emitting.NameAllocator).
        /// </summary>
        public EquatableArray<string> TakenNames { get; init; } = EquatableArray<string>.Empty;

        /// <summary>
        /// The user's class already carries <c>[System.CodeDom.Compiler.GeneratedCode]</c> (on any of its declarations):
        /// the generated declaration leaves it out, since the attribute allows one use per class (CS0579).
        /// </summary>
        public bool DeclaresGeneratedCode { get; init; }

        /// <summary>The [BertEncoder] declaration, when the class has one (it then has no [ModelInput] nor layers).</summary>
        public BertSpec? Bert { get; init; }
    }

    /// <summary>What the user's compilation offers that changes the emitted code (read once, compared by value).</summary>
    /// <param name="HasAvxVnni">The target framework has <c>System.Runtime.Intrinsics.X86.AvxVnni</c> (VEX vpdpbusd) as a
    /// supported API (not .NET 8's preview one).</param>
    /// <param name="WideVnniNeedsVersionCheck">The program may run on .NET 9 (the target framework is older than .NET 10),
    /// whose code generator miscompiles the two-panel AVX-VNNI kernel: the emitted code checks the runtime's version.</param>
    /// <param name="HasAvxVnni512">The target framework also has <c>AvxVnni.V512</c> (.NET 11: EVEX vpdpbusd on zmm
    /// registers), so the 512-bit VNNI kernels can be emitted.</param>
    internal sealed record CompilationFacts(bool HasAvxVnni, bool WideVnniNeedsVersionCheck, bool HasAvxVnni512 = false);

    /// <summary>One line of a quantization-parameter file.</summary>
    internal sealed record CalibrationEntry(string Name, float Scale, int ZeroPoint);

    /// <summary>A quantization-parameter file: its path and entries, or the first problem found in it.</summary>
    internal sealed record CalibrationFileSpec(string Path, EquatableArray<CalibrationEntry> Entries, string? Error);

    /// <summary>A weights file the build converted to text: its original path and its bytes (or why not).</summary>
    internal sealed record WeightsFileSpec(string SourcePath, EquatableArray<byte> Bytes, string? Error);
}
