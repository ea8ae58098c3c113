extern alias generator;
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Fuzz
{
    /// <summary>
    /// The generator's whole input, driven through <see cref="CSharpGeneratorDriver"/> as the compiler runs it. One
    /// fuzzing input is a C# source file (the model declaration: attributes and their values), then sections, each
    /// starting on a line of its own:
    /// <code>
    /// //@ safetensors weights/model.safetensors   raw safetensors bytes, encoded as Gen's build step encodes them
    /// //@ genweights weights/model.safetensors    the build step's encoded text itself (gen-weights header, base64)
    /// //@ text weights/model.calibration.txt      a plain additional file (a quantization-parameter file)
    /// //@ option build_property.NAME=VALUE         a global build option
    /// </code>
    /// Paths are relative to a virtual project folder. A crash is: an exception out of the driver, a generator
    /// exception the driver caught (CS8784, CS8785), GEN099, or an error in the generated code.
    /// </summary>
    public static class GeneratorHarness
    {
        public const string Marker = "\n//@ ";
        private const string ProjectFolder = "/project/";

        private static readonly Lazy<MetadataReference[]> References = new(() =>
        {
            var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
            var refs = paths.Where(p => p.Length > 0 && !p.Contains("SharpFuzz", StringComparison.Ordinal))
                .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
            refs.Add(MetadataReference.CreateFromFile(typeof(global::Gen.QuantizedModelAttribute).Assembly.Location));
            return refs.ToArray();
        });

        private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

        public static void Run(byte[] input) => Describe(input);

        /// <summary>Runs one input; returns the diagnostics' IDs and the number of generated files (for checking seeds).</summary>
        public static string Describe(byte[] input)
        {
            var (source, files, options) = Split(input);
            var compilation = CSharpCompilation.Create("FuzzModel",
                new[] { CSharpSyntaxTree.ParseText(source, ParseOptions, path: ProjectFolder + "Model.cs") },
                References.Value,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new ModelGenerator().AsSourceGenerator() },
                additionalTexts: files,
                parseOptions: ParseOptions,
                optionsProvider: new GlobalOptionsProvider(options));

            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
            var result = driver.GetRunResult();
            foreach (var generatorResult in result.Results)
            {
                if (generatorResult.Exception != null) throw new FuzzFailure("the generator threw: " + generatorResult.Exception);
            }

            var bad = diagnostics.Concat(result.Diagnostics)
                .FirstOrDefault(d => d.Id is "GEN099" or "CS8784" or "CS8785");
            if (bad != null) throw new FuzzFailure(bad.ToString());

            // What the generator emitted must compile: an error inside a generated file is the generator's fault,
            // unless the declaration itself does not parse (its own errors come first, and any output is moot).
            var generated = new HashSet<SyntaxTree>(result.GeneratedTrees);
            string summary = $"{generated.Count} generated files; diagnostics: " + string.Join(", ", diagnostics.Select(d => d.Id).Distinct());
            if (generated.Count == 0 || compilation.SyntaxTrees[0].GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) return summary;
            var error = output.GetDiagnostics().FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error &&
                d.Location.SourceTree is { } tree && generated.Contains(tree));
            if (error != null) throw new FuzzFailure("the generated code does not compile: " + error);
            return summary;
        }

        /// <summary>Splits one fuzzing input into the source, the additional files and the global options.</summary>
        public static (string Source, ImmutableArray<AdditionalText> Files, Dictionary<string, string> Options) Split(byte[] input)
        {
            var marker = Encoding.ASCII.GetBytes(Marker);
            var starts = new List<int>();
            for (int at = IndexOf(input, marker, 0); at >= 0; at = IndexOf(input, marker, at + 1)) starts.Add(at);
            int sourceEnd = starts.Count > 0 ? starts[0] : input.Length;
            string source = Encoding.UTF8.GetString(input, 0, sourceEnd);
            var files = ImmutableArray.CreateBuilder<AdditionalText>();
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < starts.Count; i++)
            {
                int headerStart = starts[i] + marker.Length;
                int end = i + 1 < starts.Count ? starts[i + 1] : input.Length;
                int newline = Array.IndexOf(input, (byte)'\n', headerStart, end - headerStart);
                int headerEnd = newline < 0 ? end : newline;
                int bodyStart = newline < 0 ? end : newline + 1;
                string header = Encoding.UTF8.GetString(input, headerStart, headerEnd - headerStart).TrimEnd('\r');
                var body = input.AsSpan(bodyStart, end - bodyStart).ToArray();
                int space = header.IndexOf(' ');
                string kind = space < 0 ? header : header.Substring(0, space);
                string argument = space < 0 ? "" : header.Substring(space + 1);
                switch (kind)
                {
                    case "safetensors":
                        files.Add(new InMemoryText(ProjectFolder + argument + ".genweights", Encode(body, ProjectFolder + argument)));
                        break;
                    case "genweights":
                        files.Add(new InMemoryText(ProjectFolder + argument + ".genweights", Encoding.UTF8.GetString(body)));
                        break;
                    case "text":
                        files.Add(new InMemoryText(ProjectFolder + argument, Encoding.UTF8.GetString(body)));
                        break;
                    case "option":
                        int equals = argument.IndexOf('=');
                        if (equals > 0) options[argument.Substring(0, equals)] = argument.Substring(equals + 1);
                        break;
                }
            }

            return (source, files.ToImmutable(), options);
        }

        /// <summary>The text Gen's build step writes for a weights file (src/Generators/build/Gen.targets).</summary>
        public static string Encode(byte[] bytes, string sourcePath) =>
            "gen-weights 2\nsource: " + sourcePath + "\nsize: " + bytes.Length.ToString(CultureInfo.InvariantCulture) +
            "\nmodified: 0\n" + Convert.ToBase64String(bytes) + "\n";

        private static int IndexOf(byte[] haystack, byte[] needle, int from)
        {
            int found = haystack.AsSpan(from).IndexOf(needle);
            return found < 0 ? -1 : from + found;
        }

        private sealed class InMemoryText : AdditionalText
        {
            private readonly SourceText _text;

            public InMemoryText(string path, string text)
            {
                Path = path;
                _text = SourceText.From(text);
            }

            public override string Path { get; }

            public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
        }

        private sealed class GlobalOptionsProvider : AnalyzerConfigOptionsProvider
        {
            private static readonly AnalyzerConfigOptions NoOptions = new Options(new Dictionary<string, string>());

            public GlobalOptionsProvider(Dictionary<string, string> global) => GlobalOptions = new Options(global);

            public override AnalyzerConfigOptions GlobalOptions { get; }

            public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => NoOptions;

            public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => NoOptions;

            private sealed class Options : AnalyzerConfigOptions
            {
                private readonly Dictionary<string, string> _values;

                public Options(Dictionary<string, string> values) => _values = values;

                public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
                    _values.TryGetValue(key, out value);
            }
        }
    }
}
