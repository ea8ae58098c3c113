using System;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Emitting;
using Gen.Generators.Model;
using Gen.Generators.Parsing;
using Gen.Generators.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Gen.Generators
{
    /// <summary>
    /// The pipeline: attributes → <see cref="ModelSpec"/> (Parse), weights files → <see cref="WeightsFileSpec"/> and
    /// quantization-parameter files → <see cref="CalibrationFileSpec"/>, combined → <see cref="ModelPlan"/> (Plan) → C# (Emit). Every step's output is an equatable value, so an edit
    /// that changes neither the attributes nor the weights reuses the cached source.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ModelGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking names of the pipeline steps, for caching tests.</summary>
        public static class Steps
        {
            /// <summary>Attributes parsed into a model spec.</summary>
            public const string Specs = "Gen.Specs";

            /// <summary>Weights files decoded.</summary>
            public const string WeightsFiles = "Gen.WeightsFiles";

            /// <summary>All weights files collected.</summary>
            public const string AllWeights = "Gen.AllWeights";

            /// <summary>Facts about the user's compilation (available instruction-set APIs).</summary>
            public const string Facts = "Gen.Facts";

            /// <summary>All quantization-parameter files collected.</summary>
            public const string AllCalibrations = "Gen.AllCalibrations";

            /// <summary>The project folder and weights candidates from the build step (global options).</summary>
            public const string Project = "Gen.Project";

            /// <summary>Quantized, checked model plans.</summary>
            public const string Plans = "Gen.Plans";
        }

        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var specs = context.SyntaxProvider
                .ForAttributeWithMetadataName(ModelParser.ModelAttribute,
                    // Records, structs and interfaces too, so that they get GEN015 rather than silence. A type whose name did
                    // not parse is left to the compiler's syntax error: there is nothing to name.
                    static (node, _) => node is TypeDeclarationSyntax { Identifier.IsMissing: false },
                    static (ctx, ct) => ModelParser.Parse(ctx, ct))
                .WithTrackingName(Steps.Specs);

            var weights = context.AdditionalTextsProvider
                .Where(static text => WeightsFileReader.IsWeightsFile(text))
                .Select(static (text, ct) => WeightsFileReader.Read(text, ct))
                .WithTrackingName(Steps.WeightsFiles)
                .Collect()
                .Select(static (files, _) => new EquatableArray<WeightsFileSpec>(files.OrderBy(f => f.SourcePath, StringComparer.Ordinal).ToArray()))
                .WithTrackingName(Steps.AllWeights);

            var calibrations = context.AdditionalTextsProvider
                .Where(static text => CalibrationFileReader.IsCalibrationFile(text))
                .Select(static (text, ct) => CalibrationFileReader.Read(text, ct))
                .Collect()
                .Select(static (files, _) => new EquatableArray<CalibrationFileSpec>(files.OrderBy(f => f.Path, StringComparer.Ordinal).ToArray()))
                .WithTrackingName(Steps.AllCalibrations);

            // Only a tiny equatable record of the compilation reaches the pipeline, so edits do not invalidate it.
            var facts = context.CompilationProvider
                .Select(static (compilation, _) => ReadFacts(compilation))
                .WithTrackingName(Steps.Facts);

            // The project folder (attribute paths resolve against it), as a small value: options rarely change.
            var project = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => ProjectOptions.Read(options.GlobalOptions))
                .WithTrackingName(Steps.Project);

            var plans = specs.Combine(weights).Combine(calibrations).Combine(facts).Combine(project)
                .Select(static (pair, _) => SafePlan(pair.Left.Left.Left.Left, pair.Left.Left.Left.Right, pair.Left.Left.Right, pair.Left.Right, pair.Right))
                .WithTrackingName(Steps.Plans);

            context.RegisterSourceOutput(plans, static (spc, plan) => Emit(spc, plan));
        }

        /// <summary>What the target framework offers the kernels, read from the user's compilation.</summary>
        internal static CompilationFacts ReadFacts(Compilation compilation)
        {
            var avxVnni = compilation.GetTypeByMetadataName("System.Runtime.Intrinsics.X86.AvxVnni");
            if (avxVnni is null) return new CompilationFacts(HasAvxVnni: false, WideVnniNeedsVersionCheck: false);

            // .NET 8 ships AvxVnni as a preview API ([RequiresPreviewFeatures]): every use in a project that has not
            // opted into preview features is error CA2252 (126 of them in a small model's generated file). Suppressing
            // CA2252 in the generated file would only hide that the user's assembly then depends on an API .NET 8 does
            // not support, so a net8.0 project gets no AVX-VNNI path at all; its AVX-512BW and AVX2 kernels give the
            // same bits (and, rolled forward to a newer runtime, still run there). From .NET 9 on AvxVnni is a
            // supported API.
            foreach (var attribute in avxVnni.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "RequiresPreviewFeaturesAttribute" } type &&
                    type.ContainingNamespace?.ToDisplayString() == "System.Runtime.Versioning")
                {
                    return new CompilationFacts(HasAvxVnni: false, WideVnniNeedsVersionCheck: false);
                }
            }

            // .NET 9's code generator miscompiles the 4-row, two-panel AVX-VNNI kernel (NativeAOT 9.0.20, measured); .NET
            // 10's compiles it correctly (NativeAOT 10.0.12 and the JIT, measured). A program built against .NET 10 or
            // later never runs on .NET 9, so only an older target framework (a net9.0 project, which may also roll
            // forward to .NET 10) needs the run-time check that falls back to the one-panel kernel on .NET 9. The
            // version is that of the assembly defining AvxVnni: System.Runtime.Intrinsics (reference assemblies) or
            // System.Private.CoreLib, both versioned with the framework.
            //
            // .NET 11 nests the 512-bit forms in AvxVnni.V512 (EVEX vpdpbusd on zmm registers, which needs AVX512-VNNI or
            // AVX10): only a bool reaches the pipeline, never the symbol.
            bool v512 = compilation.GetTypeByMetadataName("System.Runtime.Intrinsics.X86.AvxVnni+V512") is { DeclaredAccessibility: Accessibility.Public };
            return new CompilationFacts(HasAvxVnni: true, WideVnniNeedsVersionCheck: avxVnni.ContainingAssembly.Identity.Version.Major < 10, HasAvxVnni512: v512);
        }

        private static ModelPlan SafePlan(ModelSpec spec, EquatableArray<WeightsFileSpec> files,
            EquatableArray<CalibrationFileSpec> calibrations, CompilationFacts facts, ProjectOptions project)
        {
            try
            {
                return ModelPlanner.Plan(spec, files, calibrations, facts, project) with { TakenNames = spec.TakenNames, DeclaresGeneratedCode = spec.DeclaresGeneratedCode };
            }
            catch (Exception e)
            {
                // The generator never throws: an unexpected failure becomes a diagnostic on the model.
                var info = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, spec.Location, e.GetType().Name + ": " + e.Message);
                return new ModelPlan(spec.Namespace, spec.ClassName, spec.Modifiers, spec.WeightsFile, 0, 0, 0,
                    null, new EquatableArray<DiagnosticInfo>(new[] { info }));
            }
        }

        private static void Emit(SourceProductionContext context, ModelPlan plan)
        {
            foreach (var d in plan.Diagnostics)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ById(d.Id), d.Location?.ToLocation(), d.Arguments.AsArray()));
            }

            if (!plan.CanEmit || plan.Diagnostics.Length > 0) return;
            string model, boundary;
            try
            {
                // The symbol's name is the identifier without '@': a class named '@class' is emitted as '@class'.
                var spelled = plan with { ClassName = Identifier(plan.ClassName) };
                model = ModelEmitter.EmitModel(spelled);
                boundary = ModelEmitter.EmitBoundary(spelled);
            }
            catch (Exception e)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, null, e.GetType().Name + ": " + e.Message));
                return;
            }

            string hint = HintName(plan.HintName);
            context.AddSource(hint + ".g.cs", SourceText.From(model, System.Text.Encoding.UTF8));
            context.AddSource(hint + ".Boundary.g.cs", SourceText.From(boundary, System.Text.Encoding.UTF8));
            var graph = plan.Graph!;
            var dense = graph.DenseLayers();
            long weightBytes = dense.Sum(l => (long)l.InputSize * l.OutputSize);
            string routes = string.Join("; ", dense.Select(l => string.Format(CultureInfo.InvariantCulture,
                "'{0}' {1} route ({2}/{4} channels pass the pair proof, {3}/{4} the two-step int16 proof)",
                l.Name, l.Route, l.PairSafeChannels, l.QuadSafeChannels, l.OutputSize)));
            long Constant(string name) => graph.Constants.FirstOrDefault(c => c.Name == name)?.Value ?? 0;
            string shape = plan.IsTransformer
                ? string.Format(CultureInfo.InvariantCulture, "vision transformer, {0} tokens of width {1}, {2} encoder layers, {3} dense layers",
                    Constant("Tokens"), Constant("Width"), Constant("LayerCount"), dense.Length)
                : string.Format(CultureInfo.InvariantCulture, "{0} layers", dense.Length);
            // The paths the generated KernelPath enum has, best first (what SelectPath chooses from).
            var paths = ModelEmitter.KernelPaths(graph.EmitVnni, graph.EmitVnni512).Select(p => p.Name).Reverse().ToArray();
            string kernels = string.Join(", ", paths.Take(paths.Length - 1)) + " and " + paths[paths.Length - 1];
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.PlanSummary, null, plan.ClassName,
                string.Format(CultureInfo.InvariantCulture, "{0}, {1} INT8 weights; {2}; kernel paths {3}, the best the CPU supports chosen at run time (ActivePath)",
                    shape, weightBytes, routes, kernels)));
        }

        /// <summary>A name as C# source spells it: a reserved keyword needs its '@'.</summary>
        private static string Identifier(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        /// <summary>
        /// A hint name the compiler accepts (letters, digits, '.', '_'): a namespace displays as '@if' when it is a
        /// keyword, and identifiers may hold combining or connecting characters. Other characters become _uXXXX.
        /// </summary>
        private static string HintName(string name)
        {
            var sb = new System.Text.StringBuilder(name.Length);
            foreach (char c in name)
            {
                if (char.IsLetterOrDigit(c) || c == '.' || c == '_') sb.Append(c);
                else if (c != '@') sb.Append("_u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }

            return sb.ToString();
        }
    }
}
