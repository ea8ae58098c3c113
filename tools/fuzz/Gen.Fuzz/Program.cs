using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SharpFuzz;

namespace Gen.Fuzz
{
    /// <summary>
    /// The fuzzing harnesses. Each takes one input (a byte array) and throws when the code under test misbehaves:
    /// a reader lets an exception other than its documented <see cref="FormatException"/> escape or returns something
    /// inconsistent, or the generator throws, reports GEN099 (internal error), CS8784/CS8785 (a generator failure
    /// caught by the compiler) or emits code that does not compile. Expected rejections are swallowed.
    /// </summary>
    public static class Program
    {
        private static readonly Dictionary<string, Action<byte[]>> Harnesses = new(StringComparer.Ordinal)
        {
            ["safetensors"] = SafeTensorsHarness.Run,
            ["calibration"] = CalibrationHarness.Run,
            ["onnx"] = OnnxHarness.Run,
            ["generator"] = GeneratorHarness.Run,
        };

        /// <summary>
        /// <c>Gen.Fuzz HARNESS</c>: run under afl-fuzz (input on stdin; run once when not under afl-fuzz).
        /// <c>Gen.Fuzz HARNESS FILE...</c>: replay inputs (for example afl-fuzz's crashes folder), print each failure
        /// with its stack trace, exit 1 if any input crashes.
        /// <c>Gen.Fuzz seeds CORPUS</c>: write the generated seed inputs into CORPUS/&lt;harness&gt;/.
        /// </summary>
        public static int Main(string[] args)
        {
            if (args.Length == 2 && args[0] == "seeds")
            {
                Seeds.Write(args[1]);
                return 0;
            }

            if (args.Length == 0 || !Harnesses.TryGetValue(args[0], out var harness))
            {
                Console.Error.WriteLine("usage: Gen.Fuzz {" + string.Join("|", Harnesses.Keys) + "} [input files to replay...]");
                Console.Error.WriteLine("       Gen.Fuzz seeds CORPUS_FOLDER");
                return 2;
            }

            if (args.Length == 1)
            {
                // No warm-up before this call: instrumented code run before Fuzzer.Run has no coverage map to write to.
                Fuzzer.Run(stream => harness(ReadAll(stream)));
                return 0;
            }

            int crashes = 0;
            foreach (string path in args.Skip(1).SelectMany(Expand))
            {
                try
                {
                    harness(File.ReadAllBytes(path));
                }
                catch (Exception e)
                {
                    crashes++;
                    Console.WriteLine($"CRASH {path}: {e}");
                }
            }

            Console.WriteLine($"{crashes} of the replayed inputs crash.");
            return crashes == 0 ? 0 : 1;
        }

        private static IEnumerable<string> Expand(string path) =>
            Directory.Exists(path) ? Directory.GetFiles(path).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal) : new[] { path };

        private static byte[] ReadAll(Stream stream)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    /// <summary>Thrown by a harness when the code under test broke a rule without throwing itself.</summary>
    public sealed class FuzzFailure : Exception
    {
        public FuzzFailure(string message) : base(message)
        {
        }
    }
}
