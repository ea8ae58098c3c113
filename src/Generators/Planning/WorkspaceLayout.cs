using Gen.Generators.Emitting.Ops;
using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning
{
    /// <summary>
    /// Where each value of a model's walk lives in the workspace. Node i is step i; it writes its output value, which
    /// lives from step i to the last step that reads it, and <see cref="MemoryPlanner"/> lets values that are never live
    /// together share bytes. An op that may run in place (GELU) writes over its input when nothing reads that input
    /// later. The graph's input and output are the caller's spans and constants are static data: neither is in the workspace.
    /// </summary>
    internal sealed class WorkspaceLayout
    {
        private WorkspaceLayout(long[] offsets, int[] storage, MemoryPlan plan, int[] planned)
        {
            Offsets = offsets;
            Storage = storage;
            Plan = plan;
            Planned = planned;
        }

        /// <summary>Each value's byte offset in the workspace, or -1 when it is not in the workspace.</summary>
        public IReadOnlyList<long> Offsets { get; }

        /// <summary>The value whose bytes each value uses (itself, or the input an in-place op overwrote).</summary>
        public IReadOnlyList<int> Storage { get; }

        /// <summary>The values that own workspace bytes, in the order they are first written.</summary>
        public IReadOnlyList<int> Planned { get; }

        /// <summary>The arrangement: offsets, total, and what it saves against a buffer each.</summary>
        public MemoryPlan Plan { get; }

        /// <summary>The layout of a planned model; a value of a row-wise model holds <paramref name="rowsPerBlock"/> samples.</summary>
        public static WorkspaceLayout For(GraphPlan plan, int rowsPerBlock) => Create(plan.Values.Length, v => plan.Values[v].Bytes * rowsPerBlock,
            v => plan.Values[v].IsConstant, plan.Nodes.Select(n => (n.Inputs.AsArray(), n.Output, n is GeluNodePlan)).ToArray(),
            plan.Input, plan.Output, v => plan.Values[v].Name);

        /// <summary>The layout of a graph's walk, one sample at a time (how a transformer runs).</summary>
        public static WorkspaceLayout For(ModelGraph graph) => Create(graph.Values.Count, v => graph.Values[v].Bytes,
            v => graph.Values[v].IsConstant, graph.Nodes.Select(n => (n.Inputs.ToArray(), n.Output, OpRules.RunsInPlace(n.Kind))).ToArray(),
            graph.Input, graph.Output, v => graph.Values[v].Name);

        private static WorkspaceLayout Create(int valueCount, System.Func<int, long> bytes, System.Func<int, bool> constant,
            (int[] Inputs, int Output, bool InPlace)[] nodes, int input, int output, System.Func<int, string> name)
        {
            var lastRead = Enumerable.Repeat(-1, valueCount).ToArray();
            for (int s = 0; s < nodes.Length; s++)
            {
                foreach (int r in nodes[s].Inputs) lastRead[r] = s;
            }

            bool InWorkspace(int v) => v != input && v != output && !constant(v);
            var storage = Enumerable.Range(0, valueCount).ToArray();
            var first = new Dictionary<int, int>();
            var last = new Dictionary<int, int>();
            var planned = new List<int>();
            for (int s = 0; s < nodes.Length; s++)
            {
                var (reads, written, inPlace) = nodes[s];
                foreach (int r in reads)
                {
                    if (InWorkspace(r)) last[storage[r]] = s;
                }

                if (!InWorkspace(written)) continue;
                if (inPlace && reads.Length == 1 && InWorkspace(reads[0]) && lastRead[reads[0]] == s)
                {
                    storage[written] = storage[reads[0]]; // written over its input, which nothing reads later
                    continue;
                }

                first[written] = last[written] = s;
                planned.Add(written);
            }

            var plan = MemoryPlanner.Plan(planned.Select(v => new BufferLifetime(name(v), bytes(v), first[v], last[v])).ToArray());
            var offsets = Enumerable.Repeat(-1L, valueCount).ToArray();
            for (int i = 0; i < planned.Count; i++) offsets[planned[i]] = plan.Offsets[i];
            for (int v = 0; v < valueCount; v++)
            {
                if (storage[v] != v) offsets[v] = offsets[storage[v]];
            }

            return new WorkspaceLayout(offsets, storage, plan, planned.ToArray());
        }
    }
}
