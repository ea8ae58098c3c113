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
    /// Turns a declaration and its weights into a <see cref="ModelPlan"/>: finds the tensors, checks shapes,
    /// quantizes weights and biases, derives multipliers, folds the input zero point into the bias and proves that
    /// no accumulator can overflow. All floating-point work of the model happens here, once, at compile time.
    /// </summary>
    internal static class ModelPlanner
    {
        public static ModelPlan Plan(ModelSpec spec, EquatableArray<WeightsFileSpec> files, EquatableArray<CalibrationFileSpec> calibrations,
            CompilationFacts facts, ProjectOptions? project = null)
        {
            project ??= ProjectOptions.None;
            var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
            var layers = new List<DenseLayerPlan>();
            QuantizationParameters input = default;
            ModelPlan Result() => new ModelPlan(spec.Namespace, spec.ClassName, spec.Modifiers, spec.WeightsFile,
                spec.Input?.Size ?? 0, input.Scale, input.ZeroPoint,
                new EquatableArray<DenseLayerPlan>(layers.ToArray()), new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));

            if (diagnostics.Count > 0 || spec.Input is null)
            {
                return Result(); // the declaration itself is wrong: say so before looking at weights
            }

            var file = FindWeights(spec, files, project, diagnostics);
            if (file is null) return Result();
            if (spec.Transformer != null) return TransformerPlanner.Plan(spec, file, calibrations, facts, diagnostics);
            var parameters = ParameterResolver.Resolve(spec, file.SourcePath, calibrations, diagnostics);
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

            input = parameters[0];
            var current = input;
            int inputSize = spec.Input.Size;
            for (int i = 0; i < spec.Layers.Length; i++)
            {
                var layer = spec.Layers[i];
                var output = parameters[i + 1];
                var planned = PlanDense(layer, inputSize, current, output, tensors, diagnostics, facts);
                if (planned is null) break; // later layers' shapes depend on this one: stop at the first broken layer
                layers.Add(planned);
                inputSize = layer.Outputs;
                current = output;
            }

            if (diagnostics.Count > 0) layers.Clear();
            return Result();
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

        private static DenseLayerPlan? PlanDense(DenseSpec layer, int inputSize, QuantizationParameters input,
            QuantizationParameters output, SafeTensorsFile file, List<DiagnosticInfo> diagnostics, CompilationFacts facts)
        {
            int before = diagnostics.Count;
            string weightName = layer.Name + ".weight", biasName = layer.Name + ".bias", scaleName = layer.Name + ".weight_scale";
            string expected = $"[{layer.Outputs.ToString(CultureInfo.InvariantCulture)}, {inputSize.ToString(CultureInfo.InvariantCulture)}]";
            if (!file.Tensors.TryGetValue(weightName, out var weight))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorMissing, layer.Location, layer.Name, weightName, TensorList(file)));
                return null;
            }

            if (weight.Shape.Length != 2 || weight.Shape[0] != layer.Outputs || weight.Shape[1] != inputSize)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, layer.Location, weightName, weight.ShapeText,
                    expected + $" ({layer.Outputs.ToString(CultureInfo.InvariantCulture)} outputs of layer '{layer.Name}' x {inputSize.ToString(CultureInfo.InvariantCulture)} inputs from the previous layer)"));
                return null;
            }

            file.Tensors.TryGetValue(biasName, out var bias);
            if (bias != null && (bias.Shape.Length != 1 || bias.Shape[0] != layer.Outputs))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, layer.Location, biasName, bias.ShapeText,
                    $"[{layer.Outputs.ToString(CultureInfo.InvariantCulture)}]"));
                return null;
            }

            QuantizedDense dense;
            bool preQuantized = weight.DataType == "I8";
            try
            {
                if (weight.DataType == "F32")
                {
                    if (bias != null && bias.DataType != "F32")
                    {
                        diagnostics.Add(Unsupported(layer, $"'{biasName}' is {bias.DataType}; with float weights the bias must be F32"));
                        return null;
                    }

                    float[] w = file.ReadFloat32(weight);
                    if (!CheckFinite(w, weightName, layer, diagnostics)) return null;
                    float[]? b = bias is null ? null : file.ReadFloat32(bias);
                    if (b != null && !CheckFinite(b, biasName, layer, diagnostics)) return null;
                    dense = QuantizedDense.FromFloat(layer.Name, inputSize, layer.Outputs, input, output,
                        (FusedActivation)layer.Activation, w, b, perChannel: layer.WeightQuantization == 0);
                }
                else if (preQuantized)
                {
                    dense = PreQuantized(layer, inputSize, input, output, file, weight, bias, scaleName, diagnostics)!;
                    if (dense is null) return null;
                }
                else
                {
                    diagnostics.Add(Unsupported(layer, $"'{weightName}' is {weight.DataType}; Gen reads F32 weights (quantized at build time) or I8 weights with an F32 '{scaleName}' tensor"));
                    return null;
                }
            }
            catch (OverflowException e)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, layer.Location, $"Layer '{layer.Name}': {e.Message}"));
                return null;
            }
            catch (Exception e) when (e is ArgumentException || e is FormatException)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, layer.Location, $"Layer '{layer.Name}': {QuantizedTransformer.Reason(e)}"));
                return null;
            }

            for (int c = 0; c < dense.Multipliers.Length; c++)
            {
                double real = dense.RealMultipliers[c];
                string value = real.ToString("G9", CultureInfo.InvariantCulture);
                if (dense.Shifts[c] > 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultiplierOutOfRange, layer.Location, layer.Name,
                        C(c), value, "is 1 or more; Gen requires it below 1 (raise the output scale)"));
                    break;
                }

                if (dense.Multipliers[c] == 0 && real > 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultiplierOutOfRange, layer.Location, layer.Name,
                        C(c), value, "is below 2^-32 and would flush every output to the zero point (lower the output scale)"));
                    break;
                }
            }

            for (int n = 0; n < layer.Outputs; n++)
            {
                long bound = dense.AccumulatorBound(n);
                if (bound > int.MaxValue)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AccumulatorOverflow, layer.Location, layer.Name,
                        C(n), bound.ToString(CultureInfo.InvariantCulture), dense.AccumulatorOverflowCause(n)));
                    break;
                }
            }

            if (diagnostics.Count > before) return null;
            return Pack(dense, layer.Activation, preQuantized, facts);
        }

        /// <summary>
        /// A quantized layer in the kernels' layout: the route its weights allow, the packed panels, the folded bias and
        /// the per-channel requantization constants, plus the unsigned copy the AVX-VNNI kernels read.
        /// </summary>
        internal static DenseLayerPlan Pack(QuantizedDense dense, int activation, bool preQuantized, CompilationFacts facts)
        {
            long worst = 0;
            for (int n = 0; n < dense.OutputSize; n++) worst = Math.Max(worst, dense.AccumulatorBound(n));
            int inputSize = dense.InputSize;
            var input = dense.Input;
            var output = dense.Output;
            int outputs = dense.OutputSize;
            var route = KernelPacker.ChooseRoute(dense.Weights, inputSize, outputs, out int pairSafe, out int quadSafe);
            var m0 = dense.PerChannel ? dense.Multipliers : Repeat(dense.Multipliers[0], outputs);
            var rightShifts = Array.ConvertAll(dense.PerChannel ? dense.Shifts : Repeat(dense.Shifts[0], outputs), s => -s);
            return new DenseLayerPlan(dense.Name, inputSize, outputs, activation, dense.PerChannel, preQuantized,
                input.Scale, input.ZeroPoint, output.Scale, output.ZeroPoint,
                new EquatableArray<float>(dense.WeightScales), new EquatableArray<int>(dense.Bias),
                new EquatableArray<double>(dense.RealMultipliers), dense.ActivationMin, dense.ActivationMax, worst,
                route, pairSafe, quadSafe,
                new EquatableArray<sbyte>(KernelPacker.Pack(dense.Weights, inputSize, outputs, route)),
                new EquatableArray<int>(KernelPacker.FoldBias(dense, route)),
                new EquatableArray<int>(KernelPacker.PadPerChannel(m0, outputs, 0)),
                new EquatableArray<int>(KernelPacker.PadPerChannel(rightShifts, outputs, 0)),
                facts.HasAvxVnni,
                // AVX-VNNI's vpdpbusd adds four u8 x s8 products straight into int32, exact for any weights, so it
                // takes the unsigned-activation layout; a Wide layer carries that layout (and its bias) in addition.
                route == KernelRoute.Wide && facts.HasAvxVnni
                    ? new EquatableArray<sbyte>(KernelPacker.Pack(dense.Weights, inputSize, outputs, KernelRoute.Pair))
                    : EquatableArray<sbyte>.Empty,
                route == KernelRoute.Wide && facts.HasAvxVnni
                    ? new EquatableArray<int>(KernelPacker.FoldBias(dense, KernelRoute.Pair))
                    : EquatableArray<int>.Empty,
                facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck);
        }

        private static int[] Repeat(int value, int count)
        {
            var values = new int[count];
            for (int i = 0; i < count; i++) values[i] = value;
            return values;
        }

        private static QuantizedDense? PreQuantized(DenseSpec layer, int inputSize, QuantizationParameters input,
            QuantizationParameters output, SafeTensorsFile file, SafeTensor weight, SafeTensor? bias, string scaleName,
            List<DiagnosticInfo> diagnostics)
        {
            if (!file.Tensors.TryGetValue(scaleName, out var scaleTensor))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorMissing, layer.Location, layer.Name, scaleName, TensorList(file)));
                return null;
            }

            if (scaleTensor.DataType != "F32" || !(scaleTensor.ElementCount == 1 || scaleTensor.ElementCount == layer.Outputs))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, layer.Location, scaleName,
                    scaleTensor.ShapeText + " " + scaleTensor.DataType, $"F32 [1] or [{C(layer.Outputs)}]"));
                return null;
            }

            float[] scales = file.ReadFloat32(scaleTensor);
            foreach (float s in scales)
            {
                if (!(s > 0) || float.IsInfinity(s))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ScaleInvalid, layer.Location,
                        $"Every value of '{scaleName}'", s.ToString("R", CultureInfo.InvariantCulture)));
                    return null;
                }
            }

            sbyte[] w = file.ReadInt8(weight);
            if (Array.IndexOf(w, sbyte.MinValue) >= 0)
            {
                diagnostics.Add(Unsupported(layer, $"'{weight.Name}' holds -128; symmetric INT8 weights must lie in [-127, 127]"));
                return null;
            }

            bool perChannel = scales.Length == layer.Outputs && layer.Outputs > 1 || scaleTensor.Shape.Length == 1 && scaleTensor.Shape[0] == layer.Outputs && layer.Outputs > 1;
            if (!perChannel && scales.Length != 1) scales = new[] { scales[0] };
            var q = new int[layer.Outputs];
            if (bias != null)
            {
                if (bias.DataType == "I32")
                {
                    q = file.ReadInt32(bias);
                }
                else if (bias.DataType == "F32")
                {
                    float[] b = file.ReadFloat32(bias);
                    if (!CheckFinite(b, bias.Name, layer, diagnostics)) return null;
                    for (int n = 0; n < b.Length; n++) q[n] = QuantizationMath.QuantizeBias(b[n], input.Scale, scales[perChannel ? n : 0]);
                }
                else
                {
                    diagnostics.Add(Unsupported(layer, $"'{bias.Name}' is {bias.DataType}; a bias is I32 (at scale S_in * S_w) or F32"));
                    return null;
                }
            }

            return new QuantizedDense(layer.Name, inputSize, layer.Outputs, input, output, (FusedActivation)layer.Activation,
                w, scales, q, perChannel);
        }

        private static bool CheckFinite(float[] values, string tensor, DenseSpec layer, List<DiagnosticInfo> diagnostics)
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, layer.Location,
                        $"Layer '{layer.Name}': '{tensor}' element {C(i)} is {values[i].ToString(CultureInfo.InvariantCulture)}; weights must be finite"));
                    return false;
                }
            }

            return true;
        }

        private static DiagnosticInfo Unsupported(DenseSpec layer, string message) =>
            DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, layer.Location, $"Layer '{layer.Name}': {message}");

        private static string TensorList(SafeTensorsFile file)
        {
            var names = file.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).Take(12).ToList();
            return names.Count == 0 ? "no tensors" : string.Join(", ", names) + (file.Tensors.Count > 12 ? ", ..." : "");
        }

        private static string C(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
