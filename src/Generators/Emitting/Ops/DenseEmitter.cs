using System;
using Gen.Generators.Model;
using Gen.Generators.Planning;
using Gen.Runtime;
using static Gen.Generators.Emitting.CodeWriter;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>A dense layer over every row of its input.</summary>
    internal sealed record DenseNodePlan(string Name, EquatableArray<int> Inputs, int Output, DenseLayerPlan Layer) : NodePlan(Name, Inputs, Output);

    /// <summary>
    /// The dense layer's emitter: its plan in the kernels' layout (<see cref="Pack"/>), its call in <c>Run</c>, and its
    /// methods and data, written by the one GEMM kernel family (<see cref="DenseKernelEmitter"/>) that every op multiplying
    /// matrices uses.
    /// </summary>
    internal static class DenseEmitter
    {
        public static DenseNodePlan Plan(Runtime.Graph.GraphNode node, QuantizedDense dense, CompilationFacts facts) =>
            new DenseNodePlan(node.Name, new EquatableArray<int>(node.Inputs.ToArray()), node.Output, Pack(dense, facts));

        /// <summary>The call of the layer on <paramref name="rows"/> rows.</summary>
        public static string Call(string method, string input, string output, string rows) => $"{method}({input}, {output}, {rows}, path);";

        /// <summary>
        /// A quantized layer in the kernels' layout: the route its weights allow, the packed panels, the folded bias and
        /// the per-channel requantization constants, plus the unsigned copy the AVX-VNNI kernels read.
        /// </summary>
        internal static DenseLayerPlan Pack(QuantizedDense dense, CompilationFacts facts)
        {
            int inputSize = dense.InputSize;
            var input = dense.Input;
            var output = dense.Output;
            int outputs = dense.OutputSize;
            var route = KernelPacker.ChooseRoute(dense.Weights, inputSize, outputs, out int pairSafe, out int quadSafe);
            var m0 = dense.PerChannel ? dense.Multipliers : Repeat(dense.Multipliers[0], outputs);
            var rightShifts = Array.ConvertAll(dense.PerChannel ? dense.Shifts : Repeat(dense.Shifts[0], outputs), s => -s);
            return new DenseLayerPlan(dense.Name, inputSize, outputs, (int)dense.Activation, dense.PerChannel, dense.PreQuantized,
                input.Scale, input.ZeroPoint, output.Scale, output.ZeroPoint,
                new EquatableArray<float>(dense.WeightScales), new EquatableArray<int>(dense.Bias),
                new EquatableArray<double>(dense.RealMultipliers), dense.ActivationMin, dense.ActivationMax,
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
                facts.HasAvxVnni && facts.WideVnniNeedsVersionCheck) { WideOutput = dense.WideOutput, EmitVnni512 = GraphPlanner.EmitsVnni512(facts) };
        }

        private static int[] Repeat(int value, int count)
        {
            var values = new int[count];
            for (int i = 0; i < count; i++) values[i] = value;
            return values;
        }

    }
}
