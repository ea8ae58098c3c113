using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Writes a calibration in the forms a user takes away: attribute lines for the model declaration, the
    /// <c>name scale zero_point min max</c> text file, a per-tensor report table, and (when weight scales were
    /// searched) a safetensors file of INT8 weights with their scales that the generator reads as is.
    /// </summary>
    public static class CalibrationWriters
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>A C# float literal that reads back as exactly <paramref name="value"/> (shortest round-trip form).</summary>
        public static string FloatLiteral(float value)
        {
            string text = value.ToString("R", Invariant);
            if (text.IndexOf('.') < 0 && text.IndexOf('E') < 0) text += ".0";
            return text + "f";
        }

        /// <summary>
        /// The attributes of the model declaration, ready to paste above a <c>partial</c> class:
        /// <c>[QuantizedModel]</c>, <c>[ModelInput]</c> and one <c>[Dense]</c> per layer, with every scale a
        /// round-tripping float literal. Only models declared by one attribute per activation have them: a chain of dense
        /// layers (<see cref="DenseChain"/>); other graphs read the <see cref="CalibrationText(ActivationCalibration)"/> file.
        /// </summary>
        /// <param name="calibration">The calibration.</param>
        /// <param name="weightsFile">The path for <c>[QuantizedModel]</c>: the float file, or the INT8 file from
        /// <see cref="WriteQuantizedWeights"/> when <see cref="ActivationCalibration.UsesGeneratorWeightScales"/> is false.</param>
        /// <exception cref="ArgumentException">The graph is not a chain of dense layers.</exception>
        public static string AttributeText(ActivationCalibration calibration, string weightsFile)
        {
            var graph = calibration.Graph;
            string? problem = DenseChain.Problem(graph);
            if (problem != null) throw new ArgumentException("Attribute lines are written for a chain of dense layers (an MLP); in this graph " + problem + ".", nameof(calibration));
            var first = calibration.Tensors[0];
            var sb = new StringBuilder();
            sb.Append("// Calibrated with ").Append(calibration.Method).Append(" (").Append(calibration.Mode == RangeMode.Symmetric ? "symmetric" : "asymmetric")
              .Append(" activations) on ").Append(first.Statistics.BatchCount > 0 ? ((first.Statistics.Count / Math.Max(1, graph.InputSize)).ToString(Invariant) + " rows") : "no data")
              .Append(".\n");
            sb.Append("[QuantizedModel(\"").Append(weightsFile.Replace("\\", "/")).Append("\")]\n");
            var input = first.Parameters;
            sb.Append(Invariant, $"[ModelInput({graph.InputSize}, Scale = {FloatLiteral(input.Scale)}, ZeroPoint = {input.ZeroPoint})]\n");
            foreach (var node in graph.Nodes)
            {
                var a = (DenseAttributes)node.Attributes;
                var p = calibration[graph.Values[node.Output].Name].Parameters;
                sb.Append(Invariant, $"[Dense(\"{node.Name}\", {a.Outputs}");
                if (a.Activation != FusedActivation.None) sb.Append(", Activation = Activation.").Append(a.Activation);
                sb.Append(Invariant, $", OutputScale = {FloatLiteral(p.Scale)}, OutputZeroPoint = {p.ZeroPoint}");
                if (!a.PerChannel) sb.Append(", Weights = WeightQuantization.PerTensor");
                sb.Append(")]\n");
            }

            return sb.ToString();
        }

        /// <summary>
        /// One line per activation, <c>name scale zero_point min max</c> (the format of the MNIST sample's
        /// <c>mnist_mlp.calibration.txt</c>), min and max being the calibrated range.
        /// </summary>
        public static string CalibrationText(ActivationCalibration calibration) => CalibrationText(calibration.Tensors);

        /// <summary>
        /// One line per tensor, <c>name scale zero_point min max</c>, in the given order; min and max are the calibrated
        /// range (widened to contain 0), scale and zero point the INT8 parameters chosen from it.
        /// </summary>
        public static string CalibrationText(IEnumerable<TensorCalibration> tensors)
        {
            var sb = new StringBuilder();
            foreach (var t in tensors)
            {
                sb.Append(t.Name).Append(' ').Append(t.Parameters.Scale.ToString("R", Invariant)).Append(' ')
                  .Append(t.Parameters.ZeroPoint.ToString(Invariant)).Append(' ')
                  .Append(((float)t.Range.Min).ToString("R", Invariant)).Append(' ')
                  .Append(((float)t.Range.Max).ToString("R", Invariant)).Append('\n');
            }

            return sb.ToString();
        }

        /// <summary>
        /// A markdown table, one row per activation: observed range, chosen range, scale, zero point, clipped
        /// fraction, SQNR and (when given) the cosine similarity of the activation's float and INT8 values
        /// (<see cref="CalibrationMetrics.CosineSimilarities"/>); then the weight scales of every dense layer of
        /// <paramref name="quantized"/>, the integer model.
        /// </summary>
        public static string MarkdownReport(ActivationCalibration calibration, QuantizedGraph quantized, IReadOnlyList<double>? cosines = null)
        {
            var sb = new StringBuilder();
            sb.Append("| tensor | method | observed min | observed max | chosen min | chosen max | scale | zero point | clipped % | SQNR dB | cosine (float vs INT8) |\n");
            sb.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (int i = 0; i < calibration.Tensors.Count; i++)
            {
                var t = calibration.Tensors[i];
                string cosine = cosines != null ? cosines[i].ToString("F6", Invariant) : "";
                sb.Append(Invariant, $"| {t.Name} | {t.Method} | {t.Statistics.Min:G6} | {t.Statistics.Max:G6} | {t.Range.Min:G6} | {t.Range.Max:G6} | {t.Parameters.Scale.ToString("R", Invariant)} | {t.Parameters.ZeroPoint} | {100 * t.ClippedFraction:F4} | {t.Sqnr:F2} | {cosine} |\n");
            }

            sb.Append("\n| layer | weights | weight scale min | weight scale max | from |\n|---|---|---:|---:|---|\n");
            for (int n = 0; n < quantized.Graph.Nodes.Count; n++)
            {
                if (quantized.Graph.Nodes[n].Kind != OpKind.Dense) continue;
                var l = quantized.Op<QuantizedDense>(n);
                float lo = float.MaxValue, hi = 0;
                foreach (float s in l.WeightScales)
                {
                    lo = Math.Min(lo, s);
                    hi = Math.Max(hi, s);
                }

                bool searched = calibration.WeightScales?.ContainsKey(l.Name) == true;
                sb.Append(Invariant, $"| {l.Name} | {(l.PerChannel ? "per channel" : "per tensor")} | {lo:G6} | {hi:G6} | {(searched ? calibration.Method + " search (INT8 weights file)" : "max \\|w\\| / 127 (derived by the generator)")} |\n");
            }

            return sb.ToString();
        }

        /// <summary>
        /// Writes a safetensors file with, per dense layer, <c>name.weight</c> I8 [outputs, inputs] at its searched scales
        /// (<see cref="ActivationCalibration.WeightScales"/>, max scales for a layer without), <c>name.weight_scale</c> F32
        /// [outputs] (or [1]) and the float bias <c>name.bias</c> F32: the generator's pre-quantized input, so searched
        /// weight scales reach the generated code unchanged.
        /// </summary>
        /// <param name="calibration">The calibration.</param>
        /// <param name="model">The float model calibrated (its dense layers' weights).</param>
        public static byte[] WriteQuantizedWeights(ActivationCalibration calibration, FloatModel model)
        {
            var tensors = new List<SafeTensorsBytes.Entry>();
            int dense = 0;
            foreach (var node in model.Graph.Nodes)
            {
                if (node.Kind != OpKind.Dense) continue;
                var l = model.DenseLayers[dense++];
                float[]? scales = null;
                if (calibration.WeightScales?.TryGetValue(l.Name, out scales) != true)
                {
                    scales = WeightCalibration.Max(l.Weights, l.Outputs, ((DenseAttributes)node.Attributes).PerChannel);
                }

                var q = WeightCalibration.Quantize(l.Weights, l.Outputs, scales!);
                var bytes = new byte[q.Length];
                Buffer.BlockCopy(q, 0, bytes, 0, q.Length);
                tensors.Add(new SafeTensorsBytes.Entry(l.Name + ".weight", "I8", new[] { l.Outputs, l.Inputs }, bytes));
                tensors.Add(SafeTensorsBytes.Entry.Float(l.Name + ".weight_scale", new[] { scales!.Length }, scales));
                if (l.Bias != null) tensors.Add(SafeTensorsBytes.Entry.Float(l.Name + ".bias", new[] { l.Outputs }, l.Bias));
            }

            return SafeTensorsBytes.Write(tensors, new Dictionary<string, string> { ["format"] = "pt", ["calibration"] = calibration.Method });
        }
    }
}
