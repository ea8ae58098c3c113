using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Runtime;

namespace Gen.Generators.Planning
{
    /// <summary>One step of a model's walk: what it does (and in which encoder layer), the values it reads and the one it writes.</summary>
    internal sealed class WalkStep
    {
        public WalkStep(string kind, int layer, string[] reads, string? writes)
        {
            Kind = kind;
            Layer = layer;
            Reads = reads;
            Writes = writes;
        }

        /// <summary>The operation, one of the <c>WorkspaceLayout</c> kind constants.</summary>
        public string Kind { get; }

        /// <summary>The encoder layer (from 0), the head layer for <see cref="WorkspaceLayout.Head"/>, or -1.</summary>
        public int Layer { get; }

        public string[] Reads { get; }

        /// <summary>The value written, or null for a step that rewrites its input in place (GELU).</summary>
        public string? Writes { get; }
    }

    /// <summary>
    /// The values a transformer's walk over one image writes, step by step, and where each lives in the workspace.
    /// Every step writes a new value (GELU alone rewrites its input in place), so a value's lifetime runs from the step
    /// that writes it to the last step that reads it, and <see cref="MemoryPlanner"/> lets values that are never live
    /// together share bytes. The image and the output are the caller's spans, not workspace values.
    /// </summary>
    internal sealed class WorkspaceLayout
    {
        public const string Patchify = "patchify", PatchProjection = "patch", AddPosition = "position", Norm1 = "norm1", Query = "query",
            Key = "key", Value = "value", Attention = "attention", AttentionOutput = "out", AttentionResidual = "residual1", Norm2 = "norm2",
            Fc1 = "fc1", Gelu = "gelu", Fc2 = "fc2", FeedForwardResidual = "residual2", FinalNorm = "final", Pool = "pool", Head = "head", Copy = "copy";

        /// <summary>The caller's spans, named as the walk reads and writes them.</summary>
        public const string Image = "image", Output = "output";

        private readonly List<WalkStep> _steps = new List<WalkStep>();
        private readonly List<(string Name, long Bytes, string What)> _values = new List<(string, long, string)>();

        private WorkspaceLayout()
        {
        }

        public IReadOnlyList<WalkStep> Steps => _steps;

        /// <summary>The workspace values in the order they are first written, each with its offset, size and description.</summary>
        public IEnumerable<(string Name, long Offset, long Bytes, string What)> Values => _values.Select((v, i) => (v.Name, Plan.Offsets[i], v.Bytes, v.What));

        /// <summary>The arrangement: offsets, total, and what it saves against a buffer each.</summary>
        public MemoryPlan Plan { get; private set; } = null!;

        /// <summary>
        /// The walk of a transformer of this shape: a function of the numbers alone, so it can be measured for any model.
        /// <paramref name="head"/> holds each classifier layer's outputs (the last one's go to the caller's output span).
        /// </summary>
        public static WorkspaceLayout Transformer(long tokens, long width, long patchValues, IReadOnlyList<long> feedForward, IReadOnlyList<long> head)
        {
            var m = new WorkspaceLayout();
            long tw = tokens * width;
            m.Add(Patchify, -1, new[] { Image }, ("patches", tokens * patchValues, "the image cut into patches"));
            m.Add(PatchProjection, -1, new[] { "patches" }, ("embedded", tw, "the projected patches"));
            m.Add(AddPosition, -1, new[] { "embedded" }, ("x0", tw, "the residual stream into layer 1"));
            string x = "x0";
            for (int i = 0; i < feedForward.Count; i++)
            {
                string s = (i + 1).ToString(CultureInfo.InvariantCulture);
                string n1 = "norm1_" + s, q = "q" + s, k = "k" + s, v = "v" + s, context = "context" + s, o = "attention" + s, y = "y" + s,
                    n2 = "norm2_" + s, h = "hidden" + s, f = "ffn" + s, next = "x" + s;
                m.Add(Norm1, i, new[] { x }, (n1, tw, $"layer {s}: LayerNorm before attention"));
                m.Add(Query, i, new[] { n1 }, (q, tw, $"layer {s}: queries"));
                m.Add(Key, i, new[] { n1 }, (k, tw, $"layer {s}: keys"));
                m.Add(Value, i, new[] { n1 }, (v, tw, $"layer {s}: values"));
                m.Add(Attention, i, new[] { q, k, v }, (context, tw, $"layer {s}: the attention context"));
                m.Add(AttentionOutput, i, new[] { context }, (o, tw, $"layer {s}: the attention output projection"));
                m.Add(AttentionResidual, i, new[] { x, o }, (y, tw, $"layer {s}: the residual stream after attention"));
                m.Add(Norm2, i, new[] { y }, (n2, tw, $"layer {s}: LayerNorm before the feed-forward block"));
                m.Add(Fc1, i, new[] { n2 }, (h, tokens * feedForward[i], $"layer {s}: the feed-forward hidden layer"));
                m.Add(Gelu, i, new[] { h }, null);
                m.Add(Fc2, i, new[] { h }, (f, tw, $"layer {s}: the feed-forward output"));
                m.Add(FeedForwardResidual, i, new[] { y, f }, (next, tw, $"the residual stream out of layer {s}"));
                x = next;
            }

            m.Add(FinalNorm, -1, new[] { x }, ("normed", tw, "the final LayerNorm"));
            m.Add(Pool, -1, new[] { "normed" }, ("pooled", width, "the mean of the tokens"));
            string previous = "pooled";
            for (int i = 0; i < head.Count; i++)
            {
                string name = i == head.Count - 1 ? Output : "head" + (i + 1).ToString(CultureInfo.InvariantCulture);
                m.Add(Head, i, new[] { previous }, name == Output ? null : (name, head[i], "the classifier head, between its layers"), name);
                previous = name;
            }

            if (head.Count == 0) m.Add(Copy, -1, new[] { "pooled" }, null, Output);
            m.Finish();
            return m;
        }

        private void Add(string kind, int layer, string[] reads, (string Name, long Bytes, string What)? value, string? external = null)
        {
            if (value is { } v) _values.Add(v);
            _steps.Add(new WalkStep(kind, layer, reads, value?.Name ?? external));
        }

        private void Finish()
        {
            // A value lives from the step that writes it to the last step that reads it.
            var first = new Dictionary<string, int>();
            var last = new Dictionary<string, int>();
            for (int s = 0; s < _steps.Count; s++)
            {
                var step = _steps[s];
                if (step.Writes != null && !first.ContainsKey(step.Writes)) first[step.Writes] = last[step.Writes] = s;
                foreach (string r in step.Reads)
                {
                    if (first.ContainsKey(r)) last[r] = s;
                }
            }

            Plan = MemoryPlanner.Plan(_values.Select(v => new BufferLifetime(v.Name, v.Bytes, first[v.Name], last[v.Name])).ToArray());
        }
    }
}
