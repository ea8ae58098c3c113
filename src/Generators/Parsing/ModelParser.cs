using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Runtime;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Gen.Generators.Parsing
{
    /// <summary>
    /// Reads the attributes of one model class into a <see cref="ModelSpec"/>: symbols in, plain values out. Checks
    /// everything that needs no weights (partial class, scales, zero points, sizes, options); the planner checks the rest.
    /// </summary>
    internal static class ModelParser
    {
        public const string ModelAttribute = "Gen.QuantizedModelAttribute";
        private const string InputAttribute = "Gen.ModelInputAttribute";
        private const string DenseAttribute = "Gen.DenseAttribute";
        private const string PatchEmbeddingAttribute = "Gen.PatchEmbeddingAttribute";
        private const string EncoderLayerAttribute = "Gen.EncoderLayerAttribute";
        private const string LayerNormAttribute = "Gen.LayerNormAttribute";
        private const string MeanPoolAttribute = "Gen.MeanPoolAttribute";
        private const string QuantizationAttribute = "Gen.QuantizationAttribute";
        private const string GeneratedCodeAttribute = "System.CodeDom.Compiler.GeneratedCodeAttribute";

        public static ModelSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();
            var classLocation = LocationInfo.From(syntax);
            var identifierLocation = From(syntax.Identifier.GetLocation()) ?? classLocation;
            var modelAttribute = context.Attributes[0];
            var modelLocation = AttributeLocation(modelAttribute, cancellationToken) ?? classLocation;

            string? kind = TypeKind(syntax);
            if (kind != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeKindNotSupported, identifierLocation,
                    $"The model type '{type.Name}' is {kind}; Gen generates a model only into a class: declare it 'partial class {type.Name}' (records, structs and interfaces are not supported)"));
            }
            else if (syntax.Modifiers.Any(SyntaxKind.FileKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeKindNotSupported, identifierLocation,
                    $"The model class '{type.Name}' is file-local ('file'); the generated members go into another file, which cannot extend a file-local class: declare it 'internal' or 'public' instead"));
            }

            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassNotPartial, identifierLocation, type.Name));
            }

            if (type.ContainingType is not null || type.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, modelLocation,
                    $"The model class '{type.Name}' must be a non-generic top-level class (nested and generic classes are not supported)"));
            }

            string weightsFile = modelAttribute.ConstructorArguments.Length == 1 && modelAttribute.ConstructorArguments[0].Value is string w ? w : "";
            if (weightsFile.Trim().Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, modelLocation,
                    "[QuantizedModel] needs the path of a .safetensors weights file"));
            }

            string? calibration = Named<string?>(modelAttribute, "Calibration", null);
            if (calibration != null && calibration.Trim().Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, modelLocation,
                    "[QuantizedModel] Calibration must name a quantization-parameter file, or be left out"));
            }

            InputSpec? input = null;
            var layers = new List<DenseSpec>();
            TransformerParser? transformer = null;
            BertSpec? bert = null;
            bool declaresGeneratedCode = false;
            foreach (var attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? name = attribute.AttributeClass?.ToDisplayString();
                declaresGeneratedCode |= name == GeneratedCodeAttribute;
                var location = AttributeLocation(attribute, cancellationToken) ?? modelLocation;
                if (name == InputAttribute)
                {
                    input = ParseInput(attribute, location, diagnostics);
                }
                else if (name == BertParser.Attribute)
                {
                    bert = BertParser.Parse(attribute, location, diagnostics);
                }
                else if (name == DenseAttribute)
                {
                    layers.Add(ParseDense(attribute, location, layers, diagnostics));
                }
                else if (name == PatchEmbeddingAttribute || name == EncoderLayerAttribute || name == LayerNormAttribute ||
                         name == MeanPoolAttribute || name == QuantizationAttribute)
                {
                    transformer ??= new TransformerParser(modelLocation);
                    transformer.Add(name, attribute, location, diagnostics);
                }
            }

            var transformerSpec = bert is null ? transformer?.Finish(type.Name, diagnostics) : null;
            if (bert != null && (input != null || layers.Count > 0 || transformer != null))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, bert.Location,
                    $"The model '{type.Name}' is a [BertEncoder]: its input, layers and heads come from the weights, so it takes no [ModelInput], [Dense] or vision transformer attributes"));
            }
            else if (bert != null)
            {
                // nothing more to declare: the weights give the rest
            }
            else if (input is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, modelLocation,
                    $"The model '{type.Name}' declares no input; add [ModelInput(size, Scale = ..., ZeroPoint = ...)]"));
            }

            if (layers.Count == 0 && transformerSpec is null && bert is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, modelLocation,
                    $"The model '{type.Name}' declares no layers; add [Dense(name, outputs, ...)] attributes in order"));
            }

            var taken = kind is null ? CheckNames(type, transformerSpec != null || bert != null, identifierLocation, modelLocation, diagnostics) : new string[0];
            string? ns = NamespaceName(type.ContainingNamespace);
            string modifiers = (type.DeclaredAccessibility == Accessibility.Public ? "public " : "internal ") +
                (type.IsStatic ? "static " : "") + (type.IsSealed && !type.IsStatic ? "sealed " : "") + "partial class";
            return new ModelSpec(ns, type.Name, modifiers, weightsFile, calibration, input, new EquatableArray<DenseSpec>(layers.ToArray()),
                modelLocation, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()), transformerSpec)
            {
                TakenNames = new EquatableArray<string>(taken),
                DeclaresGeneratedCode = declaresGeneratedCode,
                Bert = bert,
            };
        }

        /// <summary>What a type declaration is, when it is not a class ("a record", ...); null for a class.</summary>
        private static string? TypeKind(TypeDeclarationSyntax syntax) => syntax switch
        {
            RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "a record struct" : "a record",
            StructDeclarationSyntax => "a struct",
            InterfaceDeclarationSyntax => "an interface",
            ClassDeclarationSyntax => null,
            _ => "not a class",
        };

        /// <summary>
        /// Reports (GEN016) every name of the user's class, and every type or namespace of an enclosing namespace, that
        /// the generated code would clash with (<see cref="GeneratedNames"/>); returns all the names the class has, which
        /// the generated layer-specific names then avoid.
        /// </summary>
        private static string[] CheckNames(INamedTypeSymbol type, bool transformer, LocationInfo? identifierLocation,
            LocationInfo? modelLocation, List<DiagnosticInfo> diagnostics)
        {
            var taken = new SortedSet<string>(StringComparer.Ordinal) { type.Name };
            if (GeneratedNames.Conflict(type.Name, transformer) is { } own)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNameConflict, identifierLocation,
                    $"The model class is named '{type.Name}', {own}; a member cannot have the name of its class, so rename the class"));
            }

            foreach (var member in type.GetMembers())
            {
                if (member.IsImplicitlyDeclared || !SyntaxFacts.IsValidIdentifier(member.Name)) continue; // .ctor, I.M, this[]
                Take(taken, member.Name);
                // An accessor (get_X of the user's property X) clashes only where X itself does, which X reports.
                if (member is IMethodSymbol { MethodKind: not MethodKind.Ordinary }) continue;
                if (GeneratedNames.Conflict(member.Name, transformer) is { } reason)
                {
                    var location = member.Locations.FirstOrDefault(l => l.IsInSource);
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNameConflict, From(location) ?? modelLocation,
                        $"The model class '{type.Name}' declares '{member.Name}', {reason}; rename it (Gen's names are listed in docs/diagnostics.md, GEN016)"));
                }
            }

            // Inherited members: a generated member of the same name would hide them.
            for (var baseType = type.BaseType; baseType != null; baseType = baseType.BaseType)
            {
                foreach (var member in baseType.GetMembers())
                {
                    if (member.DeclaredAccessibility != Accessibility.Private && SyntaxFacts.IsValidIdentifier(member.Name)) Take(taken, member.Name);
                }
            }

            // The generated code is inside the model's namespace, whose types and namespaces are found before its usings.
            foreach (var (name, expected) in GeneratedNames.Referenced)
            {
                for (var ns = type.ContainingNamespace; ns != null; ns = ns.ContainingNamespace)
                {
                    var hiding = ns.GetMembers(name).FirstOrDefault(m => expected is null || m.ContainingNamespace?.ToDisplayString() != expected);
                    if (hiding is null) continue;
                    string where = ns.IsGlobalNamespace ? "the global namespace" : $"the namespace '{ns.ToDisplayString()}'";
                    string what = GeneratedNames.Meaning(name, expected);
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNameConflict, modelLocation,
                        $"The {(hiding is INamespaceSymbol ? "namespace" : "type")} '{hiding.ToDisplayString()}' in {where} would hide {what} from the code generated for '{type.Name}'; rename it, or declare the model in another namespace"));
                    break;
                }
            }

            return taken.ToArray();
        }

        private static void Take(SortedSet<string> taken, string name)
        {
            taken.Add(name);
            foreach (string prefix in new[] { "get_", "set_", "add_", "remove_" })
            {
                if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal)) taken.Add(name.Substring(prefix.Length));
            }
        }

        /// <summary>The namespace's name as written in C#, each part unescaped (the emitter escapes keywords); null for the global one.</summary>
        private static string? NamespaceName(INamespaceSymbol? ns)
        {
            var parts = new List<string>();
            for (; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) parts.Insert(0, ns.Name);
            return parts.Count == 0 ? null : string.Join(".", parts);
        }

        private static LocationInfo? From(Location? location) =>
            location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

        /// <summary>Collects the transformer attributes of one class and checks that they describe one model.</summary>
        private sealed class TransformerParser
        {
            private readonly LocationInfo? _modelLocation;
            private readonly List<EncoderLayerSpec> _layers = new List<EncoderLayerSpec>();
            private readonly List<QuantizationSpec> _overrides = new List<QuantizationSpec>();
            private PatchEmbeddingSpec? _embedding;
            private QuantizationSpec? _norm;
            private QuantizationSpec? _pool;

            public TransformerParser(LocationInfo? modelLocation) => _modelLocation = modelLocation;

            public void Add(string kind, AttributeData attribute, LocationInfo? location, List<DiagnosticInfo> diagnostics)
            {
                var args = attribute.ConstructorArguments;
                if (kind == PatchEmbeddingAttribute)
                {
                    string name = args.Length == 5 && args[0].Value is string n ? n : "";
                    int At(int i) => args.Length == 5 && args[i].Value is int v ? v : 0;
                    int channels = Named(attribute, "Channels", 1);
                    float? scale = Optional<float>(attribute, "OutputScale");
                    int? zeroPoint = Optional<int>(attribute, "OutputZeroPoint");
                    RequireName(name, "[PatchEmbedding]", "embed", location, diagnostics);
                    var spec = new PatchEmbeddingSpec(name, At(1), At(2), channels, At(3), At(4), scale, zeroPoint, location);
                    string? problem = new TransformerShape(spec.ImageHeight, spec.ImageWidth, spec.Channels, spec.PatchSize, spec.Width,
                        name, new EncoderLayerShape[0], "", new HeadLayerShape[0]).Validate();
                    if (problem != null) diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, "[PatchEmbedding]: " + problem));
                    CheckScale($"[PatchEmbedding] '{name}' OutputScale", scale, location, diagnostics);
                    CheckZeroPoint($"[PatchEmbedding] '{name}' OutputZeroPoint", zeroPoint, location, diagnostics);
                    _embedding = spec;
                }
                else if (kind == EncoderLayerAttribute)
                {
                    string prefix = args.Length == 1 && args[0].Value is string p ? p : "";
                    int heads = Named(attribute, "Heads", 0), feedForward = Named(attribute, "FeedForward", 0), headSize = Named(attribute, "HeadSize", 0);
                    RequireName(prefix, "[EncoderLayer]", "blocks.0", location, diagnostics);
                    if (_layers.Exists(l => l.Prefix == prefix) && prefix.Length > 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, $"Encoder layer '{prefix}' is declared twice"));
                    }

                    if (heads <= 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                            $"Encoder layer '{prefix}' needs Heads = a positive number of attention heads; it is {heads.ToString(CultureInfo.InvariantCulture)}"));
                    }

                    if (feedForward <= 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                            $"Encoder layer '{prefix}' needs FeedForward = the positive hidden width of its feed-forward block; it is {feedForward.ToString(CultureInfo.InvariantCulture)}"));
                    }

                    if (headSize < 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                            $"Encoder layer '{prefix}': HeadSize must be positive when given; it is {headSize.ToString(CultureInfo.InvariantCulture)}"));
                    }

                    _layers.Add(new EncoderLayerSpec(prefix, heads, feedForward, headSize, location));
                }
                else if (kind == LayerNormAttribute || kind == MeanPoolAttribute)
                {
                    bool norm = kind == LayerNormAttribute;
                    string name = norm ? (args.Length == 1 && args[0].Value is string n ? n : "") : TransformerNames.Pool;
                    if (norm) RequireName(name, "[LayerNorm]", "norm", location, diagnostics);
                    float? scale = Optional<float>(attribute, "OutputScale");
                    int? zeroPoint = Optional<int>(attribute, "OutputZeroPoint");
                    string label = norm ? $"[LayerNorm] '{name}'" : "[MeanPool]";
                    CheckScale(label + " OutputScale", scale, location, diagnostics);
                    CheckZeroPoint(label + " OutputZeroPoint", zeroPoint, location, diagnostics);
                    var spec = new QuantizationSpec(name, scale, zeroPoint, location);
                    if (norm) _norm = spec; else _pool = spec;
                }
                else
                {
                    string name = args.Length == 3 && args[0].Value is string n ? n : "";
                    float scale = args.Length == 3 && args[1].Value is float f ? f : float.NaN;
                    int zeroPoint = args.Length == 3 && args[2].Value is int z ? z : 0;
                    RequireName(name, "[Quantization]", "blocks.0.attn.q", location, diagnostics);
                    if (_overrides.Exists(o => o.Name == name))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, $"[Quantization] sets '{name}' twice"));
                    }

                    CheckScale($"[Quantization] '{name}' scale", scale, location, diagnostics);
                    CheckZeroPoint($"[Quantization] '{name}' zero point", zeroPoint, location, diagnostics);
                    _overrides.Add(new QuantizationSpec(name, scale, zeroPoint, location));
                }
            }

            public TransformerSpec Finish(string className, List<DiagnosticInfo> diagnostics)
            {
                void Missing(string what) => diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, _modelLocation,
                    $"The transformer '{className}' declares no {what}"));
                if (_embedding is null) Missing("patch embedding; add [PatchEmbedding(name, imageHeight, imageWidth, patchSize, width)]");
                if (_norm is null) Missing("final LayerNorm; add [LayerNorm(name)] (e.g. [LayerNorm(\"norm\")])");
                if (_pool is null) Missing("pooling; add [MeanPool]");
                if (_embedding != null)
                {
                    foreach (var layer in _layers)
                    {
                        if (layer.Heads > 0 && _embedding.Width > 0 && _embedding.Width % layer.Heads != 0)
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, layer.Location,
                                $"Encoder layer '{layer.Prefix}': {layer.Heads.ToString(CultureInfo.InvariantCulture)} heads do not divide the width {_embedding.Width.ToString(CultureInfo.InvariantCulture)}"));
                        }
                        else if (layer.Heads > 0 && layer.HeadSize > 0 && _embedding.Width != layer.Heads * layer.HeadSize)
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, layer.Location,
                                $"Encoder layer '{layer.Prefix}': {layer.Heads.ToString(CultureInfo.InvariantCulture)} heads of HeadSize {layer.HeadSize.ToString(CultureInfo.InvariantCulture)} make {(layer.Heads * layer.HeadSize).ToString(CultureInfo.InvariantCulture)} features, but the model width is {_embedding.Width.ToString(CultureInfo.InvariantCulture)}"));
                        }
                    }
                }

                return new TransformerSpec(_embedding, new EquatableArray<EncoderLayerSpec>(_layers.ToArray()), _norm, _pool,
                    new EquatableArray<QuantizationSpec>(_overrides.ToArray()));
            }

            private static void RequireName(string name, string attribute, string example, LocationInfo? location, List<DiagnosticInfo> diagnostics)
            {
                if (name.Trim().Length == 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                        $"{attribute} needs the name that prefixes its tensors (e.g. \"{example}\")"));
                }
            }
        }

        private static InputSpec ParseInput(AttributeData attribute, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            int size = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int s ? s : 0;
            float? scale = Optional<float>(attribute, "Scale");
            int? zeroPoint = Optional<int>(attribute, "ZeroPoint");
            if (size <= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                    $"The input size must be positive; it is {size.ToString(CultureInfo.InvariantCulture)}"));
            }

            CheckScale("The input Scale", scale, location, diagnostics);
            CheckZeroPoint("The input ZeroPoint", zeroPoint, location, diagnostics);
            return new InputSpec(size, scale, zeroPoint, location);
        }

        private static DenseSpec ParseDense(AttributeData attribute, LocationInfo? location, List<DenseSpec> previous, List<DiagnosticInfo> diagnostics)
        {
            var args = attribute.ConstructorArguments;
            string name = args.Length == 2 && args[0].Value is string n ? n : "";
            int outputs = args.Length == 2 && args[1].Value is int o ? o : 0;
            int activation = Named(attribute, "Activation", 0);
            float? scale = Optional<float>(attribute, "OutputScale");
            int? zeroPoint = Optional<int>(attribute, "OutputZeroPoint");
            int weights = Named(attribute, "Weights", 0);
            string label = $"Layer '{name}'";

            if (name.Trim().Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                    "A [Dense] layer needs the name that prefixes its tensors (e.g. \"fc1\" for fc1.weight)"));
            }
            else if (previous.Exists(p => p.Name == name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                    $"Layer name '{name}' is declared twice"));
            }

            if (outputs <= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location,
                    $"{label} must have a positive number of outputs; it has {outputs.ToString(CultureInfo.InvariantCulture)}"));
            }

            if (activation < 0 || activation > 2)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, location,
                    $"{label}: activation {activation.ToString(CultureInfo.InvariantCulture)} is not supported; use Activation.None, Relu or Relu6"));
            }

            if (weights < 0 || weights > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, location,
                    $"{label}: weight quantization {weights.ToString(CultureInfo.InvariantCulture)} is not supported; use WeightQuantization.PerChannel or PerTensor"));
            }

            CheckScale($"{label} OutputScale", scale, location, diagnostics);
            CheckZeroPoint($"{label} OutputZeroPoint", zeroPoint, location, diagnostics);
            return new DenseSpec(name, outputs, activation, scale, zeroPoint, weights, location);
        }

        /// <summary>Checks a scale written in an attribute (one left out is resolved later, from a calibration file).</summary>
        public static void CheckScale(string what, float? value, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            if (value is not float scale) return;
            if (!(scale > 0) || float.IsInfinity(scale))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ScaleInvalid, location, what,
                    scale.ToString("R", CultureInfo.InvariantCulture)));
            }
        }

        /// <summary>Checks a zero point written in an attribute.</summary>
        public static void CheckZeroPoint(string what, int? value, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            if (value is not int zeroPoint) return;
            if (zeroPoint < -128 || zeroPoint > 127)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ZeroPointOutOfRange, location, what,
                    zeroPoint.ToString(CultureInfo.InvariantCulture)));
            }
        }

        private static T? Optional<T>(AttributeData attribute, string name) where T : struct
        {
            foreach (var pair in attribute.NamedArguments)
            {
                if (pair.Key == name && pair.Value.Value is T value) return value;
            }

            return null;
        }

        private static T Named<T>(AttributeData attribute, string name, T fallback)
        {
            foreach (var pair in attribute.NamedArguments)
            {
                if (pair.Key == name && pair.Value.Value is T value) return value;
            }

            return fallback;
        }

        private static LocationInfo? AttributeLocation(AttributeData attribute, CancellationToken cancellationToken) =>
            LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken));
    }
}
