using System;
using System.Collections.Generic;
using Gen.Runtime.Interpreter;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Activation statistics of a float model over calibration data: one <see cref="HistogramCollector"/> for the
    /// input (named <c>input</c>) and one per layer output (named after the layer), gathered batch by batch.
    /// </summary>
    public sealed class ModelStatistics
    {
        /// <summary>Creates empty statistics for a model.</summary>
        public ModelStatistics(FloatModel model, int binCount = 2048, double movingAverageConstant = 0.01)
        {
            Model = model;
            var tensors = new List<HistogramCollector> { new HistogramCollector("input", binCount, movingAverageConstant) };
            foreach (var layer in model.Layers) tensors.Add(new HistogramCollector(layer.Name, binCount, movingAverageConstant));
            Tensors = tensors;
        }

        /// <summary>The model the statistics belong to.</summary>
        public FloatModel Model { get; }

        /// <summary>The input's statistics, then each layer output's.</summary>
        public IReadOnlyList<HistogramCollector> Tensors { get; }

        /// <summary>Rows seen.</summary>
        public long Rows { get; private set; }

        /// <summary>Runs one batch of rows through the float model and adds every activation to the statistics.</summary>
        public void Add(ReadOnlySpan<float> rows)
        {
            var outputs = Model.Forward(rows);
            Tensors[0].Add(rows);
            for (int l = 0; l < outputs.Length; l++) Tensors[l + 1].Add(outputs[l]);
            Rows += rows.Length / Model.InputSize;
        }

        /// <summary>
        /// Collects statistics over a whole data set in batches of <paramref name="batchSize"/> rows, reporting the
        /// rows done so far to <paramref name="progress"/> after each batch.
        /// </summary>
        public static ModelStatistics Collect(FloatModel model, ReadOnlySpan<float> data, int batchSize = 256,
            IProgress<long>? progress = null, int binCount = 2048)
        {
            if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
            if (data.Length == 0 || data.Length % model.InputSize != 0)
            {
                throw new ArgumentException($"{data.Length} values are not a whole, non-zero number of rows of {model.InputSize}.", nameof(data));
            }

            var statistics = new ModelStatistics(model, binCount);
            int rows = data.Length / model.InputSize;
            for (int r = 0; r < rows; r += batchSize)
            {
                int n = Math.Min(batchSize, rows - r);
                statistics.Add(data.Slice(r * model.InputSize, n * model.InputSize));
                progress?.Report(r + n);
            }

            return statistics;
        }
    }
}
