using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace Gen.Calibrate
{
    /// <summary>A user error: reported as one line, exit code 2.</summary>
    public sealed class UsageException : Exception
    {
        /// <summary>Creates the error.</summary>
        public UsageException(string message) : base(message) { }
    }

    /// <summary>Reads calibration rows: raw u8 (optionally gzip, e.g. the MNIST sample's images) or raw little-endian f32.</summary>
    public static class CalibrationData
    {
        /// <summary>
        /// The data rows and their optional labels, checked: <c>Rows</c> holds every row, <c>CalibrationRows</c> how many
        /// of the first rows calibrate (all by default), <c>Labels</c> one byte per row or null.
        /// </summary>
        public static (float[] Rows, int Total, int CalibrationRows, byte[]? Labels) Load(string path, int rowSize, double scale,
            double offset, int? calibrationRows, string? labels, string rowName)
        {
            float[] all = Read(path, rowSize, scale, offset);
            int total = all.Length / rowSize;
            int count = calibrationRows ?? total;
            if (count <= 0 || count > total)
            {
                throw new UsageException($"--calibration-rows is {count} but the data holds {total} {rowName}.");
            }

            byte[]? labelBytes = null;
            if (labels != null)
            {
                if (!File.Exists(labels)) throw new UsageException($"Labels file '{labels}' not found.");
                labelBytes = File.ReadAllBytes(labels);
                if (labelBytes.Length != total) throw new UsageException($"Shape mismatch: {labelBytes.Length} labels for {total} {rowName}.");
            }

            return (all, total, count, labelBytes);
        }

        /// <summary>
        /// Reads a data file as float rows of <paramref name="rowSize"/> values: u8 values become
        /// <c>(value - offset) * scale</c>; f32 files (extension <c>.f32</c>) are read as they are.
        /// </summary>
        public static float[] Read(string path, int rowSize, double scale, double offset)
        {
            if (!File.Exists(path)) throw new UsageException($"Data file '{path}' not found.");
            if (rowSize <= 0) throw new UsageException($"--row-size must be positive (got {rowSize}).");
            bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
            string inner = gzip ? path.Substring(0, path.Length - 3) : path;
            byte[] bytes;
            try
            {
                using var stream = File.OpenRead(path);
                using Stream source = gzip ? new GZipStream(stream, CompressionMode.Decompress) : stream;
                using var buffer = new MemoryStream();
                source.CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new UsageException($"Data file '{path}' is not valid gzip: {e.Message}");
            }

            if (inner.EndsWith(".f32", StringComparison.OrdinalIgnoreCase))
            {
                if (bytes.Length % (4 * rowSize) != 0 || bytes.Length == 0)
                {
                    throw new UsageException($"Data file '{path}' holds {bytes.Length} bytes, not a whole number of float32 rows of {rowSize}.");
                }

                var floats = new float[bytes.Length / 4];
                Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
                if (!BitConverter.IsLittleEndian) throw new UsageException("float32 data needs a little-endian machine.");
                return floats;
            }

            if (bytes.Length % rowSize != 0 || bytes.Length == 0)
            {
                throw new UsageException($"Data file '{path}' holds {bytes.Length} bytes, not a whole number of rows of {rowSize}.");
            }

            var result = new float[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) result[i] = (float)((bytes[i] - offset) * scale);
            return result;
        }

        /// <summary>The range <see cref="ParseScale"/> accepts: u8 values times the scale are the model's real inputs.</summary>
        public const double MinScale = 1e-6, MaxScale = 1e6;

        /// <summary>Parses a finite number or a fraction such as <c>1/255</c>.</summary>
        public static double ParseNumber(string text, string option)
        {
            string[] parts = text.Split('/');
            if (parts.Length <= 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a))
            {
                double? value = parts.Length == 1 ? a
                    : double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && b != 0 ? a / b : null;
                if (value is double v && !double.IsNaN(v) && !double.IsInfinity(v)) return v;
            }

            throw new UsageException($"{option}: '{text}' is not a finite number or a fraction like 1/255.");
        }

        /// <summary>
        /// Parses <c>--scale-by</c>: a number or fraction from <see cref="MinScale"/> to <see cref="MaxScale"/> (0, a
        /// negative scale or 1e30 would turn the data into zeros, flipped values or infinities).
        /// </summary>
        public static double ParseScale(string text, string option)
        {
            double scale = ParseNumber(text, option);
            if (!(scale >= MinScale && scale <= MaxScale))
            {
                throw new UsageException(string.Format(CultureInfo.InvariantCulture,
                    "{0} is {1}; it must be a positive number from {2:G} to {3:G}, as u8 values times it are the model's real inputs (e.g. 1/255).",
                    option, text, MinScale, MaxScale));
            }

            return scale;
        }
    }
}
