using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Generators.Parsing;
using Gen.Generators.Planning.Frontends;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Turns a declaration and its weights into a <see cref="ModelPlan"/>: the family's frontend builds the graph, every
    /// activation's scale and zero point is settled, the shared <see cref="QuantizedGraph"/> quantizes every op (the code
    /// the reference interpreter uses too), and <see cref="GraphPlanner"/> makes each node ready to emit. All floating-point
    /// work of the model happens here, once, at compile time. Every problem an op finds comes back as one diagnostic at
    /// the attribute that declared it.
    /// </summary>
    internal static class ModelPlanner
    {
        public static ModelPlan Plan(ModelSpec spec, EquatableArray<WeightsFileSpec> files, EquatableArray<CalibrationFileSpec> calibrations,
            CompilationFacts facts, ProjectOptions? project = null)
        {
            project ??= ProjectOptions.None;
            var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
            QuantizedGraph? quantized = null;
            GraphPlan? graphPlan = null;
            ModelPlan Result() => new ModelPlan(spec.Namespace, spec.ClassName, spec.Modifiers, spec.WeightsFile,
                spec.Input?.Size ?? 0, quantized?.Input.Scale ?? 0, quantized?.Input.ZeroPoint ?? 0,
                diagnostics.Count == 0 ? graphPlan : null, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));

            if (diagnostics.Count > 0 || (spec.Input is null && spec.Bert is null))
            {
                return Result(); // the declaration itself is wrong: say so before looking at weights
            }

            var file = FindWeights(spec, files, project, diagnostics);
            if (file is null) return Result();

            var problems = new ProblemList();
            if (spec.Bert != null) return PlanBert(spec, file, calibrations, facts, problems, diagnostics, Result, q => quantized = q, g => graphPlan = g);

            // The frontend: attributes to graph. Shape problems are reported before any weight is read.
            var declared = spec.Transformer != null
                ? VisionTransformerDeclaration.Build(spec, problems, diagnostics)
                : DenseDeclaration.Build(spec, problems);
            if (declared is null) return Result();
            Report(problems, declared, spec, diagnostics);
            if (diagnostics.Count > 0) return Result();

            var parameters = spec.Transformer != null
                ? ParameterResolver.ResolveNamed(spec, file.SourcePath, calibrations, declared.Requests, diagnostics)
                : Named(ParameterResolver.Resolve(spec, file.SourcePath, calibrations, diagnostics), declared.Requests);
            if (parameters is null) return Result();

            SafeTensorsFile tensors;
            try
            {
                if (file.Error != null) throw new FormatException(file.Error);
                tensors = SafeTensorsFile.Parse(file.Bytes.AsArray());
            }
            catch (FormatException e)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileUnreadable, spec.Location, spec.WeightsFile, e.Message));
                return Result();
            }

            quantized = QuantizedGraph.TryCreate(declared.Graph, tensors, name => parameters[name], problems);
            Report(problems, declared, spec, diagnostics);
            if (quantized is null || diagnostics.Count > 0) return Result();
            graphPlan = GraphPlanner.Plan(quantized, spec, facts);
            return Result();
        }

        // A BERT encoder: the checkpoint itself gives the shape (checked against the attribute), so it is read first.
        private static ModelPlan PlanBert(ModelSpec spec, WeightsFileSpec file, EquatableArray<CalibrationFileSpec> calibrations, CompilationFacts facts,
            ProblemList problems, List<DiagnosticInfo> diagnostics, Func<ModelPlan> result, Action<QuantizedGraph> setQuantized, Action<GraphPlan> setPlan)
        {
            var built = BertDeclaration.Build(spec, file, problems, diagnostics);
            if (built is null) return result();
            var (declared, weights) = built.Value;
            Report(problems, declared, spec, diagnostics);
            if (diagnostics.Count > 0) return result();
            var parameters = ParameterResolver.ResolveNamed(spec, file.SourcePath, calibrations, declared.Requests, diagnostics);
            if (parameters is null) return result();
            var quantized = QuantizedGraph.TryCreate(declared.Graph, weights, name => parameters[name], problems);
            Report(problems, declared, spec, diagnostics);
            if (quantized is null || diagnostics.Count > 0) return result();
            setQuantized(quantized);
            setPlan(GraphPlanner.Plan(quantized, spec, facts));
            return result();
        }

        /// <summary>Each problem the frontend or an op reported, as its diagnostic at the attribute of its origin.</summary>
        private static void Report(ProblemList problems, DeclaredGraph declared, ModelSpec spec, List<DiagnosticInfo> diagnostics)
        {
            foreach (var p in problems.All)
            {
                var descriptor = p.Kind switch
                {
                    ModelProblem.TensorMissing => DiagnosticDescriptors.TensorMissing,
                    ModelProblem.ShapeMismatch => DiagnosticDescriptors.ShapeMismatch,
                    ModelProblem.OutOfRange => DiagnosticDescriptors.TransformerOutOfRange,
                    ModelProblem.UnsupportedType => DiagnosticDescriptors.UnsupportedOption,
                    ModelProblem.MultiplierOutOfRange => DiagnosticDescriptors.MultiplierOutOfRange,
                    ModelProblem.AccumulatorOverflow => DiagnosticDescriptors.AccumulatorOverflow,
                    ModelProblem.IntermediateOverflow => DiagnosticDescriptors.IntermediateOverflow,
                    ModelProblem.ScaleInvalid => DiagnosticDescriptors.ScaleInvalid,
                    _ => DiagnosticDescriptors.InvalidDeclaration, // NotFinite, InvalidDeclaration
                };
                var info = DiagnosticInfo.Create(descriptor, declared.Location(p.Origin, spec.Location), p.Arguments.ToArray());
                if (!diagnostics.Contains(info)) diagnostics.Add(info);
            }
        }

        // The MLP's parameters come in declaration order (the input, then each layer): by activation name.
        private static Dictionary<string, QuantizationParameters>? Named(QuantizationParameters[]? values, IReadOnlyList<QuantizationSpec> requests)
        {
            if (values is null) return null;
            var named = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
            for (int i = 0; i < values.Length; i++) named[requests[i].Name] = values[i];
            return named;
        }

        /// <summary>The weights file the attribute names (see <see cref="WeightsPaths"/>), or null after GEN002 / GEN014.</summary>
        private static WeightsFileSpec? FindWeights(ModelSpec spec, EquatableArray<WeightsFileSpec> files, ProjectOptions project,
            List<DiagnosticInfo> diagnostics)
        {
            var matches = WeightsPaths.Resolve(spec.WeightsFile, project.Directory, files.Select(f => f.SourcePath).ToList());
            if (matches.Count == 1) return files[matches[0]];
            if (matches.Count > 1)
            {
                var names = matches.Select(i => WeightsPaths.Display(files[i].SourcePath, project.Directory)).OrderBy(n => n, StringComparer.Ordinal).ToList();
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileAmbiguous, spec.Location, spec.WeightsFile,
                    string.Join(", ", names.Select(n => "'" + n + "'")), names[0]));
                return null;
            }

            // What exists, to catch a typo: every candidate the build step saw, else the files that reached the generator.
            var known = (project.WeightsFiles.Length > 0 ? project.WeightsFiles.AsArray() : files.Select(f => f.SourcePath))
                .Select(p => project.Directory is null ? System.IO.Path.GetFileName(p) : WeightsPaths.Display(p, project.Directory))
                .OrderBy(p => p, StringComparer.Ordinal).ToArray();
            const int Shown = 10;
            string hint = known.Length == 0 ? ""
                : " (found: " + string.Join(", ", known.Take(Shown)) + (known.Length > Shown ? string.Format(CultureInfo.InvariantCulture, " and {0} more", known.Length - Shown) : "") + ")";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileMissing, spec.Location, spec.WeightsFile, hint));
            return null;
        }
    }
}
