using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using Gen.Import.Onnx.Proto;

namespace Gen.Import
{
    /// <summary>The element types of ONNX tensors (<c>TensorProto.DataType</c> in the ONNX IR).</summary>
    public enum OnnxDataType
    {
        /// <summary>Not set.</summary>
        Undefined = 0,
        /// <summary>32-bit IEEE float.</summary>
        Float = 1,
        /// <summary>Unsigned 8-bit integer.</summary>
        UInt8 = 2,
        /// <summary>Signed 8-bit integer.</summary>
        Int8 = 3,
        /// <summary>Unsigned 16-bit integer.</summary>
        UInt16 = 4,
        /// <summary>Signed 16-bit integer.</summary>
        Int16 = 5,
        /// <summary>Signed 32-bit integer.</summary>
        Int32 = 6,
        /// <summary>Signed 64-bit integer.</summary>
        Int64 = 7,
        /// <summary>UTF-8 string.</summary>
        String = 8,
        /// <summary>Boolean, one byte.</summary>
        Bool = 9,
        /// <summary>16-bit IEEE float.</summary>
        Float16 = 10,
        /// <summary>64-bit IEEE float.</summary>
        Double = 11,
        /// <summary>Unsigned 32-bit integer.</summary>
        UInt32 = 12,
        /// <summary>Unsigned 64-bit integer.</summary>
        UInt64 = 13,
        /// <summary>Two 32-bit floats.</summary>
        Complex64 = 14,
        /// <summary>Two 64-bit floats.</summary>
        Complex128 = 15,
        /// <summary>bfloat16: the top half of a 32-bit float.</summary>
        BFloat16 = 16,
        /// <summary>8-bit float, 4 exponent bits, finite only.</summary>
        Float8E4M3FN = 17,
        /// <summary>8-bit float, 4 exponent bits, finite only, no negative zero.</summary>
        Float8E4M3FNUZ = 18,
        /// <summary>8-bit float, 5 exponent bits.</summary>
        Float8E5M2 = 19,
        /// <summary>8-bit float, 5 exponent bits, no negative zero.</summary>
        Float8E5M2FNUZ = 20,
        /// <summary>Unsigned 4-bit integer, two to a byte.</summary>
        UInt4 = 21,
        /// <summary>Signed 4-bit integer, two to a byte.</summary>
        Int4 = 22,
        /// <summary>4-bit float, two to a byte.</summary>
        Float4E2M1 = 23,
    }

    /// <summary>
    /// One tensor of an ONNX file (an initializer or a constant): name, element type, shape, and data that the reader
    /// has already checked against the shape. Reading never throws: a read of the wrong type is an error result.
    /// </summary>
    public sealed class OnnxTensor
    {
        /// <summary>The largest number of elements one tensor may have (its bytes must fit in one .NET array).</summary>
        public const long MaxElements = int.MaxValue;

        /// <summary>The largest rank the reader accepts (ONNX sets none; no real model comes near it).</summary>
        public const int MaxRank = 32;

        private readonly TensorProto _proto;
        private readonly long[] _dims;

        private OnnxTensor(TensorProto proto, string name, long[] dims, long count)
        {
            _proto = proto;
            Name = name;
            _dims = dims;
            ElementCount = count;
        }

        internal TensorProto Proto => _proto;

        /// <summary>The tensor's name (an initializer's value name; for a constant, the value its node outputs).</summary>
        public string Name { get; }

        /// <summary>The element type.</summary>
        public OnnxDataType DataType => (OnnxDataType)_proto.DataType;

        /// <summary>The shape, outermost first; empty for a scalar.</summary>
        public IReadOnlyList<long> Dims => _dims;

        /// <summary>The number of elements (1 for a scalar).</summary>
        public long ElementCount { get; }

        /// <summary>The shape as text, e.g. <c>[384, 1536]</c>.</summary>
        public string ShapeText => ShapeToText(_dims);

        /// <inheritdoc />
        public override string ToString() => $"'{Name}' {DataType} {ShapeText}";

        /// <summary>The shape as ints (every dimension fits: the element count is at most <see cref="MaxElements"/>).</summary>
        public int[] Shape()
        {
            var shape = new int[_dims.Length];
            for (int i = 0; i < shape.Length; i++) shape[i] = (int)_dims[i];
            return shape;
        }

