using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Gen.Benchmarks
{
    /// <summary>Billions of multiply-accumulates per second: M * K * N (a transformer: the MACs of its matrix products, or
    /// [MacsPerCall]) over the mean time per call.</summary>
    public sealed class GmacColumn : IColumn
    {
        public string Id => "GMAC/s";
        public string ColumnName => "GMAC/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Billions of multiply-accumulates per second (M*K*N / mean time per call)";

        /// <summary>MACs per call of a benchmark case, or 0 when unknown.</summary>
        public static long MacsOf(BenchmarkCase benchmarkCase)
        {
            foreach (var parameter in benchmarkCase.Parameters.Items)
            {
                if (parameter.Name == nameof(GemmBenchmarks.Shape) && parameter.Value is string shape) return GemmShape.Parse(shape).Macs;
                if (parameter.Name == nameof(TransformerBenchmarks.Model) && parameter.Value is string model)
                {
                    return TransformerCase.MacsOf(TransformerCase.ShapeOf(model));
                }
            }

            return benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<MacsPerCallAttribute>()?.Macs ?? 0;
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            long macs = MacsOf(benchmarkCase);
            if (statistics == null || macs == 0 || statistics.Mean <= 0) return "-";
            return (macs / statistics.Mean).ToString("F2", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public override string ToString() => ColumnName;
    }
}
