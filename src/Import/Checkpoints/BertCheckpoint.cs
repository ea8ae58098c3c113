using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Gen.Runtime;
using Gen.Runtime.Graph;

namespace Gen.Import
{
    /// <summary>One tensor of a BERT checkpoint under its Hugging Face name, weights as [out, in].</summary>
    public sealed class BertTensor
    {
        internal BertTensor(string name, int[] shape, float[] data, string source)
        {
            Name = name;
            Shape = shape;
            Data = data;
            Source = source;
        }

        /// <summary>The Hugging Face name, e.g. <c>encoder.layer.0.attention.self.query.weight</c>.</summary>
        public string Name { get; }

        /// <summary>The shape; a linear layer's weight is [out, in] as in PyTorch's <c>nn.Linear</c>.</summary>
        public IReadOnlyList<int> Shape { get; }

        /// <summary>The elements, row-major.</summary>
        public float[] Data { get; }

        /// <summary>Where it came from, e.g. <c>initializer '927' [384, 384], transposed</c>.</summary>
        public string Source { get; }

        /// <summary>The shape as text, e.g. <c>[384, 1536]</c>.</summary>
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";

        /// <inheritdoc />
        public override string ToString() => $"{Name} {ShapeText} ({Source})";
    }

    /// <summary>
    /// The shape of a BERT encoder as the weights give it, for checking a declaration against: every number here is
    /// read from tensor shapes, except <see cref="Heads"/> and <see cref="LayerNormEpsilon"/>, which only an ONNX graph
    /// shows (a safetensors file holds weights only).
    /// </summary>
    public sealed class BertArchitecture
    {
        internal BertArchitecture(int layers, int width, int feedForward, int vocabulary, int maxPositions, int tokenTypes, bool hasPooler, int? heads, float? epsilon, string? activation)
        {
            Layers = layers;
            Width = width;
            FeedForward = feedForward;
            Vocabulary = vocabulary;
            MaxPositions = maxPositions;
            TokenTypes = tokenTypes;
            HasPooler = hasPooler;
            Heads = heads;
            LayerNormEpsilon = epsilon;
            Activation = activation;
        }

        /// <summary>Encoder layers (<c>encoder.layer.0</c> to <c>encoder.layer.{Layers-1}</c>).</summary>
        public int Layers { get; }

        /// <summary>Hidden width (the embedding size).</summary>
        public int Width { get; }

        /// <summary>Inner width of the feed-forward block (<c>intermediate.dense</c>'s outputs).</summary>
        public int FeedForward { get; }

        /// <summary>Vocabulary size (rows of <c>embeddings.word_embeddings.weight</c>).</summary>
        public int Vocabulary { get; }

        /// <summary>Maximum sequence length (rows of <c>embeddings.position_embeddings.weight</c>).</summary>
        public int MaxPositions { get; }

        /// <summary>Token types (rows of <c>embeddings.token_type_embeddings.weight</c>; 2 for BERT).</summary>
        public int TokenTypes { get; }

        /// <summary>Whether the checkpoint has the pooler (<c>pooler.dense</c>, applied to the [CLS] row with tanh).</summary>
        public bool HasPooler { get; }

        /// <summary>Attention heads, from the graph's reshapes; <see langword="null"/> when the source does not show it.</summary>
        public int? Heads { get; }

        /// <summary>The LayerNorm epsilon, from the graph; <see langword="null"/> when the source does not show it.</summary>
        public float? LayerNormEpsilon { get; }

        /// <summary><c>gelu</c> (the erf form) when the graph computes it; <see langword="null"/> when the source does not show it.</summary>
        public string? Activation { get; }

        /// <inheritdoc />
        public override string ToString() =>
            $"BERT: {Layers} layers, width {Width}, {(Heads.HasValue ? Heads.Value.ToString(CultureInfo.InvariantCulture) : "?")} heads, feed-forward {FeedForward}, vocabulary {Vocabulary}, {MaxPositions} positions, {TokenTypes} token types{(HasPooler ? ", pooler" : "")}";
    }

