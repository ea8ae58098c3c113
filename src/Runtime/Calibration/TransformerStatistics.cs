using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Activation statistics of a float vision transformer over calibration images: one
    /// <see cref="HistogramCollector"/> per activation of <see cref="TransformerNames.Activations"/>, in that order,
    /// fed by the traced forward pass of <see cref="FloatTransformer"/>.
    /// </summary>
    /// <remarks>
    /// Images are run one at a time; each activation's values are gathered over a batch of images and handed to its
    /// collector as one batch, so a batch means the same as in <see cref="ModelStatistics"/> (the unit of the moving
    /// averages of <c>max-ma</c>) and the collectors' per-batch work is paid once per batch, not per image.
    /// Collection is sequential, so the histograms do not depend on thread timing.
    /// </remarks>
    public sealed class TransformerStatistics
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly HistogramCollector[] _tensors;
        private readonly float[][] _pending;
        private readonly int[] _pendingCount;
        private readonly float[] _logits;
        private readonly ActivationTrace _trace;

        /// <summary>Creates empty statistics for a model, gathering up to <paramref name="batchSize"/> images per batch.</summary>
        public TransformerStatistics(FloatTransformer model, int batchSize = 256, int binCount = 2048, double movingAverageConstant = 0.01)
        {
            Model = model ?? throw new ArgumentNullException(nameof(model));
            if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
            BatchSize = batchSize;
            var names = model.ActivationNames;
            _tensors = new HistogramCollector[names.Count];
            _pending = new float[names.Count][];
            _pendingCount = new int[names.Count];
            _logits = new float[model.OutputSize];
            for (int i = 0; i < names.Count; i++)
            {
                _index.Add(names[i], i);
                _tensors[i] = new HistogramCollector(names[i], binCount, movingAverageConstant);
            }

            _trace = Record;
        }

        /// <summary>The float model.</summary>
        public FloatTransformer Model { get; }

        /// <summary>Images per batch handed to the collectors.</summary>
        public int BatchSize { get; }

        /// <summary>One collector per activation, in the order of <see cref="FloatTransformer.ActivationNames"/>.</summary>
        public IReadOnlyList<HistogramCollector> Tensors
        {
            get
            {
                Flush();
                return _tensors;
            }
        }

        /// <summary>Images seen.</summary>
        public long Images { get; private set; }

        /// <summary>The collector of one activation.</summary>
        /// <exception cref="KeyNotFoundException">The model has no activation of that name.</exception>
        public HistogramCollector this[string name]
        {
            get
            {
                if (!_index.TryGetValue(name, out int i)) throw new KeyNotFoundException($"The transformer has no activation '{name}'.");
                Flush();
                return _tensors[i];
            }
        }

        /// <summary>Runs images (a whole number of <see cref="FloatTransformer.InputSize"/> values) and records their activations.</summary>
        public void Add(ReadOnlySpan<float> images)
        {
            int size = Model.InputSize;
            if (images.Length == 0 || images.Length % size != 0)
            {
                throw new ArgumentException($"{images.Length} values are not a whole, non-zero number of images of {size}.", nameof(images));
            }

            for (int offset = 0; offset < images.Length; offset += size)
            {
                Model.Run(images.Slice(offset, size), _logits, _trace);
                Images++;
                if (Images % BatchSize == 0) Flush();
            }
        }

        /// <summary>
        /// Collects statistics over a whole data set, reporting the images done so far to <paramref name="progress"/>
        /// after each batch.
        /// </summary>
        public static TransformerStatistics Collect(FloatTransformer model, ReadOnlySpan<float> images, int batchSize = 256,
            IProgress<long>? progress = null, int binCount = 2048)
        {
            var statistics = new TransformerStatistics(model, batchSize, binCount);
            int size = model.InputSize;
            if (images.Length == 0 || images.Length % size != 0)
            {
                throw new ArgumentException($"{images.Length} values are not a whole, non-zero number of images of {size}.", nameof(images));
            }

            int count = images.Length / size;
            for (int first = 0; first < count; first += batchSize)
            {
                int n = Math.Min(batchSize, count - first);
                statistics.Add(images.Slice(first * size, n * size));
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
