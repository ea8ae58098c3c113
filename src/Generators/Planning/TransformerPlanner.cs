using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Kernels;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Turns a transformer declaration and its weights into a <see cref="TransformerPlan"/>: settles the quantization
    /// of every activation, quantizes the model with the shared <see cref="QuantizedTransformer"/> (the code the
    /// reference interpreter uses too), and packs each dense layer for the kernels.
    /// </summary>
    internal static class TransformerPlanner
    {
        public static ModelPlan Plan(ModelSpec spec, WeightsFileSpec file, EquatableArray<CalibrationFileSpec> calibrations,
            CompilationFacts facts, List<DiagnosticInfo> diagnostics)
        {
            var declared = spec.Transformer!;
            var embedding = declared.Embedding!;
            var input = spec.Input!;
            ModelPlan Failed() => new ModelPlan(spec.Namespace, spec.ClassName, spec.Modifiers, spec.WeightsFile, input.Size, 0, 0,
                EquatableArray<DenseLayerPlan>.Empty, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));

            var shape = Shape(spec);
            // The whole shape, layers included, before any size is used: a product that does not fit stops here.
            if (shape.SizeProblem() is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, embedding.Location, problem));
                return Failed();
            }

            if (shape.InputSize != input.Size)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, input.Location, string.Format(CultureInfo.InvariantCulture,
                    "The input has {0} values but [PatchEmbedding] declares a {1} x {2} x {3} image ({4} values)",
                    input.Size, shape.Channels, shape.ImageHeight, shape.ImageWidth, shape.InputSize)));
            }

            var known = new HashSet<string>(TransformerNames.Activations(shape), StringComparer.Ordinal);
            foreach (var o in declared.Overrides.Where(o => !known.Contains(o.Name)))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, o.Location,
                    $"[Quantization] names '{o.Name}', which is not an activation of this model (they are: {string.Join(", ", known.Take(14))}, ...)"));
            }

            if (diagnostics.Count > 0) return Failed();

            var parameters = ParameterResolver.ResolveNamed(spec, file.SourcePath, calibrations, Requests(spec), diagnostics);
            if (parameters is null) return Failed();

            QuantizedTransformer model;
            try
            {
                if (file.Error != null) throw new FormatException(file.Error);
                model = QuantizedTransformer.Create(shape, SafeTensorsFile.Parse(file.Bytes.AsArray()), name => parameters[name]);
            }
            catch (FormatException e)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileUnreadable, spec.Location, spec.WeightsFile, e.Message));
                return Failed();
            }
            catch (ModelDefinitionException e)
            {
                diagnostics.Add(Problem(e, spec));
                return Failed();
            }

            var plan = Build(model, spec, facts);
            return new ModelPlan(spec.Namespace, spec.ClassName, spec.Modifiers, spec.WeightsFile, shape.InputSize, model.Input.Scale,
                model.Input.ZeroPoint, EquatableArray<DenseLayerPlan>.Empty, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()), plan);
        }

        /// <summary>The declared architecture as the shared code describes it.</summary>
        internal static TransformerShape Shape(ModelSpec spec)
        {
            var t = spec.Transformer!;
            var e = t.Embedding!;
            return new TransformerShape(e.ImageHeight, e.ImageWidth, e.Channels, e.PatchSize, e.Width, e.Name,
                t.Layers.Select(l => new EncoderLayerShape(l.Prefix, l.Heads, l.FeedForward)).ToArray(), t.FinalNorm!.Name,
                spec.Layers.Select(d => new HeadLayerShape(d.Name, d.Outputs, (FusedActivation)d.Activation)).ToArray());
        }

        /// <summary>Every activation with what the attributes say about it and where a missing value is reported.</summary>
        private static List<QuantizationSpec> Requests(ModelSpec spec)
        {
            var t = spec.Transformer!;
            var overrides = t.Overrides.ToDictionary(o => o.Name, StringComparer.Ordinal);
            var requests = new List<QuantizationSpec>();
            void Add(string name, float? scale, int? zeroPoint, LocationInfo? location)
            {
                if (overrides.TryGetValue(name, out var o)) requests.Add(o);
                else requests.Add(new QuantizationSpec(name, scale, zeroPoint, location));
            }

            var e = t.Embedding!;
            Add(TransformerNames.Input, spec.Input!.Scale, spec.Input.ZeroPoint, spec.Input.Location);
            Add(TransformerNames.PatchOutput(e.Name), null, null, e.Location);
            Add(TransformerNames.EmbeddingOutput(e.Name), e.OutputScale, e.OutputZeroPoint, e.Location);
            foreach (var layer in t.Layers)
            {
                foreach (string name in TransformerNames.LayerActivations(layer.Prefix)) Add(name, null, null, layer.Location);
            }

            Add(t.FinalNorm!.Name, t.FinalNorm.Scale, t.FinalNorm.ZeroPoint, t.FinalNorm.Location);
            Add(TransformerNames.Pool, t.Pool!.Scale, t.Pool.ZeroPoint, t.Pool.Location);
            foreach (var dense in spec.Layers) Add(dense.Name, dense.OutputScale, dense.OutputZeroPoint, dense.Location);
            return requests;
        }

        private static DiagnosticInfo Problem(ModelDefinitionException e, ModelSpec spec)
        {
            var t = spec.Transformer!;
            LocationInfo? location =
                t.Embedding!.Name == e.Component ? t.Embedding.Location :
                t.Layers.FirstOrDefault(l => l.Prefix == e.Component)?.Location ??
                (t.FinalNorm!.Name == e.Component ? t.FinalNorm.Location : null) ??
                spec.Layers.FirstOrDefault(d => d.Name == e.Component)?.Location ?? spec.Location;
            return e.Problem switch
            {
                ModelProblem.TensorMissing => DiagnosticInfo.Create(DiagnosticDescriptors.TensorMissing, location, e.Component, e.Tensor, e.Detail),
                ModelProblem.ShapeMismatch => DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, location, e.Tensor, e.Detail, e.Expected),
                // As for a dense model: a NaN or infinite weight is an invalid declaration (GEN011), a tensor type Gen
                // cannot use an unsupported option (GEN010), each message starting with the declared part at fault.
                ModelProblem.NotFinite => DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, $"Layer '{e.Component}': {e.Message}"),
                ModelProblem.UnsupportedType => DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, location, $"Layer '{e.Component}': {e.Message}"),
                _ => DiagnosticInfo.Create(DiagnosticDescriptors.TransformerOutOfRange, location, e.Message),
            };
        }

        private static TransformerPlan Build(QuantizedTransformer model, ModelSpec spec, CompilationFacts facts)
        {
            var shape = model.Shape;
            DenseLayerPlan Dense(QuantizedDense d, int activation = 0) => ModelPlanner.Pack(d, activation, false, facts);

            var layers = model.Layers.Select(l => new EncoderLayerPlan(
                l.Shape.Prefix, l.Shape.Heads, l.HeadSize, l.Shape.FeedForward,
                LayerNormEmitPlan.From(TransformerNames.Norm1(l.Shape.Prefix), l.Norm1),
                Dense(l.Query), Dense(l.Key), Dense(l.Value),
                SoftmaxEmitPlan.From(l.Softmax),
                l.ContextMultiplier, -l.ContextShift, l.Context.ZeroPoint,
                Dense(l.Output), AddPlan.From(l.AttentionResidual),
                LayerNormEmitPlan.From(TransformerNames.Norm2(l.Shape.Prefix), l.Norm2),
                Dense(l.Fc1), new EquatableArray<sbyte>(GeluTable(l.Gelu)), l.Gelu.Describe(),
                Dense(l.Fc2), AddPlan.From(l.FeedForwardResidual))).ToArray();

            var head = model.Head.Select((d, i) => Dense(d, spec.Layers[i].Activation)).ToArray();
            return new TransformerPlan(shape.ImageHeight, shape.ImageWidth, shape.Channels, shape.PatchSize, shape.Width, shape.Tokens,
                Dense(model.Patch), new EquatableArray<sbyte>(model.Position), model.PositionQuantization.Scale, AddPlan.From(model.PositionAdd),
                new EquatableArray<EncoderLayerPlan>(layers), LayerNormEmitPlan.From(shape.FinalNorm, model.FinalNorm),
                model.FinalNorm.OutputZeroPoint, model.PoolMultiplier, -model.PoolShift, model.Pool.ZeroPoint, model.Pool.Scale,
                new EquatableArray<DenseLayerPlan>(head), model.Output.Scale, model.Output.ZeroPoint);
        }

        /// <summary>
        /// GELU of every INT8 input: 256 values of the integer i-GELU kernel (the interpreter's), computed here once.
        /// An INT8 input has only 256 values, so the generated code looks its result up instead of evaluating the
        /// polynomial per element; the table is the kernel's output, bit for bit.
        /// </summary>
        private static sbyte[] GeluTable(GeluPlan plan)
        {
            var table = new sbyte[256];
            for (int q = -128; q <= 127; q++) table[q + 128] = IntGelu.GeluInt8((sbyte)q, plan);
            return table;
        }
    }
}
