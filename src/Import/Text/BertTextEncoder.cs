using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML.Tokenizers;

namespace Gen.Import
{
    /// <summary>
    /// Token ids for a batch of texts, padded to a common length: row-major [texts, length] arrays as a BERT encoder
    /// (and ONNX Runtime) takes them.
    /// </summary>
    public sealed class BertBatch
    {
        internal BertBatch(int count, int length, long[] ids, long[] mask, long[] types, int[] lengths)
        {
            Count = count;
            Length = length;
            InputIds = ids;
            AttentionMask = mask;
            TokenTypeIds = types;
            Lengths = lengths;
        }

        /// <summary>Texts in the batch.</summary>
        public int Count { get; }

        /// <summary>Tokens per row: the longest text's, with [CLS] and [SEP].</summary>
        public int Length { get; }

        /// <summary>[Count, Length] token ids, [PAD] after each text's [SEP].</summary>
        public long[] InputIds { get; }

        /// <summary>[Count, Length]: 1 for a real token, 0 for padding.</summary>
        public long[] AttentionMask { get; }

        /// <summary>[Count, Length] zeros: every text is one segment.</summary>
        public long[] TokenTypeIds { get; }

        /// <summary>Each text's real token count.</summary>
        public IReadOnlyList<int> Lengths { get; }
    }

    /// <summary>
    /// BERT's tokenization over a model's own <c>vocab.txt</c>, with Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>:
    /// lowercasing and accent stripping, basic tokenization (punctuation split, Chinese characters apart), WordPiece,
    /// then <c>[CLS] pieces [SEP]</c>, truncated to <see cref="MaxTokens"/> as Hugging Face's
    /// <c>tokenizer(text, truncation=True, max_length=MaxTokens)</c> does: the first <c>MaxTokens - 2</c> word pieces are
    /// kept, even when that cuts a word. For uncased models (all-MiniLM-L6-v2, snowflake-arctic-embed-xs, bert-base-uncased).
    /// </summary>
    public sealed class BertTextEncoder
    {
        private readonly BertTokenizer _tokenizer;

        private BertTextEncoder(BertTokenizer tokenizer, int maxTokens)
        {
            _tokenizer = tokenizer;
            MaxTokens = maxTokens;
        }

        /// <summary>The most tokens a text becomes, [CLS] and [SEP] included (the model's maximum positions or less).</summary>
        public int MaxTokens { get; }

        /// <summary>The id of [CLS].</summary>
        public int ClassificationId => _tokenizer.ClassificationTokenId;

        /// <summary>The id of [SEP].</summary>
        public int SeparatorId => _tokenizer.SeparatorTokenId;

        /// <summary>The id of [PAD].</summary>
        public int PaddingId => _tokenizer.PaddingTokenId;

        /// <summary>Reads a <c>vocab.txt</c> file (one word piece a line, the line number its id).</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is below 2.</exception>
        public static BertTextEncoder FromVocabularyFile(string path, int maxTokens)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            using var stream = File.OpenRead(path);
            return FromVocabulary(stream, maxTokens);
        }

        /// <summary>Reads a vocabulary in <c>vocab.txt</c> form from a stream.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is below 2.</exception>
        public static BertTextEncoder FromVocabulary(Stream vocabulary, int maxTokens)
        {
            if (vocabulary == null) throw new ArgumentNullException(nameof(vocabulary));
            if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "A BERT input holds at least [CLS] and [SEP].");
            var options = new BertOptions
            {
                LowerCaseBeforeTokenization = true,
                ApplyBasicTokenization = true,
                SplitOnSpecialTokens = true,
                IndividuallyTokenizeCjk = true,
                RemoveNonSpacingMarks = true,
            };
            return new BertTextEncoder(BertTokenizer.Create(vocabulary, options), maxTokens);
        }

        /// <summary>The ids of one text: [CLS], its word pieces (at most <see cref="MaxTokens"/> - 2), [SEP].</summary>
        public int[] Encode(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            IReadOnlyList<int> pieces = _tokenizer.EncodeToIds(text, addSpecialTokens: false);
            int kept = Math.Min(pieces.Count, MaxTokens - 2);
            var ids = new int[kept + 2];
            ids[0] = ClassificationId;
            for (int i = 0; i < kept; i++) ids[i + 1] = pieces[i];
            ids[kept + 1] = SeparatorId;
            return ids;
        }

        /// <summary>The word pieces of one text as strings, without [CLS]/[SEP] and without truncation (for messages and tests).</summary>
        public IReadOnlyList<string> Pieces(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var pieces = new List<string>();
            foreach (var token in _tokenizer.EncodeToTokens(text, out _, considerPreTokenization: true, considerNormalization: true))
            {
                pieces.Add(token.Value);
            }

            return pieces;
        }

        /// <summary>Encodes several texts and pads them with [PAD] to the longest one's length.</summary>
        public BertBatch EncodeBatch(IReadOnlyList<string> texts)
        {
            if (texts == null) throw new ArgumentNullException(nameof(texts));
            if (texts.Count == 0) throw new ArgumentException("The batch is empty.", nameof(texts));
            var rows = new int[texts.Count][];
            int length = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = Encode(texts[i]);
                length = Math.Max(length, rows[i].Length);
            }

            var ids = new long[rows.Length * length];
            var mask = new long[rows.Length * length];
            var lengths = new int[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                lengths[i] = rows[i].Length;
                for (int t = 0; t < length; t++)
                {
                    bool real = t < rows[i].Length;
                    ids[i * length + t] = real ? rows[i][t] : PaddingId;
                    mask[i * length + t] = real ? 1 : 0;
                }
            }

            return new BertBatch(rows.Length, length, ids, mask, new long[rows.Length * length], lengths);
        }
    }
}
