using System.Collections.Generic;
using Gen.Generators.Model;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning.Frontends
{
    /// <summary>
    /// A declaration turned into a graph by its family's frontend: the graph, where each node origin was declared (so a
    /// problem points at its attribute), and every activation's scale and zero point as the attributes give them.
    /// </summary>
    internal sealed class DeclaredGraph
    {
        public DeclaredGraph(ModelGraph graph, LocationInfo?[] origins, IReadOnlyList<QuantizationSpec> requests)
        {
            Graph = graph;
            Origins = origins;
            Requests = requests;
        }

        public ModelGraph Graph { get; }

        /// <summary>The attribute of each origin (<see cref="GraphNode.Origin"/>).</summary>
        public LocationInfo?[] Origins { get; }

        /// <summary>Every activation that needs parameters, with what the attributes say about it.</summary>
        public IReadOnlyList<QuantizationSpec> Requests { get; }

        public LocationInfo? Location(int origin, LocationInfo? fallback) =>
            origin >= 0 && origin < Origins.Length ? Origins[origin] ?? fallback : fallback;
    }
}
