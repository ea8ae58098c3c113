using Xunit;
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Gen.Runtime;

namespace Gen.Tests.Numerics
{
    /// <summary>
    /// Checks <see cref="FixedPoint"/> bit for bit against vectors produced by the C++ oracle in
    /// <c>tests/Oracle</c> (gemmlowp's own header and TensorFlow Lite's reference formulas).
    /// </summary>
    public class FixedPointOracleTests
    {
        private const int MinimumRows = 1000;
        private const int MaxReportedFailures = 20;

        [Fact]
        public void SaturatingRoundingDoublingHighMul_MatchesGemmlowp()
        {
            CheckFile("srdhm.csv", "a,b,result", f =>
            {
                int a = ParseInt(f[0]);
                int b = ParseInt(f[1]);
                int expected = ParseInt(f[2]);
                int actual = FixedPoint.SaturatingRoundingDoublingHighMul(a, b);
                return (actual == expected, $"a={a}, b={b}: expected {expected}, got {actual}");
            });
        }

        [Fact]
        public void RoundingDivideByPOT_MatchesGemmlowp()
        {
            CheckFile("rdbypot.csv", "x,exponent,result", f =>
            {
                int x = ParseInt(f[0]);
                int exponent = ParseInt(f[1]);
                int expected = ParseInt(f[2]);
                int actual = FixedPoint.RoundingDivideByPOT(x, exponent);
                return (actual == expected, $"x={x}, exponent={exponent}: expected {expected}, got {actual}");
            });
        }

        [Fact]
        public void MultiplyByQuantizedMultiplier_MatchesTfLiteDoubleRounding()
        {
            CheckFile("mbqm.csv", "x,multiplier,shift,result", f =>
            {
                int x = ParseInt(f[0]);
                int multiplier = ParseInt(f[1]);
                int shift = ParseInt(f[2]);
                int expected = ParseInt(f[3]);
                int actual = FixedPoint.MultiplyByQuantizedMultiplier(x, multiplier, shift);
                return (actual == expected,
                    $"x={x}, multiplier={multiplier}, shift={shift}: expected {expected}, got {actual}");
            });
        }

        [Fact]
        public void MultiplyByQuantizedMultiplierSingleRounding_MatchesTfLiteSingleRounding()
        {
            CheckFile("mbqm_single.csv", "x,multiplier,shift,result", f =>
            {
                int x = ParseInt(f[0]);
                int multiplier = ParseInt(f[1]);
                int shift = ParseInt(f[2]);
                int expected = ParseInt(f[3]);
                int actual = FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift);
                return (actual == expected,
                    $"x={x}, multiplier={multiplier}, shift={shift}: expected {expected}, got {actual}");
            });
        }

        [Fact]
        public void QuantizeMultiplier_MatchesTfLite()
        {
            CheckFile("quantize_multiplier.csv", "bits,value,multiplier,shift", f =>
            {
                double value = ParseHexDouble(f[0]);
                int expectedMultiplier = ParseInt(f[2]);
                int expectedShift = ParseInt(f[3]);
                FixedPoint.QuantizeMultiplier(value, out int multiplier, out int shift);
                return (multiplier == expectedMultiplier && shift == expectedShift,
                    $"value={f[0]} ({value.ToString("R", CultureInfo.InvariantCulture)}): expected " +
                    $"({expectedMultiplier}, {expectedShift}), got ({multiplier}, {shift})");
            });
        }

        [Fact]
        public void DoubleAndSingleRounding_DifferOnKnownTie()
        {
            Assert.Equal(-2185, FixedPoint.MultiplyByQuantizedMultiplier(-176945, 1696766344, -6));
            Assert.Equal(-2184, FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(-176945, 1696766344, -6));
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(32)]
        public void RoundingDivideByPOT_RejectsExponentOutOfRange(int exponent)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(1, exponent));
        }

        [Theory]
        [InlineData(-1.0)]
        [InlineData(double.NaN)]
        [InlineData(double.PositiveInfinity)]
        public void QuantizeMultiplier_RejectsInvalidMultiplier(double value)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplier(value, out _, out _));
        }

        [Theory]
        [InlineData(-1, 0)]
        [InlineData(int.MinValue, 0)]
        [InlineData(1 << 30, -32)]
        [InlineData(1 << 30, 31)]
        public void MultiplyByQuantizedMultiplier_RejectsInvalidParameters(int multiplier, int shift)
        {
            Assert.Throws<ArgumentOutOfRangeException>(
                () => FixedPoint.MultiplyByQuantizedMultiplier(1, multiplier, shift));
        }

        [Theory]
        [InlineData(-1, 0)]
        [InlineData(int.MinValue, 0)]
        [InlineData(1 << 30, -32)]
        [InlineData(1 << 30, 31)]
        public void MultiplyByQuantizedMultiplierSingleRounding_RejectsInvalidParameters(int multiplier, int shift)
        {
            Assert.Throws<ArgumentOutOfRangeException>(
                () => FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(1, multiplier, shift));
        }

        /// <summary>
        /// Reads a vector file, checks its header, runs <paramref name="check"/> on every data row and fails with
        /// the row numbers and inputs of the mismatches.
        /// </summary>
        private static void CheckFile(string fileName, string expectedHeader, Func<string[], (bool Ok, string Detail)> check)
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Vectors", fileName);
            Assert.True(File.Exists(path), $"Test vector file not found: {path}");
            string[] lines = File.ReadAllLines(path);
            Assert.True(lines.Length > 0, $"{fileName} is empty.");
            Assert.Equal(expectedHeader, lines[0].Trim());

            int columns = expectedHeader.Split(',').Length;
            int rows = 0;
            var failures = new List<string>();
            int failureCount = 0;
            for (int i = 1; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                string[] fields = line.Split(',');
                Assert.True(fields.Length == columns, $"{fileName} line {i + 1}: expected {columns} fields: '{line}'");
                rows++;
                (bool ok, string detail) = check(fields);
                if (!ok)
                {
                    failureCount++;
                    if (failures.Count < MaxReportedFailures)
                    {
                        failures.Add($"{fileName} line {i + 1}: {detail}");
                    }
                }
            }

            Assert.True(rows > MinimumRows, $"{fileName} has only {rows} rows; expected more than {MinimumRows}.");
            if (failureCount > 0)
            {
                var message = new StringBuilder();
                message.Append(CultureInfo.InvariantCulture, $"{failureCount} of {rows} rows of {fileName} differ from the oracle");
                if (failureCount > failures.Count)
                {
                    message.Append(CultureInfo.InvariantCulture, $" (first {failures.Count} shown)");
                }

                message.AppendLine(":");
                foreach (string failure in failures)
                {
                    message.AppendLine(failure);
                }

                Assert.Fail(message.ToString());
            }
        }

        private static int ParseInt(string text) => int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        private static double ParseHexDouble(string hex)
        {
            Assert.StartsWith("0x", hex, StringComparison.Ordinal);
            return BitConverter.Int64BitsToDouble(long.Parse(hex[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }
}
