using System;
using System.Text;
using Gen.Runtime;

namespace Gen.Fuzz
{
    /// <summary>
    /// <see cref="SafeTensorsFile.Parse"/> on arbitrary bytes: it either throws <see cref="FormatException"/> or returns
    /// tensors that lie inside the file, whose data the typed readers then read without any other exception.
    /// </summary>
    public static class SafeTensorsHarness
    {
        public static void Run(byte[] bytes)
        {
            SafeTensorsFile file;
            try
            {
                file = SafeTensorsFile.Parse(bytes);
            }
            catch (FormatException)
            {
                return;
            }

            foreach (var (name, tensor) in file.Tensors)
            {
                if (tensor.Name != name) throw new FuzzFailure($"tensor '{name}' reports the name '{tensor.Name}'");
                if (tensor.Offset < 8 || tensor.Length < 0 || (long)tensor.Offset + tensor.Length > bytes.Length)
                {
                    throw new FuzzFailure($"tensor '{name}' claims bytes [{tensor.Offset}, {(long)tensor.Offset + tensor.Length}) of a {bytes.Length}-byte file");
                }

                _ = tensor.ShapeText;
                long count = tensor.ElementCount;
                int size = SafeTensorsFile.ElementSize(tensor.DataType);
                if (size > 0 && count * size != tensor.Length)
                {
                    throw new FuzzFailure($"tensor '{name}' has {count} elements of {size} bytes but {tensor.Length} bytes of data");
                }

                int read = tensor.DataType switch
                {
                    "F32" => file.ReadFloat32(tensor).Length,
                    "I32" => file.ReadInt32(tensor).Length,
                    "I8" => file.ReadInt8(tensor).Length,
                    _ => -1,
                };
                if (read >= 0 && read != count) throw new FuzzFailure($"tensor '{name}' read {read} elements, expected {count}");

                // A reader for another type must refuse it with the documented exception.
                try
                {
                    if (tensor.DataType == "F32") file.ReadInt8(tensor); else file.ReadFloat32(tensor);
                    throw new FuzzFailure($"tensor '{name}' of dtype {tensor.DataType} was read as another type");
                }
                catch (FormatException)
                {
                }
            }
        }
    }

    /// <summary>
    /// <see cref="QuantizationParameterFile"/> on arbitrary text: <c>TryParse</c> never throws, <c>Parse</c> throws only
    /// <see cref="FormatException"/>, and the two agree.
    /// </summary>
    public static class CalibrationHarness
    {
        public static void Run(byte[] bytes)
        {
            string text = Encoding.UTF8.GetString(bytes);
            string? error = QuantizationParameterFile.TryParse(text, out var lines);
            try
            {
                var parameters = QuantizationParameterFile.Parse(text);
                if (error != null) throw new FuzzFailure($"Parse accepted a file that TryParse rejects ({error})");
                if (parameters.Count != lines.Count) throw new FuzzFailure($"Parse returned {parameters.Count} entries for {lines.Count} lines");
                foreach (var line in lines)
                {
                    var p = parameters[line.Name];
                    if (!(p.Scale > 0) || float.IsInfinity(p.Scale)) throw new FuzzFailure($"'{line.Name}' was accepted with scale {p.Scale}");
                }
            }
            catch (FormatException)
            {
            }
        }
    }
}
