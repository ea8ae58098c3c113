using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Activation statistics of any float model over calibration samples: one <see cref="HistogramCollector"/> per
    /// activation of its graph (<see cref="FloatModel.ActivationNames"/>: the input, then each node's output), in that
    /// order, fed by the traced forward pass of <see cref="FloatModel"/>.
    /// </summary>
    /// <remarks>
    /// Each activation's values are gathered over a batch of samples and handed to its collector as one batch (the unit
    /// of the moving averages of <c>max-ma</c>), so the collectors' per-batch work is paid once per batch, not per sample.
    /// Collection is sequential, so the histograms do not depend on thread timing.
    /// </remarks>
    public sealed class ActivationStatistics
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly HistogramCollector[] _tensors;
        private readonly float[][] _pending;
        private readonly int[] _pendingCount;
        private readonly float[] _logits;
        private readonly ActivationTrace _trace;

        /// <summary>Creates empty statistics for a model, gathering up to <paramref name="batchSize"/> samples per batch.</summary>
        public ActivationStatistics(FloatModel model, int batchSize = 256, int binCount = 2048, double movingAverageConstant = 0.01)
        {
            Model = model ?? throw new ArgumentNullException(nameof(model));
            if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
            BatchSize = batchSize;
            var names = model.ActivationNames;
            _tensors = new HistogramCollector[names.Count];
            _pending = new float[names.Count][];
            _pendingCount = new int[names.Count];
            _logits = new float[model.OutputSize * batchSize];
            for (int i = 0; i < names.Count; i++)
            {
                _index.Add(names[i], i);
                _tensors[i] = new HistogramCollector(names[i], binCount, movingAverageConstant);
            }

            _trace = Record;
        }

        /// <summary>The float model.</summary>
        public FloatModel Model { get; }

        /// <summary>Samples per batch handed to the collectors.</summary>
        public int BatchSize { get; }

        /// <summary>One collector per activation, in the order of <see cref="FloatModel.ActivationNames"/>.</summary>
        public IReadOnlyList<HistogramCollector> Tensors
        {
            get
            {
                Flush();
                return _tensors;
            }
        }

        /// <summary>Samples seen.</summary>
        public long Samples { get; private set; }

        /// <summary>The collector of one activation.</summary>
        /// <exception cref="KeyNotFoundException">The model has no activation of that name.</exception>
        public HistogramCollector this[string name]
        {
            get
            {
                if (!_index.TryGetValue(name, out int i)) throw new KeyNotFoundException($"The model has no activation '{name}'.");
                Flush();
                return _tensors[i];
            }
        }

        /// <summary>Runs samples (a whole number of <see cref="FloatModel.InputSize"/> values) and records their activations.</summary>
        public void Add(ReadOnlySpan<float> samples)
        {
            int size = Model.InputSize;
            if (samples.Length == 0 || samples.Length % size != 0)
            {
                throw new ArgumentException($"{samples.Length} values are not a whole, non-zero number of samples of {size}.", nameof(samples));
            }

            int count = samples.Length / size;
            for (int done = 0; done < count;)
            {
                // Up to the end of the current batch, so that every batch the collectors see has BatchSize samples.
                int n = (int)Math.Min(count - done, BatchSize - Samples % BatchSize);
                Model.Run(samples.Slice(done * size, n * size), _logits.AsSpan(0, n * Model.OutputSize), _trace);
                Samples += n;
                done += n;
                if (Samples % BatchSize == 0) Flush();
            }
        }

        /// <summary>
        /// Runs padded token-id sequences (<see cref="FloatModel.Run(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, ActivationTrace?)"/>:
        /// each <see cref="FloatModel.InputSize"/> ids, <paramref name="lengths"/>[b] of them real) and records the
        /// activations of the real tokens only: a padded row does not reach the pooled output, so its values must not
        /// widen the ranges the real ones are quantized with.
        /// </summary>
        public void AddSequences(ReadOnlySpan<int> ids, ReadOnlySpan<int> lengths)
        {
            int size = Model.InputSize;
            if (lengths.IsEmpty || ids.Length != lengths.Length * size)
            {
                throw new ArgumentException($"{ids.Length} ids do not form {lengths.Length} sequences of {size}.", nameof(ids));
            }

            var graph = Model.Graph;
            for (int b = 0; b < lengths.Length; b++)
            {
                int real = lengths[b];
                Model.Run(ids.Slice(b * size, size), lengths.Slice(b, 1), _logits.AsSpan(0, Model.OutputSize), (name, values) =>
                {
                    // An activation with a row per token keeps its first `real` rows; a pooled one is whole.
                    var value = graph.Values[graph.IndexOf(name)];
                    Record(name, value.Rows == size ? values.Slice(0, real * value.Columns) : values);
                });
                Samples++;
                if (Samples % BatchSize == 0) Flush();
            }
        }

        /// <summary>
        /// Collects statistics over a whole data set, reporting the samples done so far to <paramref name="progress"/>
        /// after each batch.
        /// </summary>
        public static ActivationStatistics Collect(FloatModel model, ReadOnlySpan<float> samples, int batchSize = 256,
            IProgress<long>? progress = null, int binCount = 2048)
        {
            var statistics = new ActivationStatistics(model, batchSize, binCount);
            int size = model.InputSize;
            if (samples.Length == 0 || samples.Length % size != 0)
            {
                throw new ArgumentException($"{samples.Length} values are not a whole, non-zero number of samples of {size}.", nameof(samples));
            }

            int count = samples.Length / size;
            for (int first = 0; first < count; first += batchSize)
            {
                int n = Math.Min(batchSize, count - first);
                statistics.Add(samples.Slice(first * size, n * size));
                progress?.Report(first + n);
            }

            statistics.Flush();
            return statistics;
        }

        private void Record(string name, ReadOnlySpan<float> values)
        {
            int i = _index[name];
            var buffer = _pending[i] ??= new float[values.Length * BatchSize];
            if (_pendingCount[i] + values.Length > buffer.Length) Array.Resize(ref _pending[i], Math.Max(2 * buffer.Length, _pendingCount[i] + values.Length));
            values.CopyTo(_pending[i].AsSpan(_pendingCount[i]));
            _pendingCount[i] += values.Length;
        }

        private void Flush()
        {
            for (int i = 0; i < _tensors.Length; i++)
            {
                if (_pendingCount[i] == 0) continue;
                _tensors[i].Add(_pending[i].AsSpan(0, _pendingCount[i]));
                _pendingCount[i] = 0;
            }
        }
    }
}
