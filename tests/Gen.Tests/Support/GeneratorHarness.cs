extern alias generator;
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Support
{
    /// <summary>An in-memory additional file, as the build would pass it to the compiler.</summary>
    internal sealed class InMemoryText : AdditionalText
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

    /// <summary>The result of running the generator over a compilation.</summary>
    internal sealed class GeneratorRun
    {
        public required Compilation Output { get; init; }
        public required ImmutableArray<Diagnostic> GeneratorDiagnostics { get; init; }
        public required GeneratorDriver Driver { get; init; }

        public IEnumerable<Diagnostic> Errors =>
            GeneratorDiagnostics.Concat(Output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error);

        public string GeneratedSource(string suffix) =>
            Output.SyntaxTrees.Single(t => t.FilePath.EndsWith(suffix, StringComparison.Ordinal)).ToString();

        /// <summary>Emits the compilation and loads it into a collectible context.</summary>
        public Assembly Load()
        {
            using var pe = new MemoryStream();
            var result = Output.Emit(pe);
            if (!result.Success)
            {
                throw new InvalidOperationException("The generated code does not compile:\n" +
                    string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
            }

            pe.Position = 0;
            var context = new AssemblyLoadContext("gen-test-" + Guid.NewGuid(), isCollectible: true);
            return context.LoadFromStream(pe);
        }

        public byte[] ImageBytes()
        {
            using var pe = new MemoryStream();
            var result = Output.Emit(pe);
            if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Take(20)));
            return pe.ToArray();
        }
    }

    /// <summary>Drives Gen's generator with CSharpGeneratorDriver, the way the compiler does during a build.</summary>
    internal static class GeneratorHarness
    {
        private static readonly Lazy<MetadataReference[]> References = new(() =>
        {
            var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(System.IO.Path.PathSeparator);
            var refs = paths.Where(p => p.Length > 0).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
            refs.Add(MetadataReference.CreateFromFile(typeof(global::Gen.QuantizedModelAttribute).Assembly.Location));
            return refs.ToArray();
        });

        public static CSharpCompilation Compilation(params string[] sources) =>
            CSharpCompilation.Create("GenTestModel" + Guid.NewGuid().ToString("N"),
                sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Model{i}.cs")),
                References.Value,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                    allowUnsafe: false, nullableContextOptions: NullableContextOptions.Enable));

        /// <summary>A driver over <paramref name="files"/>; <paramref name="globalOptions"/> are the build's global
        /// options (for example <c>build_property.MSBuildProjectDirectory</c>), none by default.</summary>
        public static GeneratorDriver Driver(IEnumerable<AdditionalText> files, IReadOnlyDictionary<string, string>? globalOptions = null) =>
            CSharpGeneratorDriver.Create(
                new[] { new ModelGenerator().AsSourceGenerator() },
                additionalTexts: files,
                parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
                optionsProvider: globalOptions is null ? null : new GlobalOptionsProvider(globalOptions),
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        /// <summary>Global options as the compiler reads them from the build's generated .editorconfig.</summary>
        private sealed class GlobalOptionsProvider : AnalyzerConfigOptionsProvider
        {
            private static readonly AnalyzerConfigOptions NoOptions = new Options(new Dictionary<string, string>());

            public GlobalOptionsProvider(IReadOnlyDictionary<string, string> global) => GlobalOptions = new Options(global);

            public override AnalyzerConfigOptions GlobalOptions { get; }

            public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => NoOptions;

            public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => NoOptions;

            private sealed class Options : AnalyzerConfigOptions
            {
                private readonly IReadOnlyDictionary<string, string> _values;

                public Options(IReadOnlyDictionary<string, string> values) => _values = values;

                public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
                    _values.TryGetValue(key, out value);
            }
        }

        public static GeneratorRun Run(string source, params (string Path, byte[] Bytes)[] weights) =>
            Run(source, Array.Empty<(string, string)>(), weights);

        /// <summary>Runs with weights files and plain-text additional files (quantization-parameter files).</summary>
        public static GeneratorRun Run(string source, (string Path, string Text)[] texts, params (string Path, byte[] Bytes)[] weights)
        {
            var files = weights.Select(w => (AdditionalText)new InMemoryText(w.Path + ".genweights", SafeTensorsWriter.Encode(w.Bytes, w.Path)))
                .Concat(texts.Select(t => (AdditionalText)new InMemoryText(t.Path, t.Text)));
            return Run(Compilation(source), Driver(files));
        }

        public static GeneratorRun Run(Compilation compilation, GeneratorDriver driver)
        {
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
            return new GeneratorRun { Output = output, GeneratorDiagnostics = diagnostics, Driver = driver };
        }
    }
}
