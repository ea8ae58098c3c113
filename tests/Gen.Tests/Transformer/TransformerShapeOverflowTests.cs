using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// Shape arithmetic that does not fit in an int: products are computed in 64 bits and refused, never wrapped into
    /// a small model (641 x 6700417 is 2^32 + 1, which 32-bit arithmetic turns into one token).
    /// </summary>
    public partial class DiagnosticTests
    {
        private static string WithPatchEmbedding(string replacement) =>
            Vit.Value.Source().Replace("[PatchEmbedding(\"embed\", 8, 8, 4, 16, Channels = 1)]", replacement, System.StringComparison.Ordinal);

        [Theory]
        [InlineData("[PatchEmbedding(\"embed\", 2147483647, 2147483647, 1, 16, Channels = 1)]",
            "The image would hold 4,611,686,014,132,420,609 values (1 x 2147483647 x 2147483647 values), more than the 2,147,483,647 one tensor can hold")]
        [InlineData("[PatchEmbedding(\"embed\", 641, 6700417, 1, 16, Channels = 1)]",
            "The image would hold 4,294,967,297 values (1 x 641 x 6700417 values)")]
        [InlineData("[PatchEmbedding(\"embed\", 2147483647, 2147483647, 2147483647, 16, Channels = 2147483647)]",
            "The image would hold more than 2^63 values")]
        [InlineData("[PatchEmbedding(\"embed\", 46340, 46340, 1, 2, Channels = 1)]",
            "The token grid would hold 4,294,791,200 values (2147395600 tokens of width 2)")]
        public void Gen011_ShapeProductsThatDoNotFitAreRefused(string embedding, string message)
        {
            var d = Expect(RunVit(WithPatchEmbedding(embedding)), "GEN011", "PatchEmbedding(\"embed\"", message);
            Assert.DoesNotContain("(1 values)", Message(d), System.StringComparison.Ordinal);
        }

        [Fact]
        public void Gen011_FeedForwardGridThatDoesNotFit()
        {
            // 2^28 tokens of width 2 fit in an int; their feed-forward hidden values (width 24) do not.
            string source = WithPatchEmbedding("[PatchEmbedding(\"embed\", 16384, 16384, 1, 2, Channels = 1)]");
            Expect(RunVit(source), "GEN011", "PatchEmbedding(\"embed\"",
                "Encoder layer 'blocks.0''s feed-forward block would hold 6,442,450,944 values (268435456 tokens of width 24)");
        }
    }
}
