using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Float
{
    /// <summary>
    /// One node of the float model, ready to run: its weights read and packed once, its scratch allocated once. Each op's
    /// file in this folder derives one; <see cref="FloatModel"/> walks them.
    /// </summary>
    internal abstract unsafe class FloatOp
    {
        protected FloatOp(GraphNode node) => Node = node;

        public GraphNode Node { get; }

        /// <summary>
        /// Runs the node on <paramref name="samples"/> samples stored one after another in each value's buffer. A sequence
        /// model runs one sample at a time, whose first <paramref name="tokens"/> rows are real tokens and the rest padding:
        /// attention attends only to the real ones and pooling counts only them, while every other op computes padded rows
        /// like any other (as a padded batch in PyTorch or ONNX Runtime does).
        /// </summary>
        public abstract void Run(float*[] values, int samples, int tokens);

        protected float* In(float*[] values, int i = 0) => values[Node.Inputs[i]];

        protected float* Out(float*[] values) => values[Node.Output];
    }

    /// <summary>
    /// Zeroed, 64-byte aligned float buffers with a vector of slack at the end (the matrix product reads whole vectors),
    /// in pinned arrays that the pinned object heap never moves and that this object keeps alive.
    /// </summary>
    internal sealed unsafe class FloatMemory
    {
        private const int AlignmentFloats = 16; // 64 bytes: one cache line, one AVX-512 vector
        private readonly List<float[]> _pinned = new List<float[]>();

        public float* Allocate(long count)
        {
            var array = GC.AllocateArray<float>(checked((int)count + 2 * AlignmentFloats), pinned: true);
            _pinned.Add(array);
            float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            int misalignment = (int)(((nuint)start / sizeof(float)) % AlignmentFloats);
            return start + (AlignmentFloats - misalignment) % AlignmentFloats;
        }

        public float* Copy(float[] values)
        {
            float* p = Allocate(values.Length);
            values.AsSpan().CopyTo(new Span<float>(p, values.Length));
            return p;
        }
    }
}
