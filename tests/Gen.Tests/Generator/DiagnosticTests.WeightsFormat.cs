using System;
using System.Linq;
using System.Text;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// GEN003 for safetensors files that break the format's rules in ways a lenient reader would accept silently:
    /// tensors sharing bytes, repeated JSON keys, absurd shapes, and a Git LFS pointer checked out instead of the file.
    /// </summary>
    public partial class DiagnosticTests
    {
        /// <summary>A file with this JSON header and <paramref name="dataBytes"/> zero bytes of data.</summary>
        private static byte[] FileWithHeader(string header, int dataBytes)
        {
            var json = Encoding.UTF8.GetBytes(header);
            return BitConverter.GetBytes((ulong)json.Length).Concat(json).Concat(new byte[dataBytes]).ToArray();
        }

        [Fact]
        public void Gen003_OverlappingTensorOffsets()
        {
            // fc1.bias claims bytes 40..52 of the data, which lie inside fc1.weight's 0..48.
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}," +
                "\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[40,52]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 52)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("Tensors 'fc1.weight' and 'fc1.bias' overlap: both claim bytes [40, 48) of the data section", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_TensorInsideAnother()
        {
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}," +
                "\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 48)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("overlap: both claim bytes [12, 24)", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void AdjacentTensorsAndEmptyTensorsAreNotAnOverlap()
        {
            // Back to back, plus an empty tensor: both are legal.
            var bytes = new Support.SafeTensorsWriter()
                .F32("fc1.weight", Values(12), 3, 4).F32("fc1.bias", Values(3, 1), 3)
                .F32("fc2.weight", Values(6, 2), 2, 3).F32("fc2.bias", Values(2, 3), 2)
                .F32("empty", Array.Empty<float>(), 0).ToBytes();
            var run = Run(ValidSource, bytes);
            AssertNoException(run);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        }

        [Fact]
        public void Gen003_DuplicateTensorName()
        {
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}," +
                "\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[48,96]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 96)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("the key 'fc1.weight' appears twice", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_DuplicateKeyInsideATensor()
        {
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"shape\":[4,3],\"data_offsets\":[0,48]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 48)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("the key 'shape' appears twice", Message(d), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("[3,-4]", "'shape' entry at index 1: -4")]
        [InlineData("[3,4.5]", "'shape' entry at index 1: 4.5")]
        [InlineData("[\"3\",4]", "'shape' entry at index 0: the string \"3\"")]
        [InlineData("[3,4e12]", "'shape' entry at index 1: 4000000000000")]
        public void Gen003_BadDimensionSaysWhichAndWhy(string shape, string detail)
        {
            string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0,48]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 48)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains(detail, Message(d), StringComparison.Ordinal);
            Assert.Contains("each must be a whole number from 0 to 2147483647", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_ShapeWhoseProductOverflows()
        {
            // 2^31-1 cubed does not fit in 64 bits; a wrapping product could have matched the 48 bytes.
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,48]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 48)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("needs more bytes than a file can hold but its data_offsets give 48", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_OffsetsThatEndBeforeTheyBegin()
        {
            const string header = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[48,0]}}";
            var d = Expect(Run(ValidSource, FileWithHeader(header, 48)), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("data_offsets [48, 0], which end before they begin", Message(d), StringComparison.Ordinal);
        }

        [Fact]
        public void Gen003_GitLfsPointerSaysWhatItIs()
        {
            var pointer = Encoding.ASCII.GetBytes(
                "version https://git-lfs.github.com/spec/v1\n" +
                "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n" +
                "size 409600\n");
            var d = Expect(Run(ValidSource, pointer), "GEN003", "QuantizedModel", "cannot be read");
            Assert.Contains("Git LFS pointer file", Message(d), StringComparison.Ordinal);
            Assert.Contains("git lfs pull", Message(d), StringComparison.Ordinal);
        }
    }
}
