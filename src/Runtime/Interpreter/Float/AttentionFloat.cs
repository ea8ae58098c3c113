using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>
    /// Float multi-head attention: head h uses features <c>h * d</c> to <c>(h + 1) * d - 1</c>; scores <c>Q_h K_h^T</c>,
    /// softmax of <c>scores / sqrt(d)</c> (the row maximum subtracted first), then the weights times <c>V_h</c>. Only the
    /// real tokens are keys: the scores of padded ones are left out of the softmax, which is what the additive mask of
    /// Hugging Face's BERT (a large negative number, whose exponential is 0 in float32) computes.
    /// </summary>
    internal sealed unsafe class AttentionFloat : FloatOp
    {
        private readonly int _tokens, _width, _heads, _tokensPadded;
        private readonly float* _keysT;   // [W, TokensPadded] K transposed: the B operand of Q K^T
        private readonly float* _scores;  // [T, TokensPadded] one head's attention weights

        public AttentionFloat(GraphNode node, ModelGraph graph, FloatMemory memory) : base(node)
        {
            var q = graph.Values[node.Inputs[0]];
            _tokens = q.Rows;
            _width = q.Columns;
            _heads = ((AttentionAttributes)node.Attributes).Heads;
            _tokensPadded = FloatKernels.Padded(_tokens);
            _keysT = memory.Allocate((long)_width * _tokensPadded);
            _scores = memory.Allocate((long)_tokens * _tokensPadded);
        }

        public override void Run(float*[] values, int samples, int tokens)
        {
            float* q = In(values, 0), k = In(values, 1), v = In(values, 2), context = Out(values);
            int t = _tokens, w = _width, hs = w / _heads, tp = _tokensPadded;
            int keys = Math.Min(tokens, t);
            for (int i = 0; i < t; i++)
            {
                for (int f = 0; f < w; f++) _keysT[f * tp + i] = k[i * w + f];
            }

            float scale = 1f / MathF.Sqrt(hs);
            for (int h = 0; h < _heads; h++)
            {
                FloatKernels.MatMul(q + h * hs, w, _keysT + h * hs * tp, tp, null, _scores, tp, t, keys, hs);
                for (int i = 0; i < t; i++) FloatKernels.Softmax(_scores + i * tp, keys, scale);
                // V_h's rows are read as whole vectors past the head's hs columns (into the next head's features, or the
                // buffer's slack for the last row); those lanes are not stored.
                FloatKernels.MatMul(_scores, tp, v + h * hs, w, null, context + h * hs, w, t, hs, keys);
            }
        }
    }
}
