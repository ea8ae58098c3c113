using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning.Frontends
{
    /// <summary>An MLP's attributes ([ModelInput], [Dense] in order) through <see cref="DenseFrontend"/>.</summary>
    internal static class DenseDeclaration
    {
        public static DeclaredGraph Build(ModelSpec spec, ProblemList problems)
        {
            var layers = spec.Layers.Select(l => new DenseLayerDeclaration(l.Name, l.Outputs, (FusedActivation)l.Activation, l.WeightQuantization == 0)).ToList();
            var graph = DenseFrontend.Build(spec.Input!.Size, layers, problems);
            // Origins: 0 is the input, layer i is i + 1 (DenseFrontend's numbering).
            var origins = new LocationInfo?[] { spec.Input.Location }.Concat(spec.Layers.Select(l => l.Location)).ToArray();
            var requests = new List<QuantizationSpec> { new QuantizationSpec(DenseFrontend.InputName, spec.Input.Scale, spec.Input.ZeroPoint, spec.Input.Location) };
            requests.AddRange(spec.Layers.Select(l => new QuantizationSpec(l.Name, l.OutputScale, l.OutputZeroPoint, l.Location)));
            return new DeclaredGraph(graph, origins, requests);
        }
    }
}
