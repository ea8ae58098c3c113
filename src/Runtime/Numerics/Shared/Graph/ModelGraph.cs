using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// The operators a graph can hold. Each has one file per layer: its op plan (shape inference, validation and
    /// quantization, <c>Graph/Ops</c>), its reference kernel (<c>Interpreter/Reference</c>), its float kernel
    /// (<c>Interpreter/Float</c>) and its emitter (<c>Generators/Emitting/Ops</c>).
    /// </summary>
    public enum OpKind
    {
        /// <summary>Fully connected layer over the rows of its input (<see cref="DenseOp"/>).</summary>
        Dense,

        /// <summary>Cuts a CHW image into patches, one row per patch (<see cref="Im2ColOp"/>).</summary>
        Im2Col,

        /// <summary>Elementwise sum of two values of one shape, across scales (<see cref="AddOp"/>).</summary>
        Add,

        /// <summary>LayerNorm of each row (<see cref="LayerNormOp"/>).</summary>
        LayerNorm,

        /// <summary>Multi-head attention of Q, K, V: Q·Kᵀ, Softmax, P·V (<see cref="AttentionOp"/>).</summary>
        Attention,

        /// <summary>GELU of each element (<see cref="GeluOp"/>).</summary>
        Gelu,

        /// <summary>The mean of the rows (<see cref="MeanPoolOp"/>).</summary>
        MeanPool,

        /// <summary>A row of a table per token id (<see cref="EmbeddingOp"/>).</summary>
        Embedding,

        /// <summary>The first row, BERT's <c>[CLS]</c> token (<see cref="ClsTokenOp"/>).</summary>
        ClsToken,

        /// <summary>Each row divided by its Euclidean norm (<see cref="L2NormalizeOp"/>).</summary>
        L2Normalize,

        /// <summary>A wide (INT32) value requantized to INT8 for the ops that multiply matrices (<see cref="NarrowOp"/>).</summary>
        Narrow,
    }

    /// <summary>A read-only list that compares by its elements, so that graph parts compare by value.</summary>
    public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
    {
        private readonly T[] _items;

        /// <summary>Wraps a copy of <paramref name="items"/>.</summary>
        public ValueList(IEnumerable<T> items) => _items = items.ToArray();

        /// <summary>The empty list.</summary>
        public static ValueList<T> Empty { get; } = new ValueList<T>(Array.Empty<T>());

        /// <inheritdoc />
        public T this[int index] => _items[index];

        /// <inheritdoc />
        public int Count => _items.Length;

        /// <inheritdoc />
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

        /// <inheritdoc />
        public bool Equals(ValueList<T>? other) => other is not null && _items.SequenceEqual(other._items);

        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

        /// <inheritdoc />
        public override int GetHashCode()
        {
            int hash = _items.Length;
            foreach (var item in _items) hash = hash * 31 + (item?.GetHashCode() ?? 0);
            return hash;
        }

        /// <summary>The elements as an array (a copy).</summary>
        public T[] ToArray() => (T[])_items.Clone();
    }

    /// <summary>
    /// One tensor of a graph, per input sample: its name (the activation's line in a quantization-parameter file, or
    /// the weights tensor of a constant), its shape, and where it comes from.
    /// </summary>
    /// <param name="Name">The activation's name (<c>fc1</c>, <c>blocks.0.attn.q</c>) or, for a constant, its tensor's.</param>
    /// <param name="Shape">Its dimensions for one sample, outermost first; the last is the row length.</param>
    /// <param name="Constant">For a constant (a learned table such as a position embedding), the weights tensor it is read
    /// from, and <see cref="ConstantShapes"/> the shapes the tensor may have; null for an activation.</param>
    /// <param name="ConstantShapes">The accepted shapes of <see cref="Constant"/>'s tensor.</param>
    /// <param name="IsTokenIds">Whether the value holds token ids (int) rather than INT8 activations: an input that
    /// embeddings read.</param>
    /// <param name="IsWide">Whether the value is a wide activation: INT32 at a scale of its own with zero point 0, 16 bits of
    /// resolution at its calibrated range and room for values far beyond it (<see cref="QuantizationMath.Widen"/>). A
    /// transformer's residual stream is wide: its outliers are orders of magnitude above the bulk of its values, which INT8
    /// would leave a handful of levels. Its bytes hold the ints in the machine's order.</param>
    public sealed record GraphValue(string Name, ValueList<int> Shape, string? Constant = null, ValueList<ValueList<int>>? ConstantShapes = null,
        bool IsTokenIds = false, bool IsWide = false)
    {
        /// <summary>Bytes per element: 4 for a wide value, 1 for INT8.</summary>
        public int ElementBytes => IsWide ? 4 : 1;

        /// <summary>Bytes in all (<see cref="Elements"/> times <see cref="ElementBytes"/>).</summary>
        public int Bytes => Elements * ElementBytes;

        /// <summary>Values per row: the last dimension.</summary>
        public int Columns => Shape[Shape.Count - 1];

        /// <summary>Rows: the product of every dimension but the last.</summary>
        public int Rows
        {
            get
            {
                int rows = 1;
                for (int i = 0; i < Shape.Count - 1; i++) rows *= Shape[i];
                return rows;
            }
        }

        /// <summary>Values in all.</summary>
        public int Elements => Rows * Columns;

        /// <summary>Whether this is a constant read from the weights rather than computed.</summary>
        public bool IsConstant => Constant != null;

        /// <summary>The shape as text, <c>[16, 64]</c>.</summary>
        public string ShapeText => "[" + string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>Attributes of one operator; each op's file declares its own record.</summary>
    public abstract record OpAttributes
    {
        /// <summary>For the op records.</summary>
        protected OpAttributes()
        {
        }
    }

    /// <summary>
    /// One operator application: reads <see cref="Inputs"/>, writes <see cref="Output"/> (indices into
    /// <see cref="ModelGraph.Values"/>).
    /// </summary>
    /// <param name="Kind">The operator.</param>
    /// <param name="Name">The tensor prefix of its weights, or a name for messages and generated methods.</param>
    /// <param name="Inputs">The values read, in the operator's order.</param>
    /// <param name="Output">The value written.</param>
    /// <param name="Origin">Which declaration made the node (an index the frontend's caller chose, e.g. the attribute): every
    /// problem found with the node points there.</param>
    /// <param name="Attributes">The operator's attributes (its op file's record).</param>
    public sealed record GraphNode(OpKind Kind, string Name, ValueList<int> Inputs, int Output, int Origin, OpAttributes Attributes);

    /// <summary>
    /// A model as values and the nodes that compute them, in execution order (each node reads only the graph input,
    /// constants or values written by earlier nodes). Frontends build it from a declaration; the quantizer, the reference
    /// interpreter, the float model, calibration and the generator all walk it.
    /// </summary>
    /// <param name="Values">Every value: the input, constants and each node's output.</param>
    /// <param name="Nodes">The nodes in execution order.</param>
    /// <param name="Input">The input value's index.</param>
    /// <param name="Output">The output value's index.</param>
    public sealed record ModelGraph(ValueList<GraphValue> Values, ValueList<GraphNode> Nodes, int Input, int Output)
    {
        /// <summary>The input value.</summary>
        public GraphValue InputValue => Values[Input];

        /// <summary>The output value.</summary>
        public GraphValue OutputValue => Values[Output];

        /// <summary>Values per input sample.</summary>
        public int InputSize => InputValue.Elements;

        /// <summary>Values per output sample.</summary>
        public int OutputSize => OutputValue.Elements;

        /// <summary>The value named <paramref name="name"/>, or -1.</summary>
        public int IndexOf(string name)
        {
            for (int i = 0; i < Values.Count; i++) if (Values[i].Name == name) return i;
            return -1;
        }

        /// <summary>
        /// The activations in the order the model computes them: the input, then each node's output. Each needs a scale and
        /// zero point, except the outputs of ops that pass their input's on (<see cref="Im2ColOp"/>).
        /// </summary>
        public IReadOnlyList<string> Activations()
        {
            // Token ids are no activation: they have no quantization.
            var names = InputValue.IsTokenIds ? new List<string>() : new List<string> { InputValue.Name };
            foreach (var node in Nodes)
            {
                if (OpRules.KeepsInputQuantization(node.Kind) || OpRules.QuantizationFromWeights(node)) continue;
                names.Add(Values[node.Output].Name);
            }

            return names;
        }

        /// <summary>
        /// Whether every node treats each row on its own (no node mixes rows), so that samples can be run as rows of one
        /// batch: true for an MLP, false for a transformer.
        /// </summary>
        public bool IsRowWise => Nodes.All(n => OpRules.IsRowWise(n.Kind)) && Values.All(v => v.IsConstant || v.Rows == 1);
    }

    /// <summary>Facts about each operator that the walks share.</summary>
    public static class OpRules
    {
        /// <summary>Whether the op's output takes its input's quantization instead of parameters of its own.</summary>
        public static bool KeepsInputQuantization(OpKind kind) => kind == OpKind.Im2Col || kind == OpKind.ClsToken;

        /// <summary>Whether the op works on each row alone.</summary>
        public static bool IsRowWise(OpKind kind) =>
            kind == OpKind.Dense || kind == OpKind.Add || kind == OpKind.LayerNorm || kind == OpKind.Gelu || kind == OpKind.L2Normalize;


        /// <summary>Whether the op's output takes a quantization its weights decide (an embedding table's) instead of parameters.</summary>
        /// <remarks>A lookup in one table; BERT's summed embeddings are an activation of their own.</remarks>
        public static bool QuantizationFromWeights(GraphNode node) =>
            node.Kind == OpKind.Embedding && !((EmbeddingAttributes)node.Attributes).IsSum;

        /// <summary>Whether the generated code may write the op's output over its (single) input.</summary>
        public static bool RunsInPlace(OpKind kind) => kind == OpKind.Gelu;

        /// <summary>Whether the op can read a wide (INT32) input: the ones that take the residual stream.</summary>
        public static bool ReadsWide(OpKind kind) => kind == OpKind.Add || kind == OpKind.LayerNorm || kind == OpKind.Narrow;

        /// <summary>Whether the op can write a wide (INT32) output.</summary>
        public static bool WritesWide(OpKind kind) => kind == OpKind.Dense || kind == OpKind.Add || kind == OpKind.LayerNorm;
    }
}
