using System;
using System.Diagnostics;
using System.Linq;
using Gen.Import;
using Xunit;
using Xunit.Abstractions;

namespace Gen.Tests.Import
{
    /// <summary>
    /// Random mutations of real ONNX bytes (the tiny BERT export and the first 64 KB of the real MiniLM file): the reader
    /// and the BERT import return a value or an error, each within a second, and never reach their last-resort handler
    /// (whose message says "could not be read (ExceptionType: ..."), which would mean some code threw.
    /// </summary>
    public sealed class OnnxFuzzTests
    {
        private readonly ITestOutputHelper _log;

        public OnnxFuzzTests(ITestOutputHelper log) => _log = log;

        [Theory]
        [InlineData("tiny", 4000)]
        [InlineData("minilm-prefix", 1500)]
        public void MutatedFilesGiveErrorsNotExceptions(string seedName, int cases)
        {
            byte[] seed = seedName == "tiny" ? new TinyBert(layers: 1).Onnx() : ModelPackages.Bytes(ModelPackages.MiniLM).AsSpan(0, 65536).ToArray();
            var random = new Random(seedName.Length * 7919);
            int accepted = 0, bert = 0;
            var slowest = TimeSpan.Zero;
            for (int n = 0; n < cases; n++)
            {
                byte[] bytes = Mutate(seed, random);
                var clock = Stopwatch.StartNew();
                var model = OnnxModel.Read(bytes);
                Assert.True(model.Succeeded || !model.Error!.Contains("could not be read ("), $"case {n}: {model.Error}");
                if (model.Succeeded)
                {
                    accepted++;
                    var checkpoint = BertCheckpoint.FromOnnx(model.Value!);
                    Assert.True(checkpoint.Succeeded || !checkpoint.Error!.Contains("could not be read ("), $"case {n}: {checkpoint.Error}");
                    if (checkpoint.Succeeded) bert++;
                    foreach (var tensor in model.Value!.Graph.InitializerList)
                    {
                        var floats = tensor.ReadFloat32();
                        if (floats.Succeeded) Assert.Equal(tensor.ElementCount, floats.Value!.Length);
                        var ints = tensor.ReadInt64();
                        if (ints.Succeeded) Assert.Equal(tensor.ElementCount, ints.Value!.Length);
                    }
                }

                if (clock.Elapsed > slowest) slowest = clock.Elapsed;
            }

            _log.WriteLine($"{cases} mutations of {seed.Length} bytes: {accepted} read as ONNX, {bert} as BERT; slowest {slowest.TotalMilliseconds:F1} ms");
            Assert.True(slowest < TimeSpan.FromSeconds(1), $"slowest case took {slowest}");
            if (seedName == "tiny") Assert.InRange(accepted, 1, cases - 1); // the mutations reach past the protobuf layer
        }

        /// <summary>One to eight edits: flipped bits, random or boundary bytes, cut, duplicated or deleted ranges.</summary>
        internal static byte[] Mutate(byte[] seed, Random random)
        {
            var bytes = seed.ToList();
            int edits = 1 + random.Next(8);
            for (int e = 0; e < edits && bytes.Count > 0; e++)
            {
                int at = random.Next(bytes.Count);
                switch (random.Next(7))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes[at] = (byte)random.Next(256); break;
                    case 2: bytes[at] = new byte[] { 0, 0x7F, 0x80, 0xFF, 0x01 }[random.Next(5)]; break;
                    case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                    case 4: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16))); break;
                    case 5: bytes.InsertRange(at, bytes.Skip(random.Next(bytes.Count)).Take(1 + random.Next(32)).ToList()); break;
                    default:
                        // A huge varint (a length or a dimension) where a byte was.
                        bytes.InsertRange(at, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F });
                        break;
                }
            }

            return bytes.ToArray();
        }
    }
}
