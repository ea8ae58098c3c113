using System;
using System.Linq;
using Gen.Runtime;
using Xunit;

namespace Gen.Tests.Memory
{
    /// <summary>The static memory planner: every plan valid (no two buffers live at one step share a byte), and as small as the known cases allow.</summary>
    public class MemoryPlannerTests
    {
        private static void AssertValid(MemoryPlan plan)
        {
            var b = plan.Buffers;
            for (int i = 0; i < b.Count; i++)
            {
                Assert.Equal(0, plan.Offsets[i] % MemoryPlanner.Alignment);
                Assert.True(plan.Offsets[i] + b[i].Bytes <= plan.TotalBytes);
                for (int j = i + 1; j < b.Count; j++)
                {
                    if (b[i].Bytes == 0 || b[j].Bytes == 0 || !b[i].OverlapsInTime(b[j])) continue;
                    bool apart = plan.Offsets[i] + b[i].Bytes <= plan.Offsets[j] || plan.Offsets[j] + b[j].Bytes <= plan.Offsets[i];
                    Assert.True(apart, $"'{b[i].Name}' and '{b[j].Name}' are live together but share bytes");
                }
            }

            Assert.True(plan.TotalBytes >= plan.PeakLiveBytes, "no plan can be below the peak of live bytes");
        }

        [Fact]
        public void BuffersThatAreNeverLiveTogetherShareMemory()
        {
            // 784-512-16-512-10 as an MLP's hidden layers: the two 512-wide ones can take the same bytes.
            var plan = MemoryPlanner.Plan(new[]
            {
                new BufferLifetime("h1", 512, 0, 1), new BufferLifetime("h2", 16, 1, 2), new BufferLifetime("h3", 512, 2, 3),
            });
            AssertValid(plan);
            Assert.Equal(0, plan.Offsets[0]);
            Assert.Equal(0, plan.Offsets[2]);
            Assert.Equal(512, plan.Offsets[1]);
            Assert.Equal(528, plan.TotalBytes);
            Assert.Equal(1040, plan.SumOfBuffers);
            Assert.Equal(528, plan.PeakLiveBytes);
        }

        [Fact]
        public void ASmallBufferFillsAGapBelowALargerOne()
        {
            // a [0,2] at 0..99; b [1,3] at 128..227; c is live with b only, and fits below it at 0 once a is dead.
            var plan = MemoryPlanner.Plan(new[]
            {
                new BufferLifetime("a", 100, 0, 2), new BufferLifetime("b", 100, 1, 3), new BufferLifetime("c", 60, 3, 4),
            });
            AssertValid(plan);
            Assert.Equal(new long[] { 0, 128, 0 }, plan.Offsets);
            Assert.Equal(228, plan.TotalBytes);
        }

        [Fact]
        public void RandomLifetimesGiveValidPlans()
        {
            var rng = new Random(5);
            for (int trial = 0; trial < 500; trial++)
            {
                int count = rng.Next(1, 30);
                var buffers = Enumerable.Range(0, count).Select(i =>
                {
                    int first = rng.Next(0, 20);
                    return new BufferLifetime("b" + i, rng.Next(0, 4) == 0 ? rng.Next(0, 3) : rng.Next(1, 5000), first, first + rng.Next(0, 6));
                }).ToArray();
                var plan = MemoryPlanner.Plan(buffers);
                AssertValid(plan);
                long alignedSum = buffers.Sum(b => (b.Bytes + 63) / 64 * 64);
                Assert.True(plan.TotalBytes <= alignedSum, "never worse than a buffer each");
            }
        }

        [Fact]
        public void LifetimesAreChecked()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new BufferLifetime("x", 10, 3, 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => new BufferLifetime("x", -1, 0, 2));
        }
    }
}
