using System;
using System.Globalization;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The build-time bounds through the generator: GEN017 for an op whose integers could overflow, and the comments of the
    /// generated code, which state each op's bounds with numbers worked out here independently.
    /// </summary>
    public partial class DiagnosticTests
    {
        // ---- GEN017 --------------------------------------------------------------------------------------------

        [Fact]
        public void Gen017_GeluRequantizationCanOverflow()
        {
            // An output scale far finer than the GELU's working scale (about 2^-14.5): its requantization would shift the
            // INT32 GELU left by 16 bits, beyond an int (the kernel's MultiplyByQuantizedMultiplier would throw).
            string source = Vit.Value.Source().Replace("[MeanPool]", "[MeanPool]\n[Quantization(\"blocks.0.ffn.gelu\", 1e-9f, 0)]", StringComparison.Ordinal);
            var d = Expect(RunVit(source), "GEN017", "EncoderLayer(\"blocks.0\"",
                "GELU of 'blocks.0': the INT32 GELU y shifted left for its requantization can reach ");
            Assert.Contains("for some input, beyond 2^31 - 1; raise the GELU's output scale: S_eff / S_out = ", Message(d), StringComparison.Ordinal);
            Assert.Contains("is 1 or more, so the requantization shifts the result left by ", Message(d), StringComparison.Ordinal);
        }

        // ---- The bounds in the generated code ------------------------------------------------------------------

        /// <summary>How the comments write a bound: the worst case with thousands separators and the headroom in bits, floored to a tenth.</summary>
        private static string BoundText(string symbol, long worst, int bits) =>
            $"{symbol} <= {worst.ToString("N0", CultureInfo.InvariantCulture)} < 2^{bits} (headroom 2^" +
            (Math.Floor(10 * (bits - Math.Log2(worst))) / 10).ToString("0.0", CultureInfo.InvariantCulture) + ")";

        [Fact]
        public void GeneratedLayersStateTheirAccumulatorBoundsAndHeadroom()
        {
            var run = Run(ValidSource, ValidTensors().ToBytes());
            Assert.Empty(run.Errors);
            string code = run.GeneratedSource("Net.g.cs");
            // The layers as the runtime quantizes them; the bounds worked out here: 256 sum |w| + |bias| over the channels, and
            // that times M0 plus the rounding term for the requantization.
            var fc1 = QuantizedDense.FromFloat("fc1", 4, 3, new QuantizationParameters(0.02f, -3), new QuantizationParameters(0.05f, -128),
                FusedActivation.Relu, Values(12), Values(3, 1), true);
            var fc2 = QuantizedDense.FromFloat("fc2", 3, 2, new QuantizationParameters(0.05f, -128), new QuantizationParameters(0.1f, 5),
                FusedActivation.None, Values(6, 2), Values(2, 3), true);
            foreach (var layer in new[] { fc1, fc2 })
            {
                long accumulator = 0, product = 0;
                for (int n = 0; n < layer.OutputSize; n++)
                {
                    long bound = 256 * Enumerable.Range(0, layer.InputSize).Sum(i => (long)Math.Abs(layer.Weights[n * layer.InputSize + i])) + Math.Abs((long)layer.Bias[n]);
                    accumulator = Math.Max(accumulator, bound);
                    product = Math.Max(product, bound * layer.Multipliers[n] + (1L << 30));
                }

                string header = $"'{layer.Name}': fully connected";
                int at = code.IndexOf(header, StringComparison.Ordinal);
                Assert.True(at >= 0, header);
                string block = code.Substring(at, code.IndexOf("private static void", at, StringComparison.Ordinal) - at);
                Assert.Contains("//   Bounds (proven at build time for any input): " + BoundText("|acc|", accumulator, 31) + ";", block, StringComparison.Ordinal);
                Assert.Contains(BoundText("|acc M0|", product, 63) + ".", block, StringComparison.Ordinal);
            }
        }

        [Fact]
        public void GeneratedLayerOnAnInt16RouteStatesItsLaneBound()
        {
            // No two adjacent weights of a channel above 128 together: the two-step int16 route, whose lanes hold 255 x 127.
            const string source =
                "using Gen;\nnamespace DiagTest;\n[QuantizedModel(\"model.safetensors\")]\n[ModelInput(4, Scale = 0.02f, ZeroPoint = -3)]\n" +
                "[Dense(\"fc1\", 3, OutputScale = 0.05f, OutputZeroPoint = -128)]\npublic static partial class Net { }\n";
            var weights = new[] { 1f, 0, 0.5f, 0, 0, -1f, 0, 0.25f, 0.5f, 0, 0, -1f };
            var run = Run(source, new SafeTensorsWriter().F32("fc1.weight", weights, 3, 4).ToBytes());
            Assert.Empty(run.Errors);
            string code = run.GeneratedSource("Net.g.cs");
            Assert.Contains("Route Quad", code, StringComparison.Ordinal);
            Assert.Contains(BoundText("|int16 lane|", 255 * 127, 15) + ".", code, StringComparison.Ordinal);
        }

        [Fact]
        public void GeneratedTransformerStatesEveryOpsBounds()
        {
            var run = RunVit(Vit.Value.Source());
            Assert.Empty(run.Errors);
            string code = run.GeneratedSource("Vit.g.cs");
            var model = Vit.Value.Reference.Model;

            // Each op's comment, as the runtime's copy of the shared code proves it, stands above the op's code (a dense
            // layer's inside its kernels' header).
            for (int i = 0; i < model.Graph.Nodes.Count; i++)
            {
                var bounds = model.Bounds[i];
                if (model.Graph.Nodes[i].Kind == OpKind.Dense)
                {
                    // An int16 route adds its lanes' bound after the layer's own, which may wrap the lines otherwise.
                    Assert.Contains("//   Bounds (proven at build time for any input): " + bounds.All[0].Text, code, StringComparison.Ordinal);
                    continue;
                }

                foreach (string line in bounds.CommentLines()) Assert.Contains("// " + line, code, StringComparison.Ordinal);
            }

            // The attention's numbers, worked out here: d times the largest product of the ends of Q's and K's ranges, and the
            // context's sum of at most 256 + N / 2 probability units times the largest |v - Z_v|.
            var p = Vit.Value.Parameters;
            int zq = p["blocks.0.attn.q"].ZeroPoint, zk = p["blocks.0.attn.k"].ZeroPoint, zv = p["blocks.0.attn.v"].ZeroPoint;
            long product = new[] { (127L - zq) * (127 - zk), (-128L - zq) * (-128 - zk), (127L - zq) * (-128 - zk), (-128L - zq) * (127 - zk) }.Max(Math.Abs);
            const int tokens = 4, headSize = 8;
            int at = code.IndexOf("// Bounds (proven at build time for any input): |q.k|", StringComparison.Ordinal);
            Assert.True(at >= 0);
            string comment = code.Substring(at, code.IndexOf("/// <summary>", at, StringComparison.Ordinal) - at);
            Assert.Contains(BoundText("|q.k|", headSize * product, 31), comment, StringComparison.Ordinal);
            Assert.Contains(BoundText("|p.v|", Math.Max(127 - zv, 128 + zv) * Math.Min(255 * tokens, 256 + tokens / 2), 31), comment, StringComparison.Ordinal);
            Assert.Contains("Multi-head self-attention of 'blocks.0'", code.Substring(at, 2000), StringComparison.Ordinal);
        }
    }
}
