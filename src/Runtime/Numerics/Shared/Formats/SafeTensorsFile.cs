using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>One tensor of a safetensors file: its element type, shape and where its bytes are.</summary>
    public sealed class SafeTensor
    {
        internal SafeTensor(string name, string dataType, int[] shape, int offset, int length)
        {
            Name = name;
            DataType = dataType;
            Shape = shape;
            Offset = offset;
            Length = length;
        }

        /// <summary>The tensor's name, e.g. <c>fc1.weight</c>.</summary>
        public string Name { get; }

        /// <summary>The safetensors dtype: <c>F32</c>, <c>I8</c>, <c>I32</c>, ...</summary>
        public string DataType { get; }

        /// <summary>The shape, outermost dimension first.</summary>
        public int[] Shape { get; }

        /// <summary>Byte offset of the first element within the whole file.</summary>
        public int Offset { get; }

        /// <summary>Length of the data in bytes.</summary>
        public int Length { get; }

        /// <summary>The product of the shape (1 for a scalar); <see cref="long.MaxValue"/> if it does not fit in 64 bits.</summary>
        public long ElementCount
        {
            get
            {
                long count = 1;
                foreach (int d in Shape)
                {
                    if (d != 0 && count > long.MaxValue / d) return long.MaxValue;
                    count *= d;
                }

                return count;
            }
        }

        /// <summary>The shape as written in PyTorch, e.g. <c>[128, 784]</c>.</summary>
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    /// <summary>
    /// A reader for the safetensors format as PyTorch writes it: an 8-byte little-endian header length, a JSON
    /// header <c>{name: {"dtype", "shape", "data_offsets": [begin, end]}}</c> (plus an optional
    /// <c>__metadata__</c> entry), then raw little-endian data. Every inconsistency is a
    /// <see cref="FormatException"/> naming what is wrong; nothing is read out of bounds.
    /// </summary>
    public sealed class SafeTensorsFile
    {
        private readonly byte[] _bytes;
        private readonly Dictionary<string, SafeTensor> _tensors;

        private SafeTensorsFile(byte[] bytes, Dictionary<string, SafeTensor> tensors)
        {
            _bytes = bytes;
            _tensors = tensors;
        }

        /// <summary>The tensors by name.</summary>
        public IReadOnlyDictionary<string, SafeTensor> Tensors => _tensors;

        /// <summary>Parses a whole file held in memory.</summary>
        /// <exception cref="FormatException">The bytes are not a well-formed safetensors file.</exception>
        public static SafeTensorsFile Parse(byte[] bytes)
        {
            if (IsGitLfsPointer(bytes))
            {
                throw new FormatException("This is a Git LFS pointer file, not the weights: the repository was cloned without its LFS objects. Run 'git lfs pull' (or download the real file) and rebuild.");
            }

            if (bytes.Length < 8)
            {
                throw new FormatException($"The file is {bytes.Length} bytes long; a safetensors file starts with an 8-byte header length.");
            }

            ulong headerLength = 0;
            for (int i = 7; i >= 0; i--) headerLength = (headerLength << 8) | bytes[i];
            if (headerLength > (ulong)(bytes.Length - 8))
            {
                throw new FormatException($"The header claims {headerLength} bytes but only {bytes.Length - 8} follow: the file is truncated or not safetensors.");
            }

            int dataStart = 8 + (int)headerLength;
            string json = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
            object? root = new MiniJson(json).ParseDocument();
            if (root is not Dictionary<string, object?> entries)
            {
                throw new FormatException("The safetensors header is not a JSON object.");
            }

            var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                if (entry.Key == "__metadata__") continue;
                if (entry.Value is not Dictionary<string, object?> info)
                {
                    throw new FormatException($"Tensor '{entry.Key}' is not described by a JSON object.");
                }

                string dtype = info.TryGetValue("dtype", out object? d) && d is string s
                    ? s : throw new FormatException($"Tensor '{entry.Key}' has no dtype.");
                int[] shape = ReadInts(info, "shape", entry.Key);
                int[] offsets = ReadInts(info, "data_offsets", entry.Key);
                if (offsets.Length != 2 || offsets[0] > offsets[1])
                {
                    throw new FormatException(offsets.Length != 2
                        ? $"Tensor '{entry.Key}' has {offsets.Length} data_offsets; it needs two, [begin, end]."
                        : $"Tensor '{entry.Key}' has data_offsets [{offsets[0]}, {offsets[1]}], which end before they begin.");
                }

                if ((long)dataStart + offsets[1] > bytes.Length)
                {
                    throw new FormatException($"Tensor '{entry.Key}' ends at byte {dataStart + (long)offsets[1]} but the file has {bytes.Length}: the file is truncated.");
                }

                var tensor = new SafeTensor(entry.Key, dtype, shape, dataStart + offsets[0], offsets[1] - offsets[0]);
                int elementSize = ElementSize(dtype);
                if (elementSize > 0 && (tensor.ElementCount > int.MaxValue || tensor.ElementCount * elementSize != tensor.Length))
                {
                    string needs = tensor.ElementCount > int.MaxValue ? "more bytes than a file can hold" : $"{tensor.ElementCount * elementSize} bytes";
                    throw new FormatException($"Tensor '{entry.Key}' of shape {tensor.ShapeText} and dtype {dtype} needs {needs} but its data_offsets give {tensor.Length}.");
                }

                tensors[entry.Key] = tensor;
            }

            RequireDisjoint(tensors.Values, dataStart);
            return new SafeTensorsFile(bytes, tensors);
        }

        /// <summary>
        /// The format forbids tensors that share bytes: a writer never produces them, and a file that has them would
        /// silently alias one tensor's data into another's.
        /// </summary>
        private static void RequireDisjoint(IEnumerable<SafeTensor> tensors, int dataStart)
        {
            var sorted = new List<SafeTensor>(tensors);
            sorted.RemoveAll(t => t.Length == 0);
            sorted.Sort((a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : string.CompareOrdinal(a.Name, b.Name));
            for (int i = 1; i < sorted.Count; i++)
            {
                SafeTensor previous = sorted[i - 1], current = sorted[i];
                if (current.Offset < previous.Offset + previous.Length)
                {
                    int sharedEnd = Math.Min(previous.Offset + previous.Length, current.Offset + current.Length);
                    throw new FormatException($"Tensors '{previous.Name}' and '{current.Name}' overlap: both claim bytes [{current.Offset - dataStart}, {sharedEnd - dataStart}) of the data section, which the safetensors format forbids.");
                }
            }
        }

        /// <summary>A Git LFS pointer is a small text file that starts with this line instead of the weights.</summary>
        private static bool IsGitLfsPointer(byte[] bytes)
        {
            const string Pointer = "version https://git-lfs.github.com/spec/";
            if (bytes.Length < Pointer.Length || bytes.Length > 1024) return false;
            for (int i = 0; i < Pointer.Length; i++)
            {
                if (bytes[i] != Pointer[i]) return false;
            }

            return true;
        }

        /// <summary>Bytes per element of a dtype, or 0 if the dtype is not one Gen reads.</summary>
        public static int ElementSize(string dataType)
        {
            switch (dataType)
            {
                case "F32": case "I32": return 4;
                case "I8": case "U8": return 1;
                case "F16": case "BF16": case "I16": return 2;
                case "F64": case "I64": return 8;
                default: return 0;
            }
        }

        /// <summary>The elements of a F32 tensor.</summary>
        public float[] ReadFloat32(SafeTensor tensor)
        {
            RequireType(tensor, "F32");
            var values = new float[tensor.Length / 4];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BitConverter.ToSingle(LittleEndian(tensor.Offset + 4 * i, 4), 0);
            }

            return values;
        }

        /// <summary>The elements of an I32 tensor.</summary>
        public int[] ReadInt32(SafeTensor tensor)
        {
            RequireType(tensor, "I32");
            var values = new int[tensor.Length / 4];
            for (int i = 0; i < values.Length; i++)
            {
                int at = tensor.Offset + 4 * i;
                values[i] = _bytes[at] | _bytes[at + 1] << 8 | _bytes[at + 2] << 16 | _bytes[at + 3] << 24;
            }

            return values;
        }

        /// <summary>The elements of an I8 tensor.</summary>
        public sbyte[] ReadInt8(SafeTensor tensor)
        {
            RequireType(tensor, "I8");
            var values = new sbyte[tensor.Length];
            for (int i = 0; i < values.Length; i++) values[i] = unchecked((sbyte)_bytes[tensor.Offset + i]);
            return values;
        }

        private byte[] LittleEndian(int offset, int count)
        {
            var chunk = new byte[count];
            Array.Copy(_bytes, offset, chunk, 0, count);
            if (!BitConverter.IsLittleEndian) Array.Reverse(chunk);
            return chunk;
        }

        private static void RequireType(SafeTensor tensor, string dataType)
        {
            if (tensor.DataType != dataType)
            {
                throw new FormatException($"Tensor '{tensor.Name}' is {tensor.DataType}, expected {dataType}.");
            }
        }

        private static int[] ReadInts(Dictionary<string, object?> info, string key, string tensor)
        {
            if (!info.TryGetValue(key, out object? value) || value is not List<object?> list)
            {
                throw new FormatException($"Tensor '{tensor}' has no '{key}' array.");
            }

            var result = new int[list.Count];
            for (int i = 0; i < list.Count; i++)
            {
                if (list[i] is not double number || number < 0 || number > int.MaxValue || number != Math.Floor(number))
                {
                    string found = list[i] switch
                    {
                        double d => d.ToString("R", CultureInfo.InvariantCulture),
                        string text => "the string \"" + text + "\"",
                        null => "null",
                        bool b => b ? "true" : "false",
                        _ => "a " + (list[i] is List<object?> ? "list" : "JSON object"),
                    };
                    throw new FormatException($"Tensor '{tensor}' has an invalid '{key}' entry at index {i}: {found}; each must be a whole number from 0 to {int.MaxValue}.");
                }

                result[i] = (int)number;
            }

            return result;
        }

        /// <summary>Just enough JSON for a safetensors header: objects, arrays, strings, numbers, true/false/null.</summary>
        private sealed class MiniJson
        {
            private readonly string _text;
            private int _at;

            public MiniJson(string text) => _text = text;

            public object? ParseDocument()
            {
                object? value = ParseValue(0);
                SkipWhitespace();
                if (_at != _text.Length) throw Error("unexpected text after the header object");
                return value;
            }

            private object? ParseValue(int depth)
            {
                if (depth > 64) throw Error("nesting too deep");
                SkipWhitespace();
                if (_at >= _text.Length) throw Error("unexpected end");
                char c = _text[_at];
                switch (c)
                {
                    case '{':
                        _at++;
                        var obj = new Dictionary<string, object?>(StringComparer.Ordinal);
                        SkipWhitespace();
                        if (Peek() == '}') { _at++; return obj; }
                        while (true)
                        {
                            SkipWhitespace();
                            string key = ParseString();
                            SkipWhitespace();
                            Expect(':');
                            if (obj.ContainsKey(key)) throw Error($"the key '{key}' appears twice (the format forbids it, and a reader would silently keep one of them)");
                            obj[key] = ParseValue(depth + 1);
                            SkipWhitespace();
                            if (Peek() == ',') { _at++; continue; }
                            Expect('}');
                            return obj;
                        }
                    case '[':
                        _at++;
                        var list = new List<object?>();
                        SkipWhitespace();
                        if (Peek() == ']') { _at++; return list; }
                        while (true)
                        {
                            list.Add(ParseValue(depth + 1));
                            SkipWhitespace();
                            if (Peek() == ',') { _at++; continue; }
                            Expect(']');
                            return list;
                        }
                    case '"':
                        return ParseString();
                    case 't': return Literal("true", true);
                    case 'f': return Literal("false", false);
                    case 'n': return Literal("null", null);
                    default:
                        return ParseNumber();
                }
            }

            private object? Literal(string word, object? value)
            {
                if (string.CompareOrdinal(_text, _at, word, 0, word.Length) != 0) throw Error("invalid literal");
                _at += word.Length;
                return value;
            }

            private double ParseNumber()
            {
                int start = _at;
                while (_at < _text.Length && "+-0123456789.eE".IndexOf(_text[_at]) >= 0) _at++;
                if (start == _at || !double.TryParse(_text.Substring(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
                {
                    throw Error("invalid number");
                }

                return number;
            }

            private string ParseString()
            {
                Expect('"');
                var sb = new StringBuilder();
                while (true)
                {
                    if (_at >= _text.Length) throw Error("unterminated string");
                    char c = _text[_at++];
                    if (c == '"') return sb.ToString();
                    if (c != '\\') { sb.Append(c); continue; }
                    if (_at >= _text.Length) throw Error("unterminated escape");
                    char e = _text[_at++];
                    switch (e)
                    {
                        case 'n': sb.Append('\n'); break;
                        case 't': sb.Append('\t'); break;
                        case 'r': sb.Append('\r'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'u':
                            if (_at + 4 > _text.Length) throw Error("bad unicode escape");
                            sb.Append((char)int.Parse(_text.Substring(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            _at += 4;
                            break;
                        default: sb.Append(e); break;
                    }
                }
            }

            private char Peek() => _at < _text.Length ? _text[_at] : '\0';

            private void Expect(char c)
            {
                if (Peek() != c) throw Error($"expected '{c}'");
                _at++;
            }

            private void SkipWhitespace()
            {
                while (_at < _text.Length && char.IsWhiteSpace(_text[_at])) _at++;
            }

            private FormatException Error(string what) =>
                new FormatException($"The safetensors JSON header is malformed at character {_at}: {what}.");
        }
    }
}
