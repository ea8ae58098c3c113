using System;
using Gen.Runtime.Kernels;
using Xunit;

namespace Gen.Tests.Nonlinear
{
    public class IntSqrtTests
    {
        [Fact]
        public void SmallValuesAreExact()
        {
            Assert.Equal(0u, IntSqrt.Floor(0UL));
            Assert.Equal(1u, IntSqrt.Floor(1UL));
            for (ulong n = 0; n < 100_000; n++)
            {
                Assert.Equal(Reference(n), IntSqrt.Floor(n));
            }
        }

        [Fact]
        public void PerfectSquaresAndNeighboursAreExact()
        {
            var random = new Random(1234);
            for (int i = 0; i < 200_000; i++)
            {
                // k spread over every magnitude up to 2^32 - 1.
                ulong k = i < 1000 ? (ulong)i : (ulong)(random.NextDouble() * Math.Pow(2, random.Next(1, 33)));
                k = Math.Min(k, uint.MaxValue);
                ulong square = k * k;
                Assert.Equal((uint)k, IntSqrt.Floor(square));
                Assert.Equal((uint)k, IntSqrt.Floor(square + 2 * k)); // (k + 1)^2 - 1
                if (k > 0)
                {
                    Assert.Equal((uint)(k - 1), IntSqrt.Floor(square - 1));
                }

                if (k > 0 && k < uint.MaxValue)
                {
                    Assert.Equal((uint)k, IntSqrt.Floor(square + 1));
                }
            }
        }

        [Fact]
        public void ExtremesAreExact()
        {
            Assert.Equal(65535u, IntSqrt.Floor(uint.MaxValue));
            Assert.Equal(65535u, IntSqrt.Floor((ulong)uint.MaxValue));
            Assert.Equal(65536u, IntSqrt.Floor((ulong)uint.MaxValue + 1));
            Assert.Equal(uint.MaxValue, IntSqrt.Floor(ulong.MaxValue));
            ulong top = (ulong)uint.MaxValue * uint.MaxValue; // (2^32 - 1)^2
            Assert.Equal(uint.MaxValue, IntSqrt.Floor(top));
            Assert.Equal(uint.MaxValue - 1, IntSqrt.Floor(top - 1));
            for (ulong d = 0; d < 1000; d++)
            {
                Assert.Equal(uint.MaxValue, IntSqrt.Floor(ulong.MaxValue - d));
                Assert.Equal(Reference(top - 1 - d), IntSqrt.Floor(top - 1 - d));
                Assert.Equal(Reference((1UL << 63) + d), IntSqrt.Floor((1UL << 63) + d));
                Assert.Equal(Reference((1UL << 63) - d), IntSqrt.Floor((1UL << 63) - d));
            }

            for (int bit = 0; bit < 64; bit++)
            {
                ulong p = 1UL << bit;
                Assert.Equal(Reference(p), IntSqrt.Floor(p));
                Assert.Equal(Reference(p - 1), IntSqrt.Floor(p - 1));
                Assert.Equal(Reference(p + 1), IntSqrt.Floor(p + 1));
            }
        }

        [Fact]
        public void RandomValuesAreExact()
        {
            var random = new Random(99);
            var bytes = new byte[8];
            for (int i = 0; i < 300_000; i++)
            {
                random.NextBytes(bytes);
                ulong n = BitConverter.ToUInt64(bytes, 0) >> random.Next(0, 64);
                Assert.Equal(Reference(n), IntSqrt.Floor(n));
                uint small = (uint)n;
                Assert.Equal(Reference(small), IntSqrt.Floor(small));
            }
        }

        /// <summary>floor(sqrt(n)) from a double estimate corrected with exact 128-bit squares.</summary>
        private static uint Reference(ulong n)
        {
            ulong r = (ulong)Math.Sqrt(n);
            r = Math.Min(r, uint.MaxValue);
            while (r > 0 && (UInt128)r * r > n)
            {
                r--;
            }

            while (r < uint.MaxValue && (UInt128)(r + 1) * (r + 1) <= n)
            {
                r++;
            }

            return (uint)r;
        }
    }
}
