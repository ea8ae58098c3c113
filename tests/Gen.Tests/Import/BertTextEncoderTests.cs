using System;
using System.IO;
using System.Linq;
using Gen.Import;
using Xunit;

namespace Gen.Tests.Import
{
    /// <summary>
    /// <see cref="BertTextEncoder"/> over the real vocab.txt of both models against ids worked out independently: the
    /// word pieces Hugging Face's BertTokenizerFast gives for these sentences (bert-base-uncased vocabulary, which both
    /// models use), looked up by line number in the file itself.
    /// </summary>
    public sealed class BertTextEncoderTests
    {
        [Theory]
        [InlineData(ModelPackages.MiniLM)]
        [InlineData(ModelPackages.ArcticXs)]
        public void IdsAreTheVocabularyLinesOfTheExpectedWordPieces(string package)
        {
            string path = ModelPackages.VocabularyPath(package);
            var lines = File.ReadAllLines(path);
            int Id(string piece) => Array.IndexOf(lines, piece) is int i and >= 0 ? i : throw new InvalidOperationException(piece + " is not in vocab.txt");
            var encoder = BertTextEncoder.FromVocabularyFile(path, maxTokens: 512);

            // Hugging Face's well-known ids for "hello world" ([CLS] hello world [SEP]).
            Assert.Equal(new[] { 101, 7592, 2088, 102 }, encoder.Encode("Hello world"));

            // Lowercasing, punctuation split, WordPiece continuations, accents stripped.
            string[] pieces = { "[CLS]", "the", "token", "##ization", "isn", "'", "t", "hard", ",", "is", "it", "?", "cafe", "naive", "!", "[SEP]" };
            Assert.Equal(pieces.Select(Id), encoder.Encode("The TOKENIZATION isn't hard, is it?  Café naïve!"));
            Assert.Equal(pieces.Skip(1).Take(pieces.Length - 2), encoder.Pieces("The TOKENIZATION isn't hard, is it?  Café naïve!"));
            Assert.Equal((101, 102, 0), (encoder.ClassificationId, encoder.SeparatorId, encoder.PaddingId));
        }

        [Fact]
        public void LongTextsAreTruncatedToMaxTokensAndBatchesPadded()
        {
            string path = ModelPackages.VocabularyPath(ModelPackages.MiniLM);
            var encoder = BertTextEncoder.FromVocabularyFile(path, maxTokens: 5);
            var full = BertTextEncoder.FromVocabularyFile(path, maxTokens: 512).Encode("The tokenization isn't hard");
            // Hugging Face's truncation=True, max_length=5: the first three pieces, cutting "tokenization" after "token".
            Assert.Equal(new[] { 101, full[1], full[2], full[3], 102 }, encoder.Encode("The tokenization isn't hard"));
            Assert.Equal(new[] { 101, 102 }, encoder.Encode(""));

            var batch = BertTextEncoder.FromVocabularyFile(path, maxTokens: 512).EncodeBatch(new[] { "Hello world", "Hi" });
            Assert.Equal((2, 4), (batch.Count, batch.Length));
            Assert.Equal(new long[] { 101, 7592, 2088, 102, 101, 7632, 102, 0 }, batch.InputIds);
            Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0 }, batch.AttentionMask);
            Assert.Equal(new long[8], batch.TokenTypeIds);
            Assert.Equal(new[] { 4, 3 }, batch.Lengths);
            Assert.Throws<ArgumentOutOfRangeException>(() => BertTextEncoder.FromVocabularyFile(path, maxTokens: 1));
        }

        [Fact]
        public void TheCorpusIsRealTextOfTheSizePromised()
        {
            string folder = Path.Combine(Support.Repository.Root, "data", "text");
            var calibration = File.ReadAllLines(Path.Combine(folder, "calibration.txt"));
            var evaluation = File.ReadAllLines(Path.Combine(folder, "evaluation.txt"));
            Assert.True(calibration.Length >= 500 && evaluation.Length >= 500 && calibration.Length + evaluation.Length >= 1000);
            Assert.Empty(calibration.Intersect(evaluation));
            Assert.All(calibration.Concat(evaluation), s => Assert.InRange(s.Split(' ').Length, 3, 80));
            var encoder = BertTextEncoder.FromVocabularyFile(ModelPackages.VocabularyPath(ModelPackages.MiniLM), maxTokens: 128);
            var lengths = evaluation.Select(s => encoder.Encode(s).Length).ToArray();
            Assert.InRange(lengths.Min(), 3, 12);
            Assert.InRange(lengths.Max(), 60, 128);
            Assert.Contains("public domain", File.ReadAllText(Path.Combine(folder, "README.md")), StringComparison.OrdinalIgnoreCase);
        }
    }
}
