using System;
using System.Diagnostics;

namespace Gen.Samples.Mnist
{
    /// <summary>Latency measurement and arg-max shared by the samples.</summary>
    internal static class SampleTiming
    {
        /// <summary>
        /// Best of several timed passes after a warm-up long enough for the JIT's tiered compilation to settle, in
        /// microseconds per inference.
        /// </summary>
        public static double Time(Action pass, int inferences)
        {
            long warmUp = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < 500) pass();
            double best = double.MaxValue;
            for (int r = 0; r < 7; r++)
            {
                long start = Stopwatch.GetTimestamp();
                pass();
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds / inferences);
            }

            return best;
        }

        /// <summary>The index of the largest value (the first one on ties).</summary>
        public static int ArgMax(ReadOnlySpan<float> values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
            return best;
        }
    }
}
