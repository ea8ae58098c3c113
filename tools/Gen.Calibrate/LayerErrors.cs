using System;
using System.Collections.Generic;
using System.Linq;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;

namespace Gen.Calibrate
{
    /// <summary>
    /// The error one node of the integer model adds: the SQNR and cosine of its output against the float model's, next
    /// to those of its inputs (the worst of them), so that the difference is what this node's integer kernel and its
    /// output's rounding and clipping cost on top of the error that reached it. Layers are ranked by the noise they add
    /// as a fraction of the signal (<see cref="NoiseAdded"/>), not by the dB they lose: a layer reading exact inputs (the
    /// first layer after an INT8 input of u8 pixels, at 145 dB) loses a hundred dB while adding less noise than a later
    /// layer that loses a few.
    /// </summary>
    /// <param name="Layer">The node's name.</param>
    /// <param name="Kind">The node's operator.</param>
    /// <param name="Output">Its output activation.</param>
    /// <param name="Inputs">The activations it reads (through nodes that pass their input's quantization on, such as an im2col).</param>
    /// <param name="InputSqnr">The lowest SQNR of <paramref name="Inputs"/>; positive infinity when it reads none (exact inputs).</param>
    /// <param name="OutputSqnr">The SQNR of <paramref name="Output"/>.</param>
    /// <param name="InputCosine">The lowest cosine of <paramref name="Inputs"/>; 1 when it reads none.</param>
    /// <param name="OutputCosine">The cosine of <paramref name="Output"/>.</param>
    internal sealed record LayerError(string Layer, OpKind Kind, string Output, IReadOnlyList<string> Inputs,
        double InputSqnr, double OutputSqnr, double InputCosine, double OutputCosine)
    {
        /// <summary>dB of SQNR the node loses (negative when its output is cleaner than its inputs, as after a ReLU or a mean).</summary>
        public double SqnrDrop => double.IsPositiveInfinity(InputSqnr) && double.IsPositiveInfinity(OutputSqnr) ? 0 : InputSqnr - OutputSqnr;

        /// <summary>
        /// The noise the node adds, as a fraction of its output's energy: <c>10^(-SQNR_out / 10) - 10^(-SQNR_in / 10)</c>,
        /// the growth of the noise-to-signal ratio (negative when the output is cleaner than its inputs).
        /// </summary>
        public double NoiseAdded => Ratio(OutputSqnr) - Ratio(InputSqnr);

        /// <summary>The cosine the node loses.</summary>
        public double CosineDrop => InputCosine - OutputCosine;

        /// <summary>
        /// One entry per node whose output is an activation, in the order the model computes them, from the per-activation
        /// errors <paramref name="errors"/> (<see cref="CalibrationMetrics.ActivationErrors"/>, in the order of
        /// <see cref="ModelGraph.Activations"/>).
        /// </summary>
        public static IReadOnlyList<LayerError> Of(ModelGraph graph, IReadOnlyList<ActivationError> errors)
        {
            var byName = errors.ToDictionary(e => e.Name, StringComparer.Ordinal);
            // A value produced by a node that passes its input's quantization on carries that input's error.
            var producer = new Dictionary<int, GraphNode>();
            foreach (var node in graph.Nodes) producer[node.Output] = node;
            var result = new List<LayerError>();
            foreach (var node in graph.Nodes)
            {
                string output = graph.Values[node.Output].Name;
                if (!byName.TryGetValue(output, out var outError)) continue;
                var inputs = new List<string>();
                foreach (int v in node.Inputs) Sources(graph, producer, v, byName, inputs);
                var distinct = inputs.Distinct().ToList();
                double sqnr = distinct.Count == 0 ? double.PositiveInfinity : distinct.Min(i => byName[i].Sqnr);
                double cosine = distinct.Count == 0 ? 1 : distinct.Min(i => byName[i].Cosine);
                result.Add(new LayerError(node.Name, node.Kind, output, distinct, sqnr, outError.Sqnr, cosine, outError.Cosine));
            }

            return result;
        }

        /// <summary>The index of the node that adds the most noise (<see cref="NoiseAdded"/>; the first of equals); -1 for none.</summary>
        public static int Worst(IReadOnlyList<LayerError> layers)
        {
            int worst = -1;
            for (int i = 0; i < layers.Count; i++)
            {
                if (worst < 0 || layers[i].NoiseAdded > layers[worst].NoiseAdded) worst = i;
            }

            return worst;
        }

        // Noise over signal energy from an SQNR in dB (0 for an exact value).
        private static double Ratio(double sqnr) => double.IsPositiveInfinity(sqnr) ? 0 : Math.Pow(10, -sqnr / 10);

        private static void Sources(ModelGraph graph, Dictionary<int, GraphNode> producer, int value, Dictionary<string, ActivationError> errors, List<string> into)
        {
            var v = graph.Values[value];
            if (v.IsConstant) return;
            if (errors.ContainsKey(v.Name))
            {
                into.Add(v.Name);
                return;
            }

            // Not an activation of its own (an im2col's output; token ids have no producer and no error).
            if (producer.TryGetValue(value, out var node))
            {
                foreach (int i in node.Inputs) Sources(graph, producer, i, errors, into);
            }
        }
    }
}
