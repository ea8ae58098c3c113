using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Generators.Planning.Frontends
{
    /// <summary>
    /// [BertEncoder] through <see cref="BertFrontend"/>: the checkpoint is read (an ONNX export or a Hugging Face
    /// safetensors file, by <see cref="BertCheckpoint"/>), every number the attribute gives is checked against it, and
    /// the graph gets the checkpoint's own shape. Every activation's parameters come from the calibration file.
    /// </summary>
    internal static class BertDeclaration
    {
        public static (DeclaredGraph Declared, SafeTensorsFile Weights)? Build(ModelSpec spec, WeightsFileSpec file, ProblemList problems,
            List<DiagnosticInfo> diagnostics)
        {
            var b = spec.Bert!;
            if (file.Error != null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileUnreadable, spec.Location, spec.WeightsFile, file.Error));
                return null;
            }

            bool onnx = file.SourcePath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
            var read = onnx ? BertCheckpoint.FromOnnx(file.Bytes.AsArray()) : BertCheckpoint.FromSafeTensors(file.Bytes.AsArray());
            if (!read.Succeeded)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileUnreadable, spec.Location, spec.WeightsFile, read.Error!));
                return null;
            }

            var checkpoint = read.Value!;
            var a = checkpoint.Architecture;
            void Check(string name, int declared, int actual, string evidence)
            {
                if (declared == 0 || declared == actual) return;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, b.Location, string.Format(CultureInfo.InvariantCulture,
                    "[BertEncoder] declares {0} = {1} but the weights have {2} ({3}); give {2} or leave {0} out", name, declared, actual, evidence)));
            }

            Check("Layers", b.Layers, a.Layers, $"encoder.layer.0 to encoder.layer.{a.Layers - 1}");
            Check("Width", b.Width, a.Width, $"embeddings.word_embeddings.weight is [{a.Vocabulary}, {a.Width}]");
            Check("FeedForward", b.FeedForward, a.FeedForward, $"encoder.layer.0.intermediate.dense.weight is [{a.FeedForward}, {a.Width}]");
            Check("Vocabulary", b.Vocabulary, a.Vocabulary, $"embeddings.word_embeddings.weight is [{a.Vocabulary}, {a.Width}]");
            if (a.Heads.HasValue) Check("Heads", b.Heads, a.Heads.Value, "the graph's reshape to [batch, tokens, heads, head size]");
            if (b.Normalize)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedOption, b.Location,
                    "[BertEncoder] Normalize: the integer model has no L2 normalization yet; leave it out and normalize the dequantized embedding (a cosine similarity does not need it)"));
            }

            if (diagnostics.Count > 0) return null;

            var pooling = b.Pooling switch { 1 => BertPooling.Cls, 2 => BertPooling.None, _ => BertPooling.Mean };
            var shape = checkpoint.Shape(b.MaxTokens, pooling, b.Normalize, b.Heads == 0 ? null : b.Heads);
            if (!shape.Succeeded)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, b.Location, "[BertEncoder]: " + shape.Error));
                return null;
            }

            var bert = shape.Value! with { WideResidual = b.WideResidual };
            var graph = BertFrontend.Build(bert, problems);
            var origins = BertFrontend.Parts(bert).Select(_ => b.Location).ToArray();
            var requests = graph.Activations().Select(name => new QuantizationSpec(name, null, null, b.Location)).ToList();
            return (new DeclaredGraph(graph, origins, requests), checkpoint.ToSafeTensors());
        }

        /// <summary>The encoder as the generated class's summary describes it.</summary>
        public static string Summary(ModelGraph graph, BertSpec b)
        {
            var layers = graph.Nodes.Where(n => n.Kind == OpKind.Attention).ToList();
            var words = graph.Nodes.First(n => n.Kind == OpKind.Embedding);
            var embedding = (EmbeddingAttributes)words.Attributes;
            var attention = (AttentionAttributes)layers[0].Attributes;
            var ffn = graph.Nodes.First(n => n.Kind == OpKind.Gelu);
            string I(long v) => v.ToString(CultureInfo.InvariantCulture);
            string pooling = b.Pooling switch { 1 => "the [CLS] row", 2 => "no pooling (every token's row)", _ => "masked mean pooling" };
            return $"BERT, {I(layers.Count)} post-LayerNorm layers, width {I(embedding.Width)}, {I(attention.Heads)} heads, feed-forward " +
                $"{I(graph.Values[ffn.Output].Columns)}, vocabulary {I(embedding.Vocabulary)}, up to {I(graph.InputValue.Elements)} tokens, {pooling}";
        }
    }
}
