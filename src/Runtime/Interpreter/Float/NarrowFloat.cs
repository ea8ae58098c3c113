using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>Narrowing in float: the identity (the integer model only changes how the value is stored).</summary>
    internal sealed unsafe class NarrowFloat : FloatOp
    {
        private readonly int _elements;

        public NarrowFloat(GraphNode node, ModelGraph graph) : base(node) => _elements = graph.Values[node.Output].Elements;

        public override void Run(float*[] values, int samples, int tokens) =>
            new ReadOnlySpan<float>(In(values), _elements * samples).CopyTo(new Span<float>(Out(values), _elements * samples));
    }
}
