using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float CLS pooling: a copy of the first row.</summary>
    internal sealed unsafe class ClsTokenFloat : FloatOp
    {
        private readonly int _width;

        public ClsTokenFloat(GraphNode node, ModelGraph graph) : base(node) => _width = graph.Values[node.Inputs[0]].Columns;

        public override void Run(float*[] values, int samples, int tokens) =>
            new ReadOnlySpan<float>(In(values), _width).CopyTo(new Span<float>(Out(values), _width));
    }
}
