using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Gen.Import;
using Gen.Runtime;
using Gen.Runtime.Calibration;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Calibrate
{
    /// <summary>
    /// <c>gen-calibrate bert</c>: calibrates a BERT encoder on text. The sentences are tokenized with the model's own
    /// vocabulary, the float graph runs them (real tokens only are recorded), each method calibrates every activation,
    /// and each calibration's integer encoder (the reference interpreter, the integers the generated code computes) is
    /// scored on held-out sentences by the cosine of its embedding to the float model's. The best method's parameter
    /// file is the one [BertEncoder] reads.
    /// </summary>
    public static class BertCommand
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The verb and its options.</summary>
        public static Command Create(TextWriter output, TextWriter error)
        {
            var model = new Option<string>("--model") { Description = "The checkpoint: an ONNX export (model.onnx) or a Hugging Face model.safetensors.", Required = true };
            var vocabulary = new Option<string>("--vocab") { Description = "The model's vocab.txt (WordPiece, lowercased).", Required = true };
            var text = new Option<string>("--text") { Description = "Calibration sentences, one a line.", Required = true };
            var heldOut = new Option<string?>("--evaluation") { Description = "Held-out sentences, one a line, to score each method on (default: the calibration file's last lines)." };
            var tokens = new Option<int>("--tokens") { Description = "The most tokens a sentence has ([BertEncoder]'s MaxTokens).", DefaultValueFactory = _ => 128 };
            var pooling = new Option<string>("--pooling") { Description = "mean, cls or none (as [BertEncoder]'s Pooling).", DefaultValueFactory = _ => "mean" };
            var heads = new Option<int?>("--heads") { Description = "Attention heads (a safetensors checkpoint does not show them)." };
            var sentences = new Option<int>("--sentences") { Description = "Calibration sentences to use (the first N).", DefaultValueFactory = _ => 256 };
            var scored = new Option<int>("--score-sentences") { Description = "Held-out sentences each method is scored on.", DefaultValueFactory = _ => 16 };
            var method = new Option<string>("--method") { Description = "max, max-ma, percentile[:P], mse, entropy; several separated by commas, or all.", DefaultValueFactory = _ => "max,percentile,mse" };
            var output_ = new Option<string>("--output") { Description = "The parameter file to write (the best method's).", Required = true };
            var force = new Option<bool>("--force") { Description = "Overwrite the output file if it exists." };
            var command = new Command("bert", "Calibrate a BERT encoder (ONNX or Hugging Face safetensors) on text, for [BertEncoder].");
            foreach (var option in new Option[] { model, vocabulary, text, heldOut, tokens, pooling, heads, sentences, scored, method, output_, force }) command.Options.Add(option);
            command.SetAction(result => CalibrateCommand.Guard(error, () => Run(new Settings(
                result.GetValue(model)!, result.GetValue(vocabulary)!, result.GetValue(text)!, result.GetValue(heldOut), result.GetValue(tokens),
                result.GetValue(pooling)!, result.GetValue(heads), result.GetValue(sentences), result.GetValue(scored), result.GetValue(method)!,
                result.GetValue(output_)!, result.GetValue(force)), output)));
            return command;
        }

        private sealed record Settings(string Model, string Vocabulary, string Text, string? HeldOut, int Tokens, string Pooling, int? Heads,
            int Sentences, int Scored, string Methods, string Output, bool Force);

        private static int Run(Settings s, TextWriter output)
        {
            if (File.Exists(s.Output) && !s.Force) throw new UsageException($"'{s.Output}' exists; pass --force to overwrite it.");
            var pooling = s.Pooling.ToLowerInvariant() switch
            {
                "mean" => BertPooling.Mean,
                "cls" => BertPooling.Cls,
                "none" => BertPooling.None,
                _ => throw new UsageException($"--pooling '{s.Pooling}' is not mean, cls or none."),
            };
            if (s.Sentences <= 0 || s.Scored <= 0) throw new UsageException("--sentences and --score-sentences must be positive.");
            foreach (string path in new[] { s.Model, s.Vocabulary, s.Text }.Concat(s.HeldOut is null ? Array.Empty<string>() : new[] { s.HeldOut }))
            {
                if (!File.Exists(path)) throw new UsageException($"'{path}' not found.");
            }

            byte[] bytes = File.ReadAllBytes(s.Model);
            var read = s.Model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? BertCheckpoint.FromOnnx(bytes) : BertCheckpoint.FromSafeTensors(bytes);
            if (!read.Succeeded) throw new UsageException($"'{s.Model}': {read.Error}");
            var shape = read.Value!.Shape(s.Tokens, pooling, heads: s.Heads);
            if (!shape.Succeeded) throw new UsageException(shape.Error!);
            var floats = FloatModel.Bert(read.Value.ToSafeTensors(), shape.Value!);
            var encoder = BertTextEncoder.FromVocabularyFile(s.Vocabulary, s.Tokens);

            var lines = File.ReadAllLines(s.Text).Where(l => l.Trim().Length > 0).ToList();
            var held = s.HeldOut is null ? lines.Skip(Math.Max(0, lines.Count - s.Scored)).ToList() : File.ReadAllLines(s.HeldOut).Where(l => l.Trim().Length > 0).Take(s.Scored).ToList();
            var calibration = (s.HeldOut is null ? lines.Take(Math.Max(0, lines.Count - s.Scored)) : lines).Take(s.Sentences).ToList();
            if (calibration.Count == 0 || held.Count == 0) throw new UsageException("Need calibration and held-out sentences: give more lines, or --evaluation.");
            output.WriteLine(string.Format(Invariant, "{0}: {1} layers, width {2}, {3} heads, up to {4} tokens, {5} pooling; {6} calibration and {7} held-out sentences.",
                Path.GetFileName(s.Model), shape.Value!.Layers, shape.Value.Width, shape.Value.Heads, s.Tokens, s.Pooling, calibration.Count, held.Count));

            var (ids, lengths) = Sequences(encoder, calibration, s.Tokens);
            var statistics = new ActivationStatistics(floats);
            statistics.AddSequences(ids, lengths);
            var (heldIds, heldLengths) = Sequences(encoder, held, s.Tokens);
            var expected = new float[heldLengths.Length * floats.OutputSize];
            floats.Run(heldIds, heldLengths, expected);

            var methods = s.Methods.Trim().ToLowerInvariant() == "all"
                ? CalibrationMethods.Names.Where(m => m != CalibrationMethods.EasyQuant).ToList()
                : s.Methods.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            output.WriteLine("| method | mean cosine | worst cosine |");
            output.WriteLine("|---|---|---|");
            (string Method, double Mean, ActivationCalibration Calibration)? best = null;
            foreach (string m in methods)
            {
                var calibrated = ActivationCalibration.Calibrate(statistics, CalibrationPipeline.Calibrator(m, "--method"));
                ReferenceInterpreter integer;
                try
                {
                    integer = new ReferenceInterpreter(calibrated.Quantize(floats));
                }
                catch (ModelDefinitionException e)
                {
                    output.WriteLine($"| {m} | (no integer model: {CalibrationPipeline.Message(e)}) | |");
                    continue;
                }

                var actual = new sbyte[expected.Length];
                integer.Run(heldIds, heldLengths, actual);
                var q = integer.OutputQuantization;
                var cosines = Enumerable.Range(0, heldLengths.Length).Select(i => Cosine(expected.AsSpan(i * floats.OutputSize, floats.OutputSize),
                    actual.AsSpan(i * floats.OutputSize, floats.OutputSize), q)).ToArray();
                output.WriteLine(string.Format(Invariant, "| {0} | {1:F5} | {2:F5} |", calibrated.Method, cosines.Average(), cosines.Min()));
                if (best is null || cosines.Average() > best.Value.Mean) best = (calibrated.Method, cosines.Average(), calibrated);
            }

            if (best is null) throw new UsageException("No method gave an integer model.");
            File.WriteAllText(s.Output, best.Value.Calibration.ToText());
            output.WriteLine(string.Format(Invariant, "Best on the held-out sentences: {0} (mean cosine {1:F5}); wrote {2}.", best.Value.Method, best.Value.Mean, s.Output));
            return 0;
        }

        private static (int[] Ids, int[] Lengths) Sequences(BertTextEncoder encoder, IReadOnlyList<string> sentences, int tokens)
        {
            var ids = new int[sentences.Count * tokens];
            var lengths = new int[sentences.Count];
            for (int i = 0; i < sentences.Count; i++)
            {
                int[] row = encoder.Encode(sentences[i]);
                row.CopyTo(ids, i * tokens);
                lengths[i] = row.Length;
            }

            return (ids, lengths);
        }

        private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<sbyte> b, QuantizationParameters q)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                double y = (b[i] - q.ZeroPoint) * (double)q.Scale;
                dot += a[i] * y;
                na += (double)a[i] * a[i];
                nb += y * y;
            }

            return dot / Math.Sqrt(na * nb);
        }
    }
}
