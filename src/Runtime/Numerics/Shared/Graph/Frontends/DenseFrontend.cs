using System.Collections.Generic;

namespace Gen.Runtime.Graph
{
    /// <summary>One dense layer of an MLP as declared: tensors <c>{Name}.weight</c> [Outputs, inputs] and <c>{Name}.bias</c>.</summary>
    /// <param name="Name">The tensor prefix and the output activation's name.</param>
    /// <param name="Outputs">Output features.</param>
    /// <param name="Activation">The activation fused into the output clamp.</param>
    /// <param name="PerChannel">Symmetric INT8 weights with a scale per output channel (else one per tensor).</param>
    public sealed record DenseLayerDeclaration(string Name, int Outputs, FusedActivation Activation = FusedActivation.None, bool PerChannel = true);

    /// <summary>
    /// Turns an MLP (an input vector and dense layers in order) into a graph. Origins: 0 is the input, layer i is i + 1.
    /// </summary>
    public static class DenseFrontend
    {
        /// <summary>The name of the input activation (its line in a quantization-parameter file).</summary>
        public const string InputName = "input";

        /// <summary>Builds the graph; problems (a layer with no outputs) go to <paramref name="problems"/>.</summary>
        public static ModelGraph Build(int inputSize, IReadOnlyList<DenseLayerDeclaration> layers, ProblemList? problems = null)
        {
            var b = new GraphBuilder(problems);
            int x = b.Input(InputName, inputSize);
            for (int i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                x = b.Dense(x, layer.Name, layer.Outputs, layer.Activation, layer.PerChannel, i + 1);
            }

            return b.Build(x);
        }
    }
}
