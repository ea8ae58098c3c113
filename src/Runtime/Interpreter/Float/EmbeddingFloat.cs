using System;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>
    /// The float embedding lookup: row <c>id</c> of the table for each token, plus, for BERT's embeddings, row t of the
    /// position table and row 0 of the segment table (added once, when the model is built, into one [tokens, width]
    /// table: <see cref="EmbeddingOp.PositionRows"/>). The float model holds token ids as floats in its input buffer (exact: every id
    /// below 2^24 is a float).
    /// </summary>
    internal sealed unsafe class EmbeddingFloat : FloatOp
    {
        private readonly float* _table;
        private readonly float* _positions; // [tokens, width] position + segment rows, or null
        private readonly int _vocabulary, _width, _tokens;

        public EmbeddingFloat(GraphNode node, ModelGraph graph, WeightReader reader, FloatMemory memory) : base(node)
        {
            var a = (EmbeddingAttributes)node.Attributes;
            _vocabulary = a.Vocabulary;
            _width = a.Width;
            _tokens = graph.Values[node.Inputs[0]].Elements;
            _table = memory.Copy(reader.Float(node.Origin, node.Name, node.Name + ".weight", null, new[] { a.Vocabulary, a.Width })
                ?? new float[(long)a.Vocabulary * a.Width]);
            if (!a.IsSum) return;

            _positions = memory.Copy(EmbeddingOp.PositionRows(reader, node, _tokens) ?? new float[(long)_tokens * _width]);
        }

        public override void Run(float*[] values, int samples, int tokens)
        {
            float* ids = In(values), output = Out(values);
            for (int t = 0; t < _tokens * samples; t++)
            {
                float id = ids[t];
                if (!(id >= 0 && id < _vocabulary) || id != (int)id)
                {
                    throw new ArgumentOutOfRangeException("ids", id, $"Token {t} has id {id}, outside the vocabulary of {_vocabulary} (ids 0 to {_vocabulary - 1}).");
                }

                float* row = output + t * _width;
                new ReadOnlySpan<float>(_table + (long)(int)id * _width, _width).CopyTo(new Span<float>(row, _width));
                if (_positions != null) FloatKernels.Add(row, _positions + t % _tokens * _width, row, _width);
            }
        }
    }
}