    /// <summary>
    /// A BERT encoder's weights in one normalized form, whichever file they came from: Hugging Face names
    /// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.N.attention.self.query.weight</c>, ...), float32 data,
    /// linear weights as [out, in]. <see cref="FromSafeTensors"/> reads a Hugging Face checkpoint,
    /// <see cref="FromOnnx(byte[])"/> an ONNX export, where the weights of MatMul nodes carry numbers instead of names
    /// (<c>927</c>, [in, out]) and get their role from the graph. Every expected tensor must be present with a shape that
    /// agrees with the others; anything else is an error result naming the tensor or node. Never throws.
    /// </summary>
    public sealed class BertCheckpoint
    {
        /// <summary>The tensors each encoder layer has, after <c>encoder.layer.N.</c>.</summary>
        public static readonly IReadOnlyList<string> LayerTensorNames = new[]
        {
            "attention.self.query.weight", "attention.self.query.bias",
            "attention.self.key.weight", "attention.self.key.bias",
            "attention.self.value.weight", "attention.self.value.bias",
            "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
            "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias",
            "output.LayerNorm.weight", "output.LayerNorm.bias",
        };

        /// <summary>The embedding tensors.</summary>
        public static readonly IReadOnlyList<string> EmbeddingTensorNames = new[]
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        };

        private readonly Dictionary<string, BertTensor> _tensors;

        private BertCheckpoint(string format, BertArchitecture architecture, Dictionary<string, BertTensor> tensors, List<string> ignored)
        {
            Format = format;
            Architecture = architecture;
            _tensors = tensors;
            Ignored = ignored;
        }

        /// <summary><c>safetensors</c> or <c>onnx</c>.</summary>
        public string Format { get; }

        /// <summary>The encoder's shape as the weights give it.</summary>
        public BertArchitecture Architecture { get; }

        /// <summary>The tensors by Hugging Face name: the embeddings, every layer's, and the pooler's when present.</summary>
        public IReadOnlyDictionary<string, BertTensor> Tensors => _tensors;

        /// <summary>Tensors of the file that are not part of the encoder (e.g. <c>cls.predictions.*</c>, <c>embeddings.position_ids</c>).</summary>
        public IReadOnlyList<string> Ignored { get; }

        /// <summary>The tensor <paramref name="name"/> (a Hugging Face name), or <see langword="null"/>.</summary>
        public BertTensor? Tensor(string name) => _tensors.TryGetValue(name, out var t) ? t : null;

        /// <summary>
        /// The encoder's tensors as one safetensors file: Hugging Face names, float32, linear weights [out, in]. This is what
        /// Gen's graph (<see cref="BertFrontend"/>), its float model and its quantizer read, whichever format the
        /// checkpoint came in.
        /// </summary>
        public SafeTensorsFile ToSafeTensors()
        {
            var entries = new List<SafeTensorsBytes.Entry>();
            foreach (string name in ExpectedNames(Architecture.Layers, Architecture.HasPooler))
            {
                var t = _tensors[name];
                entries.Add(SafeTensorsBytes.Entry.Float(name, new List<int>(t.Shape).ToArray(), t.Data));
            }

            return SafeTensorsFile.Parse(SafeTensorsBytes.Write(entries));
        }

        /// <summary>
        /// The graph shape of this encoder reading <paramref name="tokens"/> tokens: everything but the pooling and the
        /// normalization comes from the weights. The heads come from the ONNX graph; a safetensors checkpoint does not show
        /// them, so <paramref name="heads"/> must be given then (config.json's <c>num_attention_heads</c>), and when both
        /// are known they must agree. Never throws.
        /// </summary>
        public ImportResult<BertShape> Shape(int tokens, BertPooling pooling, bool normalize = false, int? heads = null)
        {
            var a = Architecture;
            if (heads.HasValue && a.Heads.HasValue && heads.Value != a.Heads.Value)
            {
                return ImportResult<BertShape>.Failure($"{heads.Value} heads were asked for but the graph splits the width into {a.Heads.Value}.");
            }

            int? h = heads ?? a.Heads;
            if (!h.HasValue) return ImportResult<BertShape>.Failure($"The {Format} checkpoint does not show the number of attention heads; give it (config.json's num_attention_heads).");
            if (h.Value <= 0 || a.Width % h.Value != 0) return ImportResult<BertShape>.Failure($"{h.Value} attention heads do not divide the width {a.Width}.");
            if (tokens < 1 || tokens > a.MaxPositions)
            {
                return ImportResult<BertShape>.Failure($"The model can read 1 to {a.MaxPositions} tokens (its position embeddings' rows); {tokens} were asked for.");
            }

            return ImportResult<BertShape>.Success(new BertShape(a.Vocabulary, a.MaxPositions, a.TokenTypes, tokens, a.Layers, h.Value, a.Width,
                a.FeedForward, a.LayerNormEpsilon ?? 1e-12f, pooling, normalize));
        }

