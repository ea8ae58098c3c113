using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;

namespace Gen.Calibrate
{
    /// <summary>
    /// The <c>gen-calibrate</c> command. Its default verb calibrates an MLP (<c>--layers</c>); <c>transformer</c>
    /// (<see cref="TransformerCommand"/>) a vision transformer. Each verb only builds its model's graph and float model;
    /// <see cref="CalibrationPipeline"/> does the rest for both: statistics, every method, the integer model in the
    /// reference interpreter, the files and the report. Exit codes: 0 success, 2 a usage or input error (one line on
    /// stderr), 1 an unexpected failure.
    /// </summary>
    public static class CalibrateCommand
    {
        /// <summary>Runs the command with the given arguments and writers; returns the exit code.</summary>
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            var shared = new PipelineOptions("The float32 model (safetensors, PyTorch layout).", "rows", "mse", null);
            var layers = new Option<string>("--layers") { Description = "Layers in order, name:outputs[:activation], e.g. fc1:128:relu,fc2:10.", Required = true };
            var rowSize = new Option<int?>("--row-size") { Description = "Values per row (default: the model's input size)." };
            var perTensor = new Option<bool>("--per-tensor-weights") { Description = "One weight scale per tensor instead of per output channel." };
            var samples = new Option<int>("--easyquant-samples") { Description = "Rows EasyQuant searches on (spread over the calibration rows).", DefaultValueFactory = _ => 512 };
            var root = new RootCommand("Post-training calibration for Gen: from a float model and sample inputs to the scales and zero points of its [ModelInput]/[Dense] attributes.");
            foreach (var option in shared.All) root.Options.Add(option);
            root.Options.Add(layers);
            root.Options.Add(rowSize);
            root.Options.Add(perTensor);
            root.Options.Add(samples);
            root.Subcommands.Add(TransformerCommand.Create(output, error));
            root.Subcommands.Add(BertCommand.Create(output, error));

            // The action is set before parsing: a root command with subcommands but no action would require one.
            root.SetAction(result => Guard(error, () =>
            {
                var settings = shared.Read(result);
                settings.EasyQuantSamples = result.GetValue(samples);
                var model = Mlp(settings.Weights, result.GetValue(layers)!, !result.GetValue(perTensor), result.GetValue(rowSize));
                string description = "Model " + string.Join("-", new[] { model.InputSize }.Concat(model.DenseLayers.Select(l => l.Outputs)));
                return CalibrationPipeline.Run(settings, model, description, "data rows", output);
            }));

            var config = new InvocationConfiguration { Output = output, Error = error };
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                error.WriteLine("error: " + parse.Errors[0].Message);
                return 2;
            }

            return parse.Invoke(config);
        }

        /// <summary>Runs a verb's action: a <see cref="UsageException"/> becomes one <c>error:</c> line and exit code 2.</summary>
        internal static int Guard(TextWriter error, Func<int> action)
        {
            try
            {
                return action();
            }
            catch (UsageException e)
            {
                error.WriteLine("error: " + e.Message);
                return 2;
            }
        }

        // The MLP's graph (DenseFrontend, weights per channel or per tensor) and its float model.
        private static FloatModel Mlp(string weightsPath, string layerText, bool perChannel, int? rowSize)
        {
            var file = CalibrationPipeline.ReadWeights(weightsPath);
            IReadOnlyList<DenseLayerSpec> specs;
            FloatModel model;
            try
            {
                specs = DenseLayerSpec.ParseList(layerText);
                // The input size is the first layer's weight's (when that is missing, the model reports it).
                int inputSize = file.Tensors.TryGetValue(specs[0].Name + ".weight", out var first) && first.Shape.Length == 2 ? first.Shape[1] : 1;
                var problems = new ProblemList();
                var graph = DenseFrontend.Build(Math.Max(inputSize, 1),
                    specs.Select(l => new DenseLayerDeclaration(l.Name, l.Outputs, l.Activation, perChannel)).ToList(), problems);
                problems.ThrowIfAny();
                model = new FloatModel(graph, file);
            }
            catch (Exception e) when (e is FormatException || e is ArgumentException)
            {
                throw new UsageException(e.Message);
            }

            if (rowSize is int size && size != model.InputSize)
            {
                throw new UsageException($"Shape mismatch: --row-size is {size} but '{specs[0].Name}.weight' takes {model.InputSize} inputs.");
            }

            return model;
        }
    }
}
