using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Gen.Import;
using Gen.OrtDynamicQuantization;
using Gen.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The fidelity bar for Gen's integer BERT: ONNX Runtime's dynamic INT8 all-MiniLM-L6-v2 (the rewrite of
    /// tools/Gen.OrtDynamicQuantization: INT8 products with activation scales computed per call, LayerNorm, Softmax and
    /// GELU in float) against ONNX Runtime float32 on the same model.onnx. The sentences are the ones the sample scores
    /// Gen's integer encoder on (the first 200 of the evaluation half of data/text) and the 50 of the float reference
    /// test (every 26th), one at a time without padding; the embedding is the mean of the last hidden state. Measured:
    /// the cosine of each INT8 embedding to the float one, and how often both pick the same nearest neighbour among
    /// the other sentences. docs/bert.md has the numbers as the peer row.
    /// </summary>
    public sealed class OrtDynamicInt8FidelityTests
    {
        private readonly ITestOutputHelper _log;

        public OrtDynamicInt8FidelityTests(ITestOutputHelper log) => _log = log;

        [Fact]
        public void DynamicInt8FollowsFloat32()
        {
            byte[] model = ModelPackages.Bytes(ModelPackages.MiniLM);
            var encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(ModelPackages.MiniLM), 128);
            var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var float32 = new InferenceSession(model, options);
            using var int8 = new InferenceSession(DynamicQuantizer.Quantize(model).Model, options);

            var lines = File.ReadAllLines(Path.Combine(Support.Repository.Root, "data", "text", "evaluation.txt"));
            // Floors a little under what this rewrite measures here (200 sentences: mean 0.9929, minimum 0.9810, nearest
            // neighbour 84.0 %; 50: 0.9932, 0.9899, 72.0 %, fewer and more distant neighbours, so a noisier agreement),
            // so that a broken quantizer (a wrong scale axis, a lost zero point) fails.
            var sets = new (string Name, List<string> Sentences, double NearestFloor)[]
            {
                ("the sample's 200 (first of the evaluation half)", lines.Take(200).ToList(), 0.78),
                ("the float reference test's 50 (every 26th)", lines.Where((_, i) => i % 26 == 0).Take(50).ToList(), 0.64),
            };
            foreach (var (name, sentences, nearestFloor) in sets)
            {
                var ids = sentences.Select(encoder.Encode).ToList();
                var reference = ids.Select(s => MeanPooled(float32, s)).ToList();
                var quantized = ids.Select(s => MeanPooled(int8, s)).ToList();
                var cosines = reference.Zip(quantized, (a, b) => Similarity.Cosine(a, b)).ToArray();
                int agree = Enumerable.Range(0, ids.Count).Count(i => Nearest(reference, i) == Nearest(quantized, i));
                double mean = cosines.Average(), min = cosines.Min(), nn = (double)agree / ids.Count;
                _log.WriteLine($"{name}: {ids.Count} sentences of {ids.Min(s => s.Length)} to {ids.Max(s => s.Length)} tokens; mean cosine {mean:F4}, minimum {min:F4}; nearest neighbour agrees on {agree} ({100 * nn:F1} %)");

                Assert.True(mean >= 0.990, $"{name}: mean cosine {mean:F4}");
                Assert.True(min >= 0.975, $"{name}: minimum cosine {min:F4}");
                Assert.True(nn >= nearestFloor, $"{name}: nearest neighbour agreement {100 * nn:F1} %");
                Assert.True(mean < 0.99995, $"{name}: mean cosine {mean:F6}: the INT8 model should not be the float one");
            }
        }

        /// <summary>The mean over the tokens of ONNX Runtime's last hidden state for one unpadded sentence.</summary>
        internal static float[] MeanPooled(InferenceSession session, int[] ids)
        {
            int n = ids.Length;
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.Select(i => (long)i).ToArray(), new[] { 1, n })),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), new[] { 1, n })),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], new[] { 1, n })),
            };
            using var results = session.Run(inputs);
            var state = results.First(r => r.AsTensor<float>().Dimensions.Length == 3).AsTensor<float>();
            int width = state.Dimensions[2];
            var pooled = new float[width];
            for (int t = 0; t < n; t++)
            {
                for (int c = 0; c < width; c++) pooled[c] += state[0, t, c] / n;
            }

            return pooled;
        }

        private static int Nearest(List<float[]> embeddings, int i) =>
            Enumerable.Range(0, embeddings.Count).Where(j => j != i).OrderByDescending(j => Similarity.Cosine(embeddings[i], embeddings[j])).First();
    }
}