        /// <summary>Every tensor name a checkpoint of <paramref name="layers"/> layers has, embeddings first.</summary>
        public static IReadOnlyList<string> ExpectedNames(int layers, bool pooler)
        {
            var names = new List<string>(EmbeddingTensorNames);
            for (int l = 0; l < layers; l++)
            {
                foreach (string t in LayerTensorNames) names.Add(LayerPrefix(l) + t);
            }

            if (pooler)
            {
                names.Add("pooler.dense.weight");
                names.Add("pooler.dense.bias");
            }

            return names;
        }

        /// <summary>
        /// Reads a Hugging Face BERT checkpoint in safetensors format (as the hub serves <c>model.safetensors</c>). Names
        /// may carry the <c>bert.</c> prefix of task models and the old <c>LayerNorm.gamma</c>/<c>beta</c> spelling;
        /// F32, F16 and BF16 data are read (the two 16-bit forms widen exactly). Never throws.
        /// </summary>
        public static ImportResult<BertCheckpoint> FromSafeTensors(byte[] bytes)
        {
            try
            {
                return ReadSafeTensors(bytes);
            }
            catch (Exception e)
            {
                return ImportResult<BertCheckpoint>.Failure($"The safetensors checkpoint could not be read ({e.GetType().Name}: {e.Message}).");
            }
        }

        /// <summary>Reads the BERT encoder of an ONNX export (see the class summary). Never throws.</summary>
        public static ImportResult<BertCheckpoint> FromOnnx(byte[] bytes)
        {
            var model = OnnxModel.Read(bytes);
            return model.Succeeded ? FromOnnx(model.Value!) : ImportResult<BertCheckpoint>.Failure(model.Error!);
        }

        /// <summary>
        /// Reads the BERT encoder of an ONNX model. Tensors with Hugging Face names (biases, LayerNorm, embeddings) are
        /// taken as they are; the weight of each <c>MatMul</c> by an initializer gets its name from the <c>Add</c> that
        /// follows it, whose other input is the bias (<c>encoder.layer.0.attention.self.query.bias</c> names
        /// <c>...query.weight</c>), and is transposed from [in, out] to [out, in]; <c>Gemm</c> (the pooler) likewise,
        /// honouring <c>transB</c>. A node of an operator a BERT encoder does not use, a weight whose role the graph does
        /// not show, or one role found twice is an error naming the node. Never throws.
        /// </summary>
        public static ImportResult<BertCheckpoint> FromOnnx(OnnxModel model)
        {
            try
            {
                return OnnxBert.Read(model);
            }
            catch (Exception e)
            {
                return ImportResult<BertCheckpoint>.Failure($"The ONNX model's BERT encoder could not be read ({e.GetType().Name}: {e.Message}).");
            }
        }

        internal static string LayerPrefix(int layer) => "encoder.layer." + layer.ToString(CultureInfo.InvariantCulture) + ".";

        /// <summary>A Hugging Face name as Gen keys it: without a task model's <c>bert.</c> prefix, LayerNorm gamma/beta as weight/bias.</summary>
        internal static string NormalizeName(string name)
        {
            if (name.StartsWith("bert.", StringComparison.Ordinal)) name = name.Substring(5);
            if (name.EndsWith(".LayerNorm.gamma", StringComparison.Ordinal)) name = name.Substring(0, name.Length - 5) + "weight";
            else if (name.EndsWith(".LayerNorm.beta", StringComparison.Ordinal)) name = name.Substring(0, name.Length - 4) + "bias";
            return name;
        }

