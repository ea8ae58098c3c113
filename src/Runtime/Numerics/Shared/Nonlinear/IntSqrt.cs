namespace Gen.Runtime.Kernels
{
    /// <summary>
    /// Exact integer square root, <c>floor(sqrt(n))</c>, by Newton's iteration on integers.
    /// </summary>
    /// <remarks>
    /// Start from <c>x = 2^ceil(bits(n) / 2)</c>, which is at least sqrt(n) because n &lt; 2^bits(n); iterate
    /// <c>x' = (x + n / x) / 2</c> (both divisions floor). While x &gt; floor(sqrt(n)) the iterate strictly decreases
    /// and never falls below floor(sqrt(n)) (the arithmetic-geometric mean inequality, then flooring); once
    /// x == floor(sqrt(n)) the next iterate is not smaller. So "iterate until it stops decreasing" returns exactly
    /// floor(sqrt(n)); a fixed small number of iterations would not be exact for every input. Shared with the generator,
    /// which computes the seeds of the emitted square root with it.
    /// </remarks>
    public static class IntSqrt
    {
        /// <summary>floor(sqrt(n)) for any 64-bit n; the result is at most 2^32 - 1.</summary>
        public static uint Floor(ulong n)
        {
            if (n == 0)
            {
                return 0;
            }

            int bits = 0;
            for (ulong m = n; m != 0; m >>= 1) bits++;
            // x <= 2^32 and n / x < 2^64 / x, so x + n / x < 2^33 for the first step and smaller afterwards:
            // no overflow in a ulong.
            ulong x = 1UL << ((bits + 1) / 2);
            while (true)
            {
                ulong next = (x + n / x) >> 1;
                if (next >= x)
                {
                    // x <= floor(sqrt(2^64 - 1)) = 2^32 - 1 here.
                    return (uint)x;
                }

                x = next;
            }
        }

        /// <summary>floor(sqrt(n)) for any 32-bit n; the result is at most 65,535.</summary>
        public static uint Floor(uint n) => Floor((ulong)n);
    }
}
