using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>The float im2col: each window's rows of <c>Kernel</c> pixels copied in (channel, row, column) order.</summary>
    internal sealed unsafe class Im2ColFloat : FloatOp
    {
        private readonly Im2ColAttributes _a;

        public Im2ColFloat(GraphNode node) : base(node) => _a = (Im2ColAttributes)node.Attributes;

        public override void Run(float*[] values, int samples, int tokens)
        {
            var a = _a;
            float* image = In(values), windows = Out(values);
            int k = a.Kernel, plane = a.Height * a.Width;
            for (int w = 0; w < a.Windows; w++)
            {
                int top = w / a.OutputWidth * a.Stride, left = w % a.OutputWidth * a.Stride;
                float* window = windows + w * a.WindowValues;
                for (int c = 0; c < a.Channels; c++)
                {
                    for (int r = 0; r < k; r++)
                    {
                        new ReadOnlySpan<float>(image + c * plane + (top + r) * a.Width + left, k).CopyTo(new Span<float>(window + (c * k + r) * k, k));
                    }
                }
            }
        }
    }
}
