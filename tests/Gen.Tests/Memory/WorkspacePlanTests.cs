extern alias generator;
using System.Linq;
using Xunit;
using Xunit.Abstractions;
using WorkspaceLayout = generator::Gen.Generators.Planning.WorkspaceLayout;

namespace Gen.Tests.Memory
{
    /// <summary>
    /// The workspace plans of whole models, measured: the planned size against a buffer per value and against the peak of
    /// live bytes (the README quotes these numbers; run with --logger "console;verbosity=detailed" to see them).
    /// </summary>
    public class WorkspacePlanTests
    {
        private readonly ITestOutputHelper _log;

        public WorkspacePlanTests(ITestOutputHelper log) => _log = log;

        private void Report(string model, generator::Gen.Runtime.MemoryPlan plan, long before)
        {
            _log.WriteLine($"{model}: plan {plan.TotalBytes:N0} bytes, a buffer per value {plan.SumOfBuffers:N0}, peak live {plan.PeakLiveBytes:N0}, " +
                $"buffers per role before {before:N0}");
            Assert.InRange(plan.TotalBytes, plan.PeakLiveBytes, plan.SumOfBuffers);
        }

        [Fact]
        public void MnistVit()
        {
            // 16 tokens of width 64, 7x7 patches, 2 layers with feed-forward 128, a 10-way head: the graph the sample builds.
            var shape = new generator::Gen.Runtime.TransformerShape(28, 28, 1, 7, 64, "embed",
                new[] { new generator::Gen.Runtime.EncoderLayerShape("blocks.0", 4, 128), new generator::Gen.Runtime.EncoderLayerShape("blocks.1", 4, 128) },
                "norm", new[] { new generator::Gen.Runtime.HeadLayerShape("head", 10) });
            var layout = WorkspaceLayout.For(generator::Gen.Runtime.Graph.VisionTransformerFrontend.Build(shape));
            Report("MNIST ViT", layout.Plan, 16 * (6 * 64 + 128 + 49));
            // The busiest step is the attention: the layer input, Q, K, V and the context, 5 x 1,024 bytes.
            Assert.Equal(5 * 1024, layout.Plan.PeakLiveBytes);
            Assert.Equal(5 * 1024, layout.Plan.TotalBytes);
        }

        [Fact]
        public void BertBaseSizedLayerStack()
        {
            // 128 tokens, width 768, 12 layers with feed-forward 3072 (BERT-base; no head): a 32x64 image of 4x4 patches.
            var shape = new generator::Gen.Runtime.TransformerShape(32, 64, 1, 4, 768, "embed",
                Enumerable.Range(0, 12).Select(i => new generator::Gen.Runtime.EncoderLayerShape("layer." + i, 12, 3072)).ToArray(), "norm",
                new generator::Gen.Runtime.HeadLayerShape[0]);
            var layout = WorkspaceLayout.For(generator::Gen.Runtime.Graph.VisionTransformerFrontend.Build(shape));
            Report("BERT-base-sized stack", layout.Plan, 128 * (6 * 768 + 3072));
            // The feed-forward block is the busiest: the residual stream, the hidden layer and the output, (768 + 3072 + 768) x 128.
            Assert.Equal(128 * (768 + 3072 + 768), layout.Plan.PeakLiveBytes);
            Assert.Equal(layout.Plan.PeakLiveBytes, layout.Plan.TotalBytes);
        }

        [Fact]
        public void WideHeadMlpSharesBytesBetweenLayersTwoApart()
        {
            // What the MLP emitter asks for: 784-512-16-512-10, blocks of 4 rows.
            var plan = generator::Gen.Runtime.MemoryPlanner.Plan(new[]
            {
                new generator::Gen.Runtime.BufferLifetime("h1", 4 * 512, 0, 1), new generator::Gen.Runtime.BufferLifetime("h2", 4 * 16, 1, 2),
                new generator::Gen.Runtime.BufferLifetime("h3", 4 * 512, 2, 3),
            });
            Report("MLP 784-512-16-512-10", plan, 2 * 4 * 512);
            Assert.Equal(4 * 512 + 64, plan.TotalBytes);
        }
    }
}