        /// <summary>
        /// The elements as 32-bit floats: FLOAT as stored, FLOAT16 and BFLOAT16 widened exactly. Other types are an
        /// error (a narrowing conversion would change the model).
        /// </summary>
        public ImportResult<float[]> ReadFloat32()
        {
            int count = (int)ElementCount;
            var values = new float[count];
            switch (DataType)
            {
                case OnnxDataType.Float:
                    if (_proto.HasRawData)
                    {
                        ReadOnlySpan<byte> raw = _proto.RawData.Span;
                        if (BitConverter.IsLittleEndian)
                        {
                            MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                        }
                        else
                        {
                            var word = new byte[4];
                            for (int i = 0; i < count; i++)
                            {
                                for (int b = 0; b < 4; b++) word[3 - b] = raw[4 * i + b];
                                values[i] = BitConverter.ToSingle(word, 0);
                            }
                        }
                    }
                    else
                    {
                        _proto.FloatData.CopyTo(values, 0);
                    }

                    return ImportResult<float[]>.Success(values);
                case OnnxDataType.Float16:
                case OnnxDataType.BFloat16:
                    bool half = DataType == OnnxDataType.Float16;
                    for (int i = 0; i < count; i++)
                    {
                        int bits = _proto.HasRawData ? _proto.RawData.Span[2 * i] | _proto.RawData.Span[2 * i + 1] << 8 : _proto.Int32Data[i] & 0xFFFF;
                        values[i] = half ? HalfToSingle(bits) : Int32BitsToSingle(bits << 16);
                    }

                    return ImportResult<float[]>.Success(values);
                default:
                    return ImportResult<float[]>.Failure($"Tensor '{Name}' is {DataType}; a float tensor (FLOAT, FLOAT16 or BFLOAT16) was expected.");
            }
        }

        /// <summary>The elements as 64-bit integers: INT64, INT32, INT16, INT8, UINT32, UINT16, UINT8 and BOOL.</summary>
        public ImportResult<long[]> ReadInt64()
        {
            int count = (int)ElementCount;
            var values = new long[count];
            int size;
            switch (DataType)
            {
                case OnnxDataType.Int64: size = 8; break;
                case OnnxDataType.Int32: case OnnxDataType.UInt32: size = 4; break;
                case OnnxDataType.Int16: case OnnxDataType.UInt16: size = 2; break;
                case OnnxDataType.Int8: case OnnxDataType.UInt8: case OnnxDataType.Bool: size = 1; break;
                default:
                    return ImportResult<long[]>.Failure($"Tensor '{Name}' is {DataType}; an integer tensor was expected.");
            }

            bool signed = DataType == OnnxDataType.Int64 || DataType == OnnxDataType.Int32 || DataType == OnnxDataType.Int16 || DataType == OnnxDataType.Int8;
            for (int i = 0; i < count; i++)
            {
                if (_proto.HasRawData)
                {
                    ReadOnlySpan<byte> raw = _proto.RawData.Span;
                    ulong word = 0;
                    for (int b = size - 1; b >= 0; b--) word = (word << 8) | raw[size * i + b];
                    int unused = 64 - 8 * size;
                    values[i] = signed ? (long)(word << unused) >> unused : (long)word;
                }
                else if (DataType == OnnxDataType.Int64)
                {
                    values[i] = _proto.Int64Data[i];
                }
                else if (DataType == OnnxDataType.UInt32)
                {
                    values[i] = (long)_proto.Uint64Data[i];
                }
                else
                {
                    values[i] = _proto.Int32Data[i];
                }
            }

            return ImportResult<long[]>.Success(values);
        }

        /// <summary>Bytes per element of a type with a fixed size; 0 for STRING, 4-bit types and unknown numbers.</summary>
        public static int ElementSize(OnnxDataType type)
        {
            switch (type)
            {
                case OnnxDataType.Float: case OnnxDataType.Int32: case OnnxDataType.UInt32: return 4;
                case OnnxDataType.UInt8: case OnnxDataType.Int8: case OnnxDataType.Bool:
                case OnnxDataType.Float8E4M3FN: case OnnxDataType.Float8E4M3FNUZ: case OnnxDataType.Float8E5M2: case OnnxDataType.Float8E5M2FNUZ:
                    return 1;
                case OnnxDataType.UInt16: case OnnxDataType.Int16: case OnnxDataType.Float16: case OnnxDataType.BFloat16: return 2;
                case OnnxDataType.Int64: case OnnxDataType.Double: case OnnxDataType.UInt64: case OnnxDataType.Complex64: return 8;
                case OnnxDataType.Complex128: return 16;
                default: return 0;
            }
        }

        internal static string ShapeToText(IReadOnlyList<long> dims)
        {
            var parts = new string[dims.Count];
            for (int i = 0; i < parts.Length; i++) parts[i] = dims[i].ToString(CultureInfo.InvariantCulture);
            return "[" + string.Join(", ", parts) + "]";
        }

