using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

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
        /// round-tripping float literal.
        /// </summary>
        /// <param name="model">The calibration.</param>
        /// <param name="weightsFile">The path for <c>[QuantizedModel]</c>: the float file, or the INT8 file from
        /// <see cref="WriteQuantizedWeights"/> when <see cref="CalibratedModel.UsesGeneratorWeightScales"/> is false.</param>
        public static string AttributeText(CalibratedModel model, string weightsFile)
        {
            var sb = new StringBuilder();
            sb.Append("// Calibrated with ").Append(model.Method).Append(" (").Append(model.Input.Mode == RangeMode.Symmetric ? "symmetric" : "asymmetric")
              .Append(" activations) on ").Append(model.Input.Statistics.BatchCount > 0 ? ((model.Input.Statistics.Count / Math.Max(1, model.Model.InputSize)).ToString(Invariant) + " rows") : "no data")
              .Append(".\n");
            sb.Append("[QuantizedModel(\"").Append(weightsFile.Replace("\\", "/")).Append("\")]\n");
            var input = model.Input.Parameters;
            sb.Append(Invariant, $"[ModelInput({model.Model.InputSize}, Scale = {FloatLiteral(input.Scale)}, ZeroPoint = {input.ZeroPoint})]\n");
            foreach (var layer in model.Layers)
            {
                var p = layer.Output.Parameters;
                sb.Append(Invariant, $"[Dense(\"{layer.Layer.Name}\", {layer.Layer.Outputs}");
                if (layer.Layer.Activation != FusedActivation.None) sb.Append(", Activation = Activation.").Append(layer.Layer.Activation);
                sb.Append(Invariant, $", OutputScale = {FloatLiteral(p.Scale)}, OutputZeroPoint = {p.ZeroPoint}");
                if (!layer.PerChannel) sb.Append(", Weights = WeightQuantization.PerTensor");
                sb.Append(")]\n");
            }

            return sb.ToString();
        }

        /// <summary>
        /// One line per activation, <c>name scale zero_point min max</c> (the format of the MNIST sample's
        /// <c>mnist_mlp.calibration.txt</c>), min and max being the calibrated range.
        /// </summary>
        public static string CalibrationText(CalibratedModel model) => CalibrationText(model.Tensors);

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
        /// fraction, SQNR and (when given) the cosine similarity of the layer's float and INT8 outputs; then the
        /// weight scales per layer.
        /// </summary>
        public static string MarkdownReport(CalibratedModel model, IReadOnlyList<double>? layerCosines = null)
        {
            var sb = new StringBuilder();
            sb.Append("| tensor | method | observed min | observed max | chosen min | chosen max | scale | zero point | clipped % | SQNR dB | cosine (float vs INT8) |\n");
            sb.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            int index = -1;
            foreach (var t in model.Tensors)
            {
                string cosine = index >= 0 && layerCosines != null ? layerCosines[index].ToString("F6", Invariant) : "";
                sb.Append(Invariant, $"| {t.Name} | {t.Method} | {t.Statistics.Min:G6} | {t.Statistics.Max:G6} | {t.Range.Min:G6} | {t.Range.Max:G6} | {t.Parameters.Scale.ToString("R", Invariant)} | {t.Parameters.ZeroPoint} | {100 * t.ClippedFraction:F4} | {t.Sqnr:F2} | {cosine} |\n");
                index++;
            }

            sb.Append("\n| layer | weights | weight scale min | weight scale max | from |\n|---|---|---:|---:|---|\n");
            foreach (var l in model.Layers)
            {
                float lo = float.MaxValue, hi = 0;
                foreach (float s in l.WeightScales)
                {
                    lo = Math.Min(lo, s);
                    hi = Math.Max(hi, s);
                }

                sb.Append(Invariant, $"| {l.Layer.Name} | {(l.PerChannel ? "per channel" : "per tensor")} | {lo:G6} | {hi:G6} | {(l.MaxWeightScales ? "max |w| / 127 (derived by the generator)" : model.Method + " search (INT8 weights file)")} |\n");
            }

            return sb.ToString();
        }

        /// <summary>
        /// Writes a safetensors file with, per layer, <c>name.weight</c> I8 [outputs, inputs], <c>name.weight_scale</c>
        /// F32 [outputs] (or [1]) and the float bias <c>name.bias</c> F32: the generator's pre-quantized input, so
        /// searched weight scales reach the generated code unchanged.
        /// </summary>
        public static byte[] WriteQuantizedWeights(CalibratedModel model)
        {
            var tensors = new List<SafeTensorsBytes.Entry>();
            foreach (var l in model.Layers)
            {
                var q = l.QuantizedWeights();
                var bytes = new byte[q.Length];
                Buffer.BlockCopy(q, 0, bytes, 0, q.Length);
                tensors.Add(new SafeTensorsBytes.Entry(l.Layer.Name + ".weight", "I8", new[] { l.Layer.Outputs, l.Layer.Inputs }, bytes));
                tensors.Add(SafeTensorsBytes.Entry.Float(l.Layer.Name + ".weight_scale", new[] { l.WeightScales.Length }, l.WeightScales));
                if (l.Layer.Bias != null) tensors.Add(SafeTensorsBytes.Entry.Float(l.Layer.Name + ".bias", new[] { l.Layer.Outputs }, l.Layer.Bias));
            }

            return SafeTensorsBytes.Write(tensors, new Dictionary<string, string> { ["format"] = "pt", ["calibration"] = model.Method });
        }
    }
}
