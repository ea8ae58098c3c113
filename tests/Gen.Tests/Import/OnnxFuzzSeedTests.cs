using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Gen.Import;
using Gen.Import.Onnx.Proto;
using Gen.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace Gen.Tests.Import
{
    /// <summary>
    /// The seeds of the <c>onnx</c> fuzzing harness (tools/fuzz/corpus/onnx, docs/fuzzing.md): tiny BERT exports and the
    /// real MiniLM graph with every tensor (initializers and Constant values) cut to at most 2 x 2 (the graphs as exported, the weights small
    /// enough to mutate). Each seed is read as a BERT encoder, and the committed files are what this test makes; run it
    /// with GEN_WRITE_FUZZ_SEEDS=1 to write them again.
    /// </summary>
    public sealed class OnnxFuzzSeedTests
    {
        private static Dictionary<string, byte[]> Seeds() => new(StringComparer.Ordinal)
        {
            ["tiny-bert"] = new TinyBert(layers: 1).Onnx(),
            ["tiny-bert-2-layers-no-pooler"] = new TinyBert(layers: 2, width: 6, heads: 3, pooler: false).Onnx(),
            ["minilm-graph-small-weights"] = Shrink(ModelPackages.MiniLM),
        };

        [Fact]
        public void CommittedSeedsAreCurrentAndReadAsBert()
        {
            string folder = Path.Combine(Repository.Root, "tools", "fuzz", "corpus", "onnx");
            bool write = Environment.GetEnvironmentVariable("GEN_WRITE_FUZZ_SEEDS") == "1";
            foreach (var (name, bytes) in Seeds())
            {
                var checkpoint = BertCheckpoint.FromOnnx(bytes);
                Assert.True(checkpoint.Succeeded, name + ": " + checkpoint.Error);
                string path = Path.Combine(folder, name);
                if (write)
                {
                    Directory.CreateDirectory(folder);
                    File.WriteAllBytes(path, bytes);
                }

                Assert.True(File.Exists(path), $"{path} is missing: run this test with GEN_WRITE_FUZZ_SEEDS=1");
                Assert.True(File.ReadAllBytes(path).SequenceEqual(bytes), $"{path} is out of date: run this test with GEN_WRITE_FUZZ_SEEDS=1");
            }
        }

        /// <summary>The real graph, every tensor of more than 4 elements cut to its first min(d, 2) along each axis.</summary>
        private static byte[] Shrink(string package)
        {
            var model = ModelProto.Parser.ParseFrom(ModelPackages.Bytes(package));
            var tensors = model.Graph.Initializer.Concat(model.Graph.Node.SelectMany(n => n.Attribute).Where(a => a.T != null).Select(a => a.T));
            foreach (var t in tensors)
            {
                long count = t.Dims.Aggregate(1L, (a, d) => a * d);
                if (count <= 4 || !t.HasRawData) continue;
                int size = (int)(t.RawData.Length / count);
                var dims = t.Dims.ToArray();
                var small = dims.Select(d => Math.Min(d, 2)).ToArray();
                var raw = t.RawData.ToByteArray();
                var kept = new List<byte>();
                // Row-major: the element at small index (i0, i1, ...) of the original tensor.
                long smallCount = small.Aggregate(1L, (a, d) => a * d);
                for (long e = 0; e < smallCount; e++)
                {
                    long rest = e, offset = 0, stride = 1;
                    for (int axis = dims.Length - 1; axis >= 0; axis--)
                    {
                        offset += rest % small[axis] * stride;
                        rest /= small[axis];
                        stride *= dims[axis];
                    }

                    kept.AddRange(raw.Skip((int)(offset * size)).Take(size));
                }

                t.Dims.Clear();
                t.Dims.AddRange(small);
                t.RawData = ByteString.CopyFrom(kept.ToArray());
            }

            return model.ToByteArray();
        }
    }
}
