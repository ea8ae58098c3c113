using System;

namespace Gen.Runtime.Calibration
{
    /// <summary>
    /// Searches the bins [a, b) of a histogram for the range that minimizes an objective. Symmetric problems are
    /// solved on the folded histogram with a = 0. Asymmetric ones alternate: the upper end with the lower fixed,
    /// then the lower with the upper fixed, twice, starting from the full range. Every candidate keeps 0 inside;
    /// among equal objectives the widest range wins (as TensorRT's calibrator keeps the last minimum).
    /// </summary>
    internal static class RangeSearch
    {
        public static CalibrationRange Run(HistogramView view, bool symmetric, int minBins, Func<int, int, double> objective)
        {
            var (first, last) = view.Occupied();
            int z = view.ZeroBin;
            int a = Math.Min(first, z), b = Math.Max(last + 1, z);
            if (symmetric)
            {
                b = Upper(a, b, z, last, minBins, objective);
                double t = view.RangeOf(0, b).Max;
                return new CalibrationRange(-t, t);
            }

            for (int round = 0; round < 2; round++)
            {
                b = Upper(a, b, z, last, minBins, objective);
                a = Lower(a, b, z, first, minBins, objective);
            }

            return view.RangeOf(a, b);
        }

        private static int Upper(int a, int b, int z, int last, int minBins, Func<int, int, double> objective)
        {
            int top = last + 1, bottom = Math.Max(z + 1, a + minBins);
            if (top <= z || bottom > top) return b;
            double best = double.PositiveInfinity;
            int chosen = top;
            for (int c = top; c >= bottom; c--)
            {
                double v = objective(a, c);
                if (v < best)
                {
                    best = v;
                    chosen = c;
                }
            }

            return chosen;
        }

        private static int Lower(int a, int b, int z, int first, int minBins, Func<int, int, double> objective)
        {
            int bottom = first, top = Math.Min(z - 1, b - minBins);
            if (first >= z || top < bottom) return a;
            double best = double.PositiveInfinity;
            int chosen = bottom;
            for (int c = bottom; c <= top; c++)
            {
                double v = objective(c, b);
                if (v < best)
                {
                    best = v;
                    chosen = c;
                }
            }

            return chosen;
        }
    }
}