        /// <summary>Whether a normalized name is one of the encoder's tensors (of any layer).</summary>
        internal static bool IsEncoderName(string name, out int layer)
        {
            layer = -1;
            foreach (string e in EmbeddingTensorNames)
            {
                if (name == e) return true;
            }

            if (name == "pooler.dense.weight" || name == "pooler.dense.bias") return true;
            const string Prefix = "encoder.layer.";
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return false;
            int dot = name.IndexOf('.', Prefix.Length);
            if (dot <= Prefix.Length || dot - Prefix.Length > 6) return false;
            string number = name.Substring(Prefix.Length, dot - Prefix.Length);
            if (number.Length > 1 && number[0] == '0') return false;
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return false;
            string rest = name.Substring(dot + 1);
            foreach (string t in LayerTensorNames)
            {
                if (rest == t)
                {
                    layer = n;
                    return true;
                }
            }

            return false;
        }

        private static ImportResult<BertCheckpoint> ReadSafeTensors(byte[] bytes)
        {
            SafeTensorsFile file;
            try
            {
                file = SafeTensorsFile.Parse(bytes);
            }
            catch (FormatException e)
            {
                return ImportResult<BertCheckpoint>.Failure(e.Message);
            }

            var found = new Dictionary<string, BertTensor>(StringComparer.Ordinal);
            var ignored = new List<string>();
            var names = new List<string>(file.Tensors.Keys);
            names.Sort(StringComparer.Ordinal);
            foreach (string original in names)
            {
                SafeTensor tensor = file.Tensors[original];
                string name = NormalizeName(original);
                if (!IsEncoderName(name, out _))
                {
                    ignored.Add(original);
                    continue;
                }

                if (found.TryGetValue(name, out var earlier))
                {
                    return ImportResult<BertCheckpoint>.Failure($"Tensors '{earlier.Source}' and '{original}' are both '{name}'.");
                }

                float[] data;
                int count = (int)Math.Min(tensor.ElementCount, int.MaxValue);
                switch (tensor.DataType)
                {
                    case "F32":
                        data = file.ReadFloat32(tensor);
                        break;
                    case "F16":
                    case "BF16":
                        if (tensor.Length != 2L * count) return ImportResult<BertCheckpoint>.Failure($"Tensor '{original}' has {tensor.Length} bytes for {count} elements.");
                        data = new float[count];
                        bool half = tensor.DataType == "F16";
                        for (int i = 0; i < count; i++)
                        {
                            int bits = bytes[tensor.Offset + 2 * i] | bytes[tensor.Offset + 2 * i + 1] << 8;
                            data[i] = half ? OnnxTensor.HalfToSingle(bits) : BitConverter.ToSingle(BitConverter.GetBytes(bits << 16), 0);
                        }

                        break;
                    default:
                        return ImportResult<BertCheckpoint>.Failure($"Tensor '{original}' is {tensor.DataType}; the BERT import reads F32, F16 and BF16 weights.");
                }

                found[name] = new BertTensor(name, (int[])tensor.Shape.Clone(), data, original == name ? "safetensors" : $"safetensors '{original}'");
            }

            return Assemble("safetensors", found, ignored, null, null, null);
        }

