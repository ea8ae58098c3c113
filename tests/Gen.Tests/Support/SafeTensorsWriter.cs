using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Gen.Tests.Support
{
    /// <summary>Writes safetensors files in tests, independently of the reader under test.</summary>
    internal sealed class SafeTensorsWriter
    {
        private readonly List<(string Name, string DType, int[] Shape, byte[] Data)> _tensors = new();

        public SafeTensorsWriter F32(string name, float[] values, params int[] shape)
        {
            var data = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, data, 0, data.Length);
            _tensors.Add((name, "F32", shape, data));
            return this;
        }

        public SafeTensorsWriter I8(string name, sbyte[] values, params int[] shape)
        {
            _tensors.Add((name, "I8", shape, values.Select(v => unchecked((byte)v)).ToArray()));
            return this;
        }

        public SafeTensorsWriter I32(string name, int[] values, params int[] shape)
        {
            var data = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, data, 0, data.Length);
            _tensors.Add((name, "I32", shape, data));
            return this;
        }

        public SafeTensorsWriter Raw(string name, string dtype, byte[] data, params int[] shape)
        {
            _tensors.Add((name, dtype, shape, data));
            return this;
        }

        public byte[] ToBytes()
        {
            var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
            long offset = 0;
            foreach (var t in _tensors)
            {
                header.Append(CultureInfo.InvariantCulture, $",\"{Json(t.Name)}\":{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + t.Data.Length}]}}");
                offset += t.Data.Length;
            }

            header.Append('}');
            while ((header.Length + 8) % 8 != 0) header.Append(' ');
            var json = Encoding.UTF8.GetBytes(header.ToString());
            using var stream = new MemoryStream();
            stream.Write(BitConverter.GetBytes((ulong)json.Length));
            stream.Write(json);
            foreach (var t in _tensors) stream.Write(t.Data);
            return stream.ToArray();
        }

        /// <summary>A tensor name as the inside of a JSON string (quotes, backslashes, control characters and surrogates escaped).</summary>
        private static string Json(string name) => string.Concat(name.Select(c =>
            c == '"' || c == '\\' ? "\\" + c : c < 0x20 || char.IsSurrogate(c) ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString()));

        /// <summary>The text form Gen's build step writes for a weights file (see WeightsFileReader).</summary>
        public static string Encode(byte[] bytes, string sourcePath) =>
            "gen-weights 2\nsource: " + sourcePath + "\nsize: " + bytes.Length.ToString(CultureInfo.InvariantCulture) +
            "\nmodified: 0\n" + Convert.ToBase64String(bytes) + "\n";
    }
}
