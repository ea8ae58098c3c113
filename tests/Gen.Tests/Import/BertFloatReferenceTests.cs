using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Gen.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// Gen's float BERT (the graph of <see cref="BertFrontend"/> run by <see cref="FloatModel"/>, weights imported from
    /// the ONNX file) against ONNX Runtime running that same file, on real sentences of the evaluation corpus: the last
    /// hidden state within 1e-4 and the sentence embedding (the model's own pooling, then L2 normalization) at cosine
    /// 0.99999 or better, one sentence at a time and in a batch padded to a common length with an attention mask.
    /// The pooled reference is computed here from ONNX Runtime's last hidden state (the exported graphs end there;
    /// sentence-transformers pools outside the graph): the masked mean for MiniLM, the [CLS] row for Arctic-xs.
    /// </summary>
    public sealed class BertFloatReferenceTests
    {
        private const int MaxTokens = 128;
        private const int Sentences = 50;
        private readonly ITestOutputHelper _log;

        public BertFloatReferenceTests(ITestOutputHelper log) => _log = log;

        public static TheoryData<string> Packages => new() { ModelPackages.MiniLM, ModelPackages.ArcticXs };

        [Theory]
        [MemberData(nameof(Packages))]
        public void FloatEncoderMatchesOnnxRuntimeSentenceBySentence(string package)
        {
            var bert = Model.For(package);
            var sentences = EvaluationSentences(bert.Encoder);
            Assert.Equal(Sentences, sentences.Count);
            double worstState = 0, worstCosine = 1;
            int shortest = int.MaxValue, longest = 0;
            foreach (var ids in sentences)
            {
                int n = ids.Length;
                shortest = Math.Min(shortest, n);
                longest = Math.Max(longest, n);
                float[] expected = bert.OnnxRuntime(ids.Select(i => (long)i).ToArray(), Enumerable.Repeat(1L, n).ToArray(), 1, n);
                var (state, embedding) = bert.Gen(Padded(ids, bert.Encoder.PaddingId), n);
                worstState = Math.Max(worstState, MaxAbs(expected, state, n * bert.Width));
                worstCosine = Math.Min(worstCosine, Similarity.Cosine(bert.Pool(expected, n, n), embedding));
            }

            _log.WriteLine($"{package}: {Sentences} sentences of {shortest} to {longest} tokens, last hidden state max |diff| {worstState:E2}, worst embedding cosine 1 - {1 - worstCosine:E2}");
            Assert.True(shortest <= 12 && longest >= 60, $"the sentences should vary in length ({shortest} to {longest} tokens)");
            Assert.True(worstState <= 1e-4, $"last hidden state differs by {worstState:E3}");
            Assert.True(worstCosine >= 0.99999, $"embedding cosine {worstCosine:F7}");
        }

        /// <summary>
        /// One padded batch through ONNX Runtime (ids [B, L], attention mask 1 for real tokens) and the same padded rows
        /// through Gen with each sentence's length: every row matches, padded rows included (both compute them attending
        /// to the real tokens only), and the pooled embeddings leave the padding out.
        /// </summary>
        [Theory]
        [MemberData(nameof(Packages))]
        public void PaddedBatchWithAttentionMaskMatchesOnnxRuntime(string package)
        {
            var bert = Model.For(package);
            var texts = File.ReadAllLines(Path.Combine(Support.Repository.Root, "data", "text", "evaluation.txt")).Skip(7).Take(8).ToList();
            var batch = bert.Encoder.EncodeBatch(texts);
            Assert.True(batch.Lengths.Min() < batch.Length, "the batch should need padding");
            float[] expected = bert.OnnxRuntime(batch.InputIds, batch.AttentionMask, batch.Count, batch.Length);
            int l = batch.Length, w = bert.Width;
            double worstState = 0, worstPadded = 0, worstCosine = 1;
            for (int b = 0; b < batch.Count; b++)
            {
                var ids = batch.InputIds.Skip(b * l).Take(l).Select(i => (int)i).ToArray();
                var (state, embedding) = bert.Gen(Padded(ids, bert.Encoder.PaddingId), batch.Lengths[b]);
                var row = expected.AsSpan(b * l * w, l * w).ToArray();
                int real = batch.Lengths[b] * w;
                worstState = Math.Max(worstState, MaxAbs(row, state, real));
                worstPadded = Math.Max(worstPadded, MaxAbs(row.Skip(real).ToArray(), state.Skip(real).ToArray(), l * w - real));
                worstCosine = Math.Min(worstCosine, Similarity.Cosine(bert.Pool(row, l, batch.Lengths[b]), embedding));
            }

            _log.WriteLine($"{package}: batch of {batch.Count} padded to {l} (lengths {string.Join(", ", batch.Lengths)}): real rows {worstState:E2}, padded rows {worstPadded:E2}, cosine 1 - {1 - worstCosine:E2}");
            Assert.True(worstState <= 1e-4 && worstPadded <= 1e-4, $"rows differ by {worstState:E3} (padded {worstPadded:E3})");
            Assert.True(worstCosine >= 0.99999, $"embedding cosine {worstCosine:F7}");
        }

        /// <summary>
        /// The mask is what makes padding harmless: without it (every position counted real) the embedding moves far
        /// from ONNX Runtime's unpadded one, so the tests above could not pass by ignoring the lengths.
        /// </summary>
        [Fact]
        public void PaddingWithoutTheMaskChangesTheEmbedding()
        {
            var bert = Model.For(ModelPackages.MiniLM);
            int[] ids = bert.Encoder.Encode("The committee will report its findings to the Congress.");
            int n = ids.Length;
            float[] expected = bert.OnnxRuntime(ids.Select(i => (long)i).ToArray(), Enumerable.Repeat(1L, n).ToArray(), 1, n);
            var (_, masked) = bert.Gen(Padded(ids, bert.Encoder.PaddingId), n);
            var (_, unmasked) = bert.Gen(Padded(ids, bert.Encoder.PaddingId), MaxTokens);
            double good = Similarity.Cosine(bert.Pool(expected, n, n), masked), bad = Similarity.Cosine(bert.Pool(expected, n, n), unmasked);
            _log.WriteLine($"masked cosine {good:F7}, unmasked {bad:F4}");
            Assert.True(good >= 0.99999);
            Assert.True(bad < 0.99, $"padding without a mask should move the embedding (cosine {bad:F4})");
        }

        [Fact]
        public void BadLengthsAndIdsAreRefusedWithTheLimitNamed()
        {
            var bert = Model.For(ModelPackages.MiniLM);
            var ids = new int[MaxTokens];
            var output = new float[bert.Width];
            Assert.Contains("lengths run from 1", Assert.Throws<ArgumentException>(() => bert.Pooled.Run(ids, new[] { 0 }, output)).Message);
            Assert.Contains("lengths run from 1", Assert.Throws<ArgumentException>(() => bert.Pooled.Run(ids, new[] { MaxTokens + 1 }, output)).Message);
            Assert.Contains("pad each sequence", Assert.Throws<ArgumentException>(() => bert.Pooled.Run(ids.AsSpan(1), new[] { 3 }, output)).Message);
            ids[3] = 30522;
            Assert.Contains("outside the vocabulary of 30522", Assert.Throws<ArgumentOutOfRangeException>(() => bert.Pooled.Run(ids, new[] { 5 }, output)).Message);
        }

        /// <summary>The graph's shape comes from the weights; what the ONNX graph alone shows (heads, epsilon) is checked.</summary>
        [Fact]
        public void ShapeComesFromTheCheckpointAndIsChecked()
        {
            var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(ModelPackages.MiniLM)).Value!;
            var shape = checkpoint.Shape(MaxTokens, BertPooling.Mean, normalize: true).Value!;
            Assert.Equal(new BertShape(30522, 512, 2, MaxTokens, 6, 12, 384, 1536, 1e-12f, BertPooling.Mean, true), shape);
            Assert.Contains("1 to 512 tokens", checkpoint.Shape(513, BertPooling.Mean).Error);
            Assert.Contains("splits the width into 12", checkpoint.Shape(64, BertPooling.Mean, heads: 8).Error);
            var graph = BertFrontend.Build(shape);
            Assert.Equal(new[] { OpKind.Embedding, OpKind.LayerNorm }, graph.Nodes.Take(2).Select(n => n.Kind));
            // Embeddings and their norm, 12 nodes a layer plus the INT8 narrowings of its two wide LayerNorms, the narrowing
            // of the last hidden state, pooling, normalization.
            Assert.Equal(2 + 6 * (12 + 2) + 1 + 2, graph.Nodes.Count);
            Assert.Equal(2 + 6 * 12 + 2, BertFrontend.Build(shape with { WideResidual = false }).Nodes.Count);
            Assert.All(graph.Values.Where(v => v.IsWide), v => Assert.Matches(@"(output\.dense|residual|LayerNorm\.wide)$", v.Name));
            Assert.Equal(6 * 6 + 1, graph.Values.Count(v => v.IsWide)); // 6 a layer and the embeddings' LayerNorm
            Assert.Equal("encoder.layer.5.output.LayerNorm", shape.LastHiddenState);
        }

        /// <summary>
        /// The two import routes end in the same graph and the same weights: the ONNX export's tensors written as a
        /// Hugging Face safetensors checkpoint (with the <c>bert.</c> prefix a task model's checkpoint has) and read back
        /// give the same bytes, the same shape once the heads are given, and the same embeddings.
        /// </summary>
        [Fact]
        public void SafeTensorsAndOnnxRoutesGiveTheSameGraphAndWeights()
        {
            var fromOnnx = BertCheckpoint.FromOnnx(ModelPackages.Model(ModelPackages.MiniLM)).Value!;
            var onnxFile = fromOnnx.ToSafeTensors();
            var entries = onnxFile.Tensors.Values.Select(t => SafeTensorsBytes.Entry.Float("bert." + t.Name, t.Shape, onnxFile.ReadFloat32(t)));
            var fromSafeTensors = BertCheckpoint.FromSafeTensors(SafeTensorsBytes.Write(entries));
            Assert.True(fromSafeTensors.Succeeded, fromSafeTensors.Error);
            Assert.Contains("num_attention_heads", fromSafeTensors.Value!.Shape(MaxTokens, BertPooling.Mean).Error);
            var shapeOnnx = fromOnnx.Shape(MaxTokens, BertPooling.Mean, normalize: true).Value!;
            var shapeSafeTensors = fromSafeTensors.Value.Shape(MaxTokens, BertPooling.Mean, normalize: true, heads: 12).Value!;
            Assert.Equal(shapeOnnx, shapeSafeTensors);
            Assert.Equal(BertFrontend.Build(shapeOnnx), BertFrontend.Build(shapeSafeTensors));

            var safeFile = fromSafeTensors.Value.ToSafeTensors();
            Assert.Equal(onnxFile.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal), safeFile.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var t in onnxFile.Tensors.Values) Assert.Equal(onnxFile.ReadFloat32(t), safeFile.ReadFloat32(safeFile.Tensors[t.Name]));

            var bert = Model.For(ModelPackages.MiniLM);
            int[] ids = Padded(bert.Encoder.Encode("Both routes read the same encoder."), bert.Encoder.PaddingId);
            var a = new float[bert.Width];
            var b = new float[bert.Width];
            FloatModel.Bert(onnxFile, shapeOnnx).Run(ids, new[] { 9 }, a);
            FloatModel.Bert(safeFile, shapeSafeTensors).Run(ids, new[] { 9 }, b);
            Assert.Equal(a, b);
        }

        private static int[] Padded(int[] ids, int pad)
        {
            var padded = Enumerable.Repeat(pad, MaxTokens).ToArray();
            ids.CopyTo(padded, 0);
            return padded;
        }

        // Every 26th sentence of the evaluation half: 50 sentences from the whole corpus, short and long.
        private static List<int[]> EvaluationSentences(BertTextEncoder encoder) =>
            File.ReadAllLines(Path.Combine(Support.Repository.Root, "data", "text", "evaluation.txt"))
                .Where((_, i) => i % 26 == 0).Take(Sentences).Select(encoder.Encode).ToList();

        private static double MaxAbs(float[] a, float[] b, int count)
        {
            double worst = 0;
            for (int i = 0; i < count; i++) worst = Math.Max(worst, Math.Abs((double)a[i] - b[i]));
            return worst;
        }

        /// <summary>One real model: its ONNX Runtime session, its tokenizer and Gen's float encoder, built once per test run.</summary>
        private sealed class Model
        {
            private static readonly Dictionary<string, Model> Built = new();
            private readonly InferenceSession _session;
            private readonly string _stateOutput;

            private Model(string package)
            {
                Package = package;
                Encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(package), MaxTokens);
                var checkpoint = BertCheckpoint.FromOnnx(ModelPackages.Model(package));
                Assert.True(checkpoint.Succeeded, checkpoint.Error);
                Cls = package == ModelPackages.ArcticXs; // snowflake-arctic-embed pools the [CLS] row; all-MiniLM-L6-v2 the mean
                var shape = checkpoint.Value!.Shape(MaxTokens, Cls ? BertPooling.Cls : BertPooling.Mean, normalize: true);
                Assert.True(shape.Succeeded, shape.Error);
                Shape = shape.Value!;
                Pooled = FloatModel.Bert(checkpoint.Value.ToSafeTensors(), Shape);
                var options = new SessionOptions { IntraOpNumThreads = 1 };
                _session = new InferenceSession(ModelPackages.Bytes(package), options);
                _stateOutput = _session.OutputMetadata.First(o => o.Value.Dimensions.Length == 3).Key;
            }

            public string Package { get; }

            public BertTextEncoder Encoder { get; }

            public bool Cls { get; }

            public BertShape Shape { get; }

            public FloatModel Pooled { get; }

            public int Width => Shape.Width;

            public static Model For(string package)
            {
                lock (Built)
                {
                    if (!Built.TryGetValue(package, out var model)) Built[package] = model = new Model(package);
                    return model;
                }
            }

            /// <summary>ONNX Runtime's last hidden state [count, length, width].</summary>
            public float[] OnnxRuntime(long[] ids, long[] mask, int count, int length)
            {
                var inputs = new List<NamedOnnxValue>
                {
                    NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, new[] { count, length })),
                    NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, new[] { count, length })),
                };
                if (_session.InputMetadata.ContainsKey("token_type_ids"))
                {
                    inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], new[] { count, length })));
                }

                lock (_session)
                {
                    using var results = _session.Run(inputs);
                    return results.First(r => r.Name == _stateOutput).AsTensor<float>().ToArray();
                }
            }

            /// <summary>Gen's last hidden state [MaxTokens, width] (from the trace) and normalized embedding of one padded sequence.</summary>
            public (float[] State, float[] Embedding) Gen(int[] paddedIds, int length)
            {
                var state = new float[MaxTokens * Width];
                var embedding = new float[Width];
                lock (Pooled)
                {
                    Pooled.Run(paddedIds, new[] { length }, embedding, (name, values) =>
                    {
                        if (name == Shape.LastHiddenState) values.CopyTo(state);
                    });
                }

                return (state, embedding);
            }

            /// <summary>The reference sentence embedding from rows [rows, width] of a last hidden state, the first <paramref name="real"/> real.</summary>
            public float[] Pool(float[] state, int rows, int real)
            {
                var pooled = new double[Width];
                for (int t = 0; t < (Cls ? 1 : real); t++)
                {
                    for (int c = 0; c < Width; c++) pooled[c] += state[t * Width + c];
                }

                double norm = Math.Sqrt(pooled.Sum(v => v * v));
                return pooled.Select(v => (float)(v / norm)).ToArray();
            }
        }
    }
}
