using System;
using System.Collections.Generic;

namespace Gen.Runtime
{
    /// <summary>
    /// One buffer a model's walk needs: its size and the steps during which it holds a value (from the step that writes
    /// it to the last step that reads it, both inclusive).
    /// </summary>
    public readonly struct BufferLifetime
    {
        /// <summary>Describes a buffer of <paramref name="bytes"/> bytes live from step <paramref name="first"/> to <paramref name="last"/>.</summary>
        public BufferLifetime(string name, long bytes, int first, int last)
        {
            if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "A buffer cannot have a negative size.");
            if (last < first) throw new ArgumentOutOfRangeException(nameof(last), last, $"Buffer '{name}' is last read (step {last}) before it is written (step {first}).");
            Name = name;
            Bytes = bytes;
            First = first;
            Last = last;
        }

        /// <summary>The value the buffer holds, for comments and messages.</summary>
        public string Name { get; }

        /// <summary>Its size in bytes.</summary>
        public long Bytes { get; }

        /// <summary>The step that writes it.</summary>
        public int First { get; }

        /// <summary>The last step that reads it.</summary>
        public int Last { get; }

        /// <summary>Whether the two are live at a common step (then they must not share bytes).</summary>
        public bool OverlapsInTime(BufferLifetime other) => First <= other.Last && other.First <= Last;
    }

    /// <summary>Where each buffer lives in one workspace, and what the arrangement saves.</summary>
    public sealed class MemoryPlan
    {
        internal MemoryPlan(IReadOnlyList<BufferLifetime> buffers, long[] offsets, long total, long sum, long peak)
        {
            Buffers = buffers;
            Offsets = offsets;
            TotalBytes = total;
            SumOfBuffers = sum;
            PeakLiveBytes = peak;
        }

        /// <summary>The buffers, in the order they were given.</summary>
        public IReadOnlyList<BufferLifetime> Buffers { get; }

        /// <summary>Each buffer's byte offset in the workspace, in the order of <see cref="Buffers"/>.</summary>
        public IReadOnlyList<long> Offsets { get; }

        /// <summary>Bytes of the workspace: the end of the highest buffer.</summary>
        public long TotalBytes { get; }

        /// <summary>Bytes if every buffer had memory of its own.</summary>
        public long SumOfBuffers { get; }

        /// <summary>The most bytes live at one step: no arrangement can use less (before alignment).</summary>
        public long PeakLiveBytes { get; }
    }

    /// <summary>
    /// Static memory planning, as TensorFlow Lite Micro's greedy planner does it: buffers are placed largest first,
    /// each at the lowest aligned offset where it overlaps no already placed buffer that is live at a common step.
    /// Everything is decided at build time; the generated code only slices the workspace at constant offsets.
    /// </summary>
    public static class MemoryPlanner
    {
        /// <summary>Offsets are multiples of this: a cache line, so that no two buffers share one.</summary>
        public const int Alignment = 64;

        /// <summary>Places <paramref name="buffers"/> in one workspace.</summary>
        public static MemoryPlan Plan(IReadOnlyList<BufferLifetime> buffers)
        {
            var order = new int[buffers.Count];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            // Largest first; among equal sizes the earlier-written first, then the order given, so the plan is deterministic.
            Array.Sort(order, (a, b) =>
            {
                int bySize = buffers[b].Bytes.CompareTo(buffers[a].Bytes);
                if (bySize != 0) return bySize;
                int byStart = buffers[a].First.CompareTo(buffers[b].First);
                return byStart != 0 ? byStart : a.CompareTo(b);
            });

            var offsets = new long[buffers.Count];
            var placed = new List<int>();
            long total = 0;
            foreach (int i in order)
            {
                var buffer = buffers[i];
                // The placed buffers this one must avoid, by offset.
                var conflicts = placed.FindAll(j => buffers[j].Bytes > 0 && buffers[j].OverlapsInTime(buffer));
                conflicts.Sort((a, b) => offsets[a].CompareTo(offsets[b]));
                long candidate = 0;
                foreach (int j in conflicts)
                {
                    if (candidate + buffer.Bytes <= offsets[j]) break; // fits in the gap below j
                    candidate = Math.Max(candidate, AlignUp(offsets[j] + buffers[j].Bytes));
                }

                offsets[i] = candidate;
                placed.Add(i);
                total = Math.Max(total, candidate + buffer.Bytes);
            }

            long sum = 0, peak = 0;
            int lastStep = 0;
            foreach (var b in buffers)
            {
                sum += b.Bytes;
                lastStep = Math.Max(lastStep, b.Last);
            }

            for (int step = 0; step <= lastStep; step++)
            {
                long live = 0;
                foreach (var b in buffers)
                {
                    if (b.First <= step && step <= b.Last) live += b.Bytes;
                }

                peak = Math.Max(peak, live);
            }

            return new MemoryPlan(buffers, offsets, total, sum, peak);
        }

        private static long AlignUp(long offset) => (offset + Alignment - 1) / Alignment * Alignment;
    }
}
