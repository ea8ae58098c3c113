using System;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// Attributes of a fully connected layer: <c>y = act(x W^T + b)</c> on every row, weights <c>{name}.weight</c>
    /// [Outputs, inputs] (or one of <see cref="WeightShapes"/>), optional bias <c>{name}.bias</c> [Outputs].
    /// </summary>
    /// <param name="Outputs">N, the output features.</param>
    /// <param name="Activation">The activation fused into the output clamp.</param>
    /// <param name="PerChannel">Symmetric INT8 weights with a scale per output channel (else one per tensor).</param>
    /// <param name="WeightShapes">Further accepted shapes of the weight tensor (a Conv2d patch projection's [N, C, p, p]).</param>
    public sealed record DenseAttributes(int Outputs, FusedActivation Activation, bool PerChannel, ValueList<ValueList<int>> WeightShapes) : OpAttributes;

    /// <summary>The fully connected layer: shape inference, validation and quantization.</summary>
    public static class DenseOp
    {
        /// <summary>
        /// Adds a dense layer over the rows of <paramref name="input"/>; its output is named <paramref name="outputName"/>
        /// (the layer's name by default, as PyTorch's module).
        /// </summary>
        public static int Dense(this GraphBuilder b, int input, string name, int outputs, FusedActivation activation, bool perChannel,
            int origin, string? outputName = null, params int[][] weightShapes)
        {
            var x = b.Value(input);
            if (outputs <= 0) b.Invalid(origin, $"Layer '{name}' needs a positive number of outputs (got {Text.Int(outputs)}).");
            var shape = x.Shape.ToArray();
            shape[shape.Length - 1] = Math.Max(outputs, 1);
            var attributes = new DenseAttributes(outputs, activation, perChannel,
                new ValueList<ValueList<int>>(weightShapes.Select(s => new ValueList<int>(s))));
            return b.Node(OpKind.Dense, name, new[] { input }, outputName ?? name, shape, origin, attributes);
        }

        /// <summary>
        /// The layer in integer form. Float32 weights (PyTorch's) are quantized here; INT8 weights with an F32
        /// <c>{name}.weight_scale</c> ([1] or [Outputs]) and an I32 or F32 bias are taken as they are. Then every
        /// requantization multiplier must be below 1 and representable, and no INT32 accumulator may overflow for any input.
        /// </summary>
        public static QuantizedDense? Quantize(QuantizeContext c, GraphNode node)
        {
            var a = (DenseAttributes)node.Attributes;
            var weights = c.Weights;
            int origin = node.Origin, inputs = c.InValue(node).Columns, outputs = a.Outputs;
            string name = node.Name, weightName = name + ".weight", biasName = name + ".bias", scaleName = name + ".weight_scale";
            var input = c.In(node);
            var output = c.Out(node);

            var weight = weights.Find(weightName);
            if (weight is null)
            {
                weights.Missing(origin, name, weightName, $"[{Text.Int(outputs)}, {Text.Int(inputs)}]");
                return null;
            }

            var shapes = new[] { new[] { outputs, inputs } }.Concat(a.WeightShapes.Select(s => s.ToArray())).ToArray();
            if (!shapes.Any(s => s.AsSpan().SequenceEqual(weight.Shape)))
            {
                weights.WrongShape(origin, weight, string.Join(" or ", shapes.Select(s => Text.Shape(s))) +
                    $" ({Text.Int(outputs)} outputs of layer '{name}' x {Text.Int(inputs)} inputs from the previous layer)");
                return null;
            }

            var bias = weights.Find(biasName);
            if (bias != null && (bias.Shape.Length != 1 || bias.Shape[0] != outputs))
            {
                weights.WrongShape(origin, bias, $"[{Text.Int(outputs)}]");
                return null;
            }

            QuantizedDense dense;
            try
            {
                if (weight.DataType == "F32")
                {
                    if (bias != null && bias.DataType != "F32")
                    {
                        return Unsupported(c, node, $"'{biasName}' is {bias.DataType}; with float weights the bias must be F32");
                    }

                    float[] w = weights.File.ReadFloat32(weight);
                    if (!weights.Finite(origin, name, weightName, w)) return null;
                    float[]? b = bias is null ? null : weights.File.ReadFloat32(bias);
                    if (b != null && !weights.Finite(origin, name, biasName, b)) return null;
                    dense = QuantizedDense.FromFloat(name, inputs, outputs, input, output, a.Activation, w, b, a.PerChannel);
                }
                else if (weight.DataType == "I8")
                {
                    var preQuantized = PreQuantized(c, node, inputs, weight, bias, scaleName);
                    if (preQuantized is null) return null;
                    dense = preQuantized;
                }
                else
                {
                    return Unsupported(c, node,
                        $"'{weightName}' is {weight.DataType}; Gen reads F32 weights (quantized at build time) or I8 weights with an F32 '{scaleName}' tensor");
                }
            }
            catch (Exception e) when (e is ArgumentException || e is OverflowException || e is FormatException)
            {
                c.Problems.Add(ModelProblem.InvalidDeclaration, origin, $"Layer '{name}': {Text.Reason(e)}");
                return null;
            }

            if (c.OutValue(node).IsWide)
            {
                // The frontend widens only layers without an activation: a clamp would need the INT8 range it replaces.
                if (a.Activation != FusedActivation.None) return Unsupported(c, node, "a layer with a wide output cannot fuse an activation");
                dense.WideOutput = true;
                // A wide output's 16-bit step can be finer than a channel's accumulator step (S_in S_w): finer than that
                // carries no information, and the multiplier would reach 1. Coarsen the scale to put the largest at 1/2.
                double largest = dense.RealMultipliers.Max();
                if (largest >= 1)
                {
                    c.SetQuantization(node.Output, new QuantizationParameters((float)(output.Scale * largest * 2), 0));
                    return Quantize(c, node);
                }
            }

            return Check(c, node, dense) && c.Prove(node, $"Layer '{name}'", Bounds(dense)) ? dense : null;
        }

        /// <summary>
        /// The layer's integers for any input, worst over its channels: the INT32 accumulator of every kernel within
        /// <see cref="QuantizedDense.AccumulatorBound"/> = 256 sum |w| + |bias| (the reference sum of <c>w (x - Z_in)</c> plus the
        /// bias, the SIMD sums of <c>w x</c> or <c>w (x + 128)</c> with the zero point folded into the bias; an input at the far
        /// end of the zero point reaches 255 sum |w| + |bias|, within 0.4% of it), and the 64-bit product of the
        /// requantization, <c>|acc| M0 + 2^30</c> (the shift is never left: <see cref="Check"/> refuses a multiplier of 1 or more).
        /// </summary>
        public static OpBounds Bounds(QuantizedDense dense)
        {
            BigInteger accumulator = 0, product = 0;
            for (int n = 0; n < dense.OutputSize; n++)
            {
                BigInteger bound = dense.AccumulatorBound(n);
                accumulator = BigInteger.Max(accumulator, bound);
                product = BigInteger.Max(product, bound * dense.Multipliers[dense.PerChannel ? n : 0] + (1L << 30));
            }

            return new OpBounds(
                new IntegerBound("|acc|", "the INT32 accumulator bias + sum_k w (x - Z_in)", accumulator, 31, "split the layer or reduce its weights"),
                new IntegerBound("|acc M0|", "the 64-bit requantization product acc M0 + 2^30", product, 63, "this cannot happen while the accumulator fits; please report it"));
        }

        // Every multiplier below 1 and not flushed to zero; every accumulator within INT32 for any input.
        private static bool Check(QuantizeContext c, GraphNode node, QuantizedDense dense)
        {
            for (int ch = 0; ch < dense.Multipliers.Length; ch++)
            {
                double real = dense.RealMultipliers[ch];
                string why = dense.Shifts[ch] > 0 ? "is 1 or more; Gen requires it below 1 (raise the output scale)"
                    : dense.Multipliers[ch] == 0 && real > 0 ? "is below 2^-32 and would flush every output to the zero point (lower the output scale)"
                    : null!;
                if (why is null) continue;
                string value = real.ToString("G9", CultureInfo.InvariantCulture);
                c.Problems.Add(ModelProblem.MultiplierOutOfRange, node.Origin,
                    $"Layer '{node.Name}' channel {Text.Int(ch)}: the requantization multiplier S_in * S_w / S_out = {value} {why}.",
                    node.Name, Text.Int(ch), value, why);
                return false;
            }

            for (int n = 0; n < dense.OutputSize; n++)
            {
                long bound = dense.AccumulatorBound(n);
                if (bound <= int.MaxValue) continue;
                string cause = dense.AccumulatorOverflowCause(n);
                c.Problems.Add(ModelProblem.AccumulatorOverflow, node.Origin,
                    $"Layer '{node.Name}' channel {Text.Int(n)}: an INT32 accumulator can reach {Text.Int(bound)} for some input, beyond 2^31 - 1: {cause}.",
                    node.Name, Text.Int(n), Text.Int(bound), cause);
                return false;
            }

            return true;
        }

        private static QuantizedDense? PreQuantized(QuantizeContext c, GraphNode node, int inputs, SafeTensor weight, SafeTensor? bias, string scaleName)
        {
            var a = (DenseAttributes)node.Attributes;
            var weights = c.Weights;
            int outputs = a.Outputs;
            var input = c.In(node);
            var scaleTensor = weights.Find(scaleName);
            if (scaleTensor is null)
            {
                weights.Missing(node.Origin, node.Name, scaleName, $"[{Text.Int(outputs)}]");
                return null;
            }

            if (scaleTensor.DataType != "F32" || !(scaleTensor.ElementCount == 1 || scaleTensor.ElementCount == outputs))
            {
                c.Problems.Add(ModelProblem.ShapeMismatch, node.Origin, $"'{scaleName}' is {scaleTensor.DataType} {scaleTensor.ShapeText}; Gen needs F32 [1] or [{Text.Int(outputs)}].",
                    scaleName, scaleTensor.ShapeText + " " + scaleTensor.DataType, $"F32 [1] or [{Text.Int(outputs)}]");
                return null;
            }

            float[] scales = weights.File.ReadFloat32(scaleTensor);
            foreach (float s in scales)
            {
                if (!(s > 0) || float.IsInfinity(s))
                {
                    string value = s.ToString("R", CultureInfo.InvariantCulture);
                    c.Problems.Add(ModelProblem.ScaleInvalid, node.Origin, $"Every value of '{scaleName}' must be a positive, finite number; it is {value}.",
                        $"Every value of '{scaleName}'", value);
                    return null;
                }
            }

            sbyte[] w = weights.File.ReadInt8(weight);
            if (Array.IndexOf(w, sbyte.MinValue) >= 0)
            {
                return Unsupported(c, node, $"'{weight.Name}' holds -128; symmetric INT8 weights must lie in [-127, 127]");
            }

            bool perChannel = scales.Length == outputs && outputs > 1 || scaleTensor.Shape.Length == 1 && scaleTensor.Shape[0] == outputs && outputs > 1;
            if (!perChannel && scales.Length != 1) scales = new[] { scales[0] };
            var q = new int[outputs];
            if (bias != null)
            {
                if (bias.DataType == "I32")
                {
                    q = weights.File.ReadInt32(bias);
                }
                else if (bias.DataType == "F32")
                {
                    float[] b = weights.File.ReadFloat32(bias);
                    if (!weights.Finite(node.Origin, node.Name, bias.Name, b)) return null;
                    for (int n = 0; n < b.Length; n++) q[n] = QuantizationMath.QuantizeBias(b[n], input.Scale, scales[perChannel ? n : 0]);
                }
                else
                {
                    return Unsupported(c, node, $"'{bias.Name}' is {bias.DataType}; a bias is I32 (at scale S_in * S_w) or F32");
                }
            }

            return new QuantizedDense(node.Name, inputs, outputs, input, c.Out(node), a.Activation, w, scales, q, perChannel) { PreQuantized = true };
        }

        private static QuantizedDense? Unsupported(QuantizeContext c, GraphNode node, string message)
        {
            c.Problems.Add(ModelProblem.UnsupportedType, node.Origin, $"Layer '{node.Name}': {message}");
            return null;
        }
    }
}
