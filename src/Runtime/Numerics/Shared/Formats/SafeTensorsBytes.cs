using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Gen.Runtime
{
    /// <summary>
    /// Writes safetensors files in memory: an 8-byte little-endian header length, the JSON header, the tensors' bytes.
    /// Importers use it to hand weights from other formats (an ONNX export) to everything that reads safetensors.
    /// </summary>
    public static class SafeTensorsBytes
    {
        /// <summary>One tensor to write: its name, dtype (<c>F32</c>, <c>I8</c>, ...), shape and little-endian bytes.</summary>
        public readonly struct Entry
        {
            /// <summary>Creates an entry.</summary>
            public Entry(string name, string dataType, int[] shape, byte[] data)
            {
                Name = name;
                DataType = dataType;
                Shape = shape;
                Data = data;
            }

            /// <summary>The tensor's name.</summary>
            public string Name { get; }

            /// <summary>Its dtype.</summary>
            public string DataType { get; }

            /// <summary>Its shape.</summary>
            public int[] Shape { get; }

            /// <summary>Its bytes.</summary>
            public byte[] Data { get; }

            /// <summary>An F32 tensor.</summary>
            public static Entry Float(string name, int[] shape, float[] values) => new Entry(name, "F32", shape, FloatBytes(values));
        }

        /// <summary>The file's bytes; <paramref name="metadata"/> becomes <c>__metadata__</c> (string values).</summary>
        public static byte[] Write(IEnumerable<Entry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            var header = new StringBuilder("{");
            bool first = true;
            if (metadata != null)
            {
                header.Append("\"__metadata__\":{");
                bool firstKey = true;
                foreach (var pair in metadata)
                {
                    header.Append(firstKey ? "" : ",").Append('"').Append(Escape(pair.Key)).Append("\":\"").Append(Escape(pair.Value)).Append('"');
                    firstKey = false;
                }

                header.Append('}');
                first = false;
            }

            var list = new List<Entry>(tensors);
            long offset = 0;
            foreach (var t in list)
            {
                header.Append(first ? "" : ",").Append('"').Append(Escape(t.Name)).Append("\":{\"dtype\":\"").Append(t.DataType)
                    .Append("\",\"shape\":[").Append(string.Join(",", t.Shape)).Append("],\"data_offsets\":[")
                    .Append(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',')
                    .Append((offset + t.Data.Length).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("]}");
                offset += t.Data.Length;
                first = false;
            }

            header.Append('}');
            while ((header.Length + 8) % 8 != 0) header.Append(' ');
            byte[] json = Encoding.UTF8.GetBytes(header.ToString());
            using var stream = new MemoryStream();
            ulong n = (ulong)json.Length;
            for (int i = 0; i < 8; i++) stream.WriteByte((byte)(n >> (8 * i)));
            stream.Write(json, 0, json.Length);
            foreach (var t in list) stream.Write(t.Data, 0, t.Data.Length);
            return stream.ToArray();
        }

        /// <summary>Float32 values as little-endian bytes.</summary>
        public static byte[] FloatBytes(float[] values)
        {
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < bytes.Length; i += 4)
                {
                    (bytes[i], bytes[i + 3]) = (bytes[i + 3], bytes[i]);
                    (bytes[i + 1], bytes[i + 2]) = (bytes[i + 2], bytes[i + 1]);
                }
            }

            return bytes;
        }

        private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");
    }
}