        /// <summary>
        /// Checks a full set of encoder tensors and derives the architecture: every expected tensor present, the
        /// embeddings [rows, width], every layer's weights [out, in] with one width and one feed-forward size, finite values.
        /// </summary>
        internal static ImportResult<BertCheckpoint> Assemble(string format, Dictionary<string, BertTensor> tensors, List<string> ignored, int? heads, float? epsilon, string? activation)
        {
            if (!tensors.TryGetValue("embeddings.word_embeddings.weight", out var words))
            {
                return ImportResult<BertCheckpoint>.Failure(tensors.Count == 0
                    ? "No BERT encoder tensors found (no 'embeddings.*' or 'encoder.layer.N.*' names): this is not a BERT checkpoint, or its names are not Hugging Face's."
                    : "The checkpoint has no 'embeddings.word_embeddings.weight'.");
            }

            if (words.Shape.Count != 2 || words.Shape[0] == 0 || words.Shape[1] == 0)
            {
                return ImportResult<BertCheckpoint>.Failure($"'embeddings.word_embeddings.weight' has shape {words.ShapeText}; it must be [vocabulary, width].");
            }

            int vocabulary = words.Shape[0], width = words.Shape[1];
            int layers = 0;
            foreach (string name in tensors.Keys)
            {
                if (IsEncoderName(name, out int layer) && layer >= layers) layers = layer + 1;
            }

            if (layers == 0) return ImportResult<BertCheckpoint>.Failure("The checkpoint has embeddings but no encoder layer ('encoder.layer.0.*').");
            if (layers > 1024) return ImportResult<BertCheckpoint>.Failure($"The checkpoint names encoder layer {layers - 1}; Gen reads at most 1024 layers.");

            var missing = new List<string>();
            bool pooler = tensors.ContainsKey("pooler.dense.weight") || tensors.ContainsKey("pooler.dense.bias");
            foreach (string name in ExpectedNames(layers, pooler))
            {
                if (!tensors.ContainsKey(name)) missing.Add(name);
            }

            if (missing.Count > 0)
            {
                string list = string.Join(", ", missing.GetRange(0, Math.Min(5, missing.Count)).ConvertAll(n => "'" + n + "'"));
                return ImportResult<BertCheckpoint>.Failure($"The checkpoint ({layers} layers) lacks {missing.Count} tensor(s): {list}{(missing.Count > 5 ? ", ..." : "")}.");
            }

            int positions = tensors["embeddings.position_embeddings.weight"].Shape.Count == 2 ? tensors["embeddings.position_embeddings.weight"].Shape[0] : 0;
            int types = tensors["embeddings.token_type_embeddings.weight"].Shape.Count == 2 ? tensors["embeddings.token_type_embeddings.weight"].Shape[0] : 0;
            var intermediate = tensors[LayerPrefix(0) + "intermediate.dense.bias"];
            int feedForward = intermediate.Shape.Count == 1 ? intermediate.Shape[0] : 0;
            if (feedForward == 0) return ImportResult<BertCheckpoint>.Failure($"'{intermediate.Name}' has shape {intermediate.ShapeText}; it must be [feed-forward].");

            var problems = new StringBuilder();
            void Expect(string name, params int[] shape)
            {
                var t = tensors[name];
                bool same = t.Shape.Count == shape.Length;
                for (int i = 0; same && i < shape.Length; i++) same = t.Shape[i] == shape[i];
                if (!same && problems.Length == 0)
                {
                    problems.Append($"'{name}' has shape {t.ShapeText} ({t.Source}) but width {width}, feed-forward {feedForward} and {positions} positions call for [{string.Join(", ", shape)}].");
                }
            }

            Expect("embeddings.position_embeddings.weight", positions, width);
            Expect("embeddings.token_type_embeddings.weight", types, width);
            Expect("embeddings.LayerNorm.weight", width);
            Expect("embeddings.LayerNorm.bias", width);
            for (int l = 0; l < layers; l++)
            {
                string p = LayerPrefix(l);
                foreach (string block in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
                {
                    Expect(p + block + ".weight", width, width);
                    Expect(p + block + ".bias", width);
                }

                Expect(p + "intermediate.dense.weight", feedForward, width);
                Expect(p + "intermediate.dense.bias", feedForward);
                Expect(p + "output.dense.weight", width, feedForward);
                Expect(p + "output.dense.bias", width);
                foreach (string norm in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
                {
                    Expect(p + norm + ".weight", width);
                    Expect(p + norm + ".bias", width);
                }
            }

            if (pooler)
            {
                Expect("pooler.dense.weight", width, width);
                Expect("pooler.dense.bias", width);
            }

            if (positions == 0 || types == 0) return ImportResult<BertCheckpoint>.Failure("The position and token type embeddings must be [rows, width] with at least one row.");
            if (problems.Length > 0) return ImportResult<BertCheckpoint>.Failure(problems.ToString());

            foreach (var pair in tensors)
            {
                float[] data = pair.Value.Data;
                for (int i = 0; i < data.Length; i++)
                {
                    if (float.IsNaN(data[i]) || float.IsInfinity(data[i]))
                    {
                        return ImportResult<BertCheckpoint>.Failure($"'{pair.Key}' ({pair.Value.Source}) holds {data[i].ToString(CultureInfo.InvariantCulture)} at element {i}: the weights are corrupted.");
                    }
                }
            }

            if (heads.HasValue && (heads.Value <= 0 || width % heads.Value != 0))
            {
                return ImportResult<BertCheckpoint>.Failure($"The graph splits width {width} into {heads.Value} attention heads, which do not divide it.");
            }

            var architecture = new BertArchitecture(layers, width, feedForward, vocabulary, positions, types, pooler, heads, epsilon, activation);
            return ImportResult<BertCheckpoint>.Success(new BertCheckpoint(format, architecture, tensors, ignored));
        }
    }
}