        /// <summary>
        /// Checks a tensor as the file gives it and wraps it: a known element type, a sane shape, data inline (not in
        /// an external file) and exactly as long as the shape says.
        /// </summary>
        internal static ImportResult<OnnxTensor> Create(TensorProto proto, string name, string where)
        {
            string what = $"Tensor '{name}' ({where})";
            if (proto.DataLocation == TensorProto.Types.DataLocation.External || proto.ExternalData.Count > 0)
            {
                string location = "";
                foreach (var entry in proto.ExternalData)
                {
                    if (entry.Key == "location") location = $" ('{entry.Value}')";
                }

                return ImportResult<OnnxTensor>.Failure($"{what} keeps its data in an external file{location}. Gen reads self-contained .onnx files only: save the model with its weights inside it (onnx.save_model(model, path, save_as_external_data=False)); models over 2 GB cannot be saved that way and are too large for Gen.");
            }

            if (proto.Segment != null)
            {
                return ImportResult<OnnxTensor>.Failure($"{what} is one segment of a tensor split across several; Gen reads whole tensors only.");
            }

            int type = proto.DataType;
            if (type <= 0 || type > (int)OnnxDataType.Float4E2M1)
            {
                return ImportResult<OnnxTensor>.Failure(type == 0
                    ? $"{what} has no data type."
                    : $"{what} has data type {type.ToString(CultureInfo.InvariantCulture)}, which is not an ONNX tensor type this reader knows (1 to {(int)OnnxDataType.Float4E2M1}).");
            }

            if (proto.Dims.Count > MaxRank)
            {
                return ImportResult<OnnxTensor>.Failure($"{what} has rank {proto.Dims.Count}; the reader accepts at most {MaxRank} dimensions.");
            }

            var dims = new long[proto.Dims.Count];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                long d = proto.Dims[i];
                dims[i] = d;
                if (d < 0)
                {
                    return ImportResult<OnnxTensor>.Failure($"{what} has the negative dimension {d.ToString(CultureInfo.InvariantCulture)} at axis {i}.");
                }

                if (d != 0 && count > MaxElements / d)
                {
                    return ImportResult<OnnxTensor>.Failure($"{what} has shape {ShapeToText(proto.Dims)}, more than {MaxElements.ToString(CultureInfo.InvariantCulture)} elements: the shape is corrupted or the tensor too large.");
                }

                count *= d;
            }

            var dataType = (OnnxDataType)type;
            string shape = ShapeToText(dims);
            if (proto.HasRawData)
            {
                long expected = dataType == OnnxDataType.UInt4 || dataType == OnnxDataType.Int4 || dataType == OnnxDataType.Float4E2M1
                    ? (count + 1) / 2
                    : (long)ElementSize(dataType) * count;
                if (dataType == OnnxDataType.String)
                {
                    return ImportResult<OnnxTensor>.Failure($"{what} is a STRING tensor with raw data, which ONNX does not allow.");
                }

                if (proto.RawData.Length != expected)
                {
                    return ImportResult<OnnxTensor>.Failure($"{what} of type {dataType} and shape {shape} needs {expected.ToString(CultureInfo.InvariantCulture)} bytes of raw data but has {proto.RawData.Length.ToString(CultureInfo.InvariantCulture)}.");
                }
            }
            else
            {
                long found;
                string field;
                switch (dataType)
                {
                    case OnnxDataType.Float: case OnnxDataType.Complex64: found = proto.FloatData.Count; field = "float_data"; break;
                    case OnnxDataType.Int64: found = proto.Int64Data.Count; field = "int64_data"; break;
                    case OnnxDataType.Double: case OnnxDataType.Complex128: found = proto.DoubleData.Count; field = "double_data"; break;
                    case OnnxDataType.UInt32: case OnnxDataType.UInt64: found = proto.Uint64Data.Count; field = "uint64_data"; break;
                    case OnnxDataType.String: found = proto.StringData.Count; field = "string_data"; break;
                    default: found = proto.Int32Data.Count; field = "int32_data"; break;
                }

                long expected = dataType == OnnxDataType.Complex64 || dataType == OnnxDataType.Complex128 ? 2 * count
                    : dataType == OnnxDataType.UInt4 || dataType == OnnxDataType.Int4 || dataType == OnnxDataType.Float4E2M1 ? (count + 1) / 2
                    : count;
                if (found != expected)
                {
                    return ImportResult<OnnxTensor>.Failure(found == 0
                        ? $"{what} of shape {shape} has no data."
                        : $"{what} of type {dataType} and shape {shape} needs {expected.ToString(CultureInfo.InvariantCulture)} values in {field} but has {found.ToString(CultureInfo.InvariantCulture)}.");
                }
            }

            return ImportResult<OnnxTensor>.Success(new OnnxTensor(proto, name, dims, count));
        }

        /// <summary>IEEE half precision to single (exact; netstandard2.0 has no System.Half).</summary>
        internal static float HalfToSingle(int bits)
        {
            int sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
            float magnitude;
            if (exponent == 0) magnitude = mantissa * (1f / 16777216f); // subnormal: mantissa * 2^-24
            else if (exponent == 31) magnitude = mantissa == 0 ? float.PositiveInfinity : float.NaN;
            else magnitude = Int32BitsToSingle((exponent + 112) << 23 | mantissa << 13);
            return sign == 1 ? -magnitude : magnitude;
        }

        private static float Int32BitsToSingle(int bits)
        {
            byte[] word = BitConverter.GetBytes(bits);
            return BitConverter.ToSingle(word, 0);
        }
    }
}
