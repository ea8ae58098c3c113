extern alias generator;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Gen.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using ModelGenerator = generator::Gen.Generators.ModelGenerator;

namespace Gen.Tests.Package
{
    /// <summary>
    /// Every public API has XML documentation with a summary that says something: the packaged libraries
    /// (Gen.Attributes and Gen.Runtime, read from their shipped .xml files the way an IDE reads them) and the code the
    /// generator writes into the user's project, which a project with GenerateDocumentationFile and
    /// TreatWarningsAsErrors compiles with CS1591 (missing comment) and the other documentation warnings turned on.
    /// </summary>
    public class DocumentationTests
    {
        [Theory]
        [InlineData("Gen.Attributes")]
        [InlineData("Gen.Runtime")]
        public void EveryPublicApiOfTheLibrariesHasASummary(string assemblyName)
        {
            var assembly = AppDomain.CurrentDomain.GetAssemblies().SingleOrDefault(a => a.GetName().Name == assemblyName)
                ?? System.Reflection.Assembly.Load(assemblyName);
            string dll = assembly.Location, xml = Path.ChangeExtension(dll, ".xml");
            Assert.True(File.Exists(xml), xml + " is missing: GenerateDocumentationFile must stay on in src/Directory.Build.props");
            // The shipped file: one <member name="T:..."> per documented symbol, named by its documentation ID.
            var docs = XDocument.Load(xml).Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
            var reference = MetadataReference.CreateFromFile(dll);
            var compilation = CSharpCompilation.Create("DocCheck", references: GeneratorHarness.Compilation().References.Append(reference));
            var library = (IAssemblySymbol)compilation.GetAssemblyOrModuleSymbol(reference)!;

            var api = PublicApi(library.GlobalNamespace).ToList();
            Assert.True(api.Count > 10, $"only {api.Count} public symbols found in {assemblyName}");
            var missing = api.Select(s => s.GetDocumentationCommentId()!)
                .Where(id => !docs.TryGetValue(id, out var member) || !HasSummary(member)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} public symbols of {assemblyName} without a summary:\n" + string.Join("\n", missing));
        }

        [Theory]
        [InlineData("mlp")]
        [InlineData("vit")]
        public void TheGeneratedPublicApiIsDocumented(string family)
        {
            var parse = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);
            string source;
            var files = new List<AdditionalText>();
            if (family == "mlp")
            {
                var model = RandomModel.Create(new Random(3), new[] { 12, 8, 4 });
                source = model.Source;
                files.Add(new InMemoryText("/project/weights/model.safetensors.genweights", SafeTensorsWriter.Encode(model.Weights, "/project/weights/model.safetensors")));
            }
            else
            {
                var model = RandomTransformer.Create(new Random(3), image: 8, channels: 1, patch: 4, width: 16, heads: 2, feedForward: 16, layers: 1, outputs: 3);
                source = model.Source();
                files.Add(new InMemoryText("/project/weights/vit.safetensors.genweights", SafeTensorsWriter.Encode(model.Weights, "/project/weights/vit.safetensors")));
                files.Add(new InMemoryText("/project/weights/vit.calibration.txt", model.CalibrationText));
            }

            var compilation = GeneratorHarness.Compilation(source);
            compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(), CSharpSyntaxTree.ParseText(source, parse, path: "Model0.cs"));
            var driver = CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, files, parse);
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
            Assert.DoesNotContain(generatorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            var generated = output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, generated.Count);

            // Documentation warnings: CS1570-CS1592 (malformed XML, unresolved cref, missing param, missing comment ...).
            var warnings = output.GetDiagnostics().Where(d => d.Location.SourceTree is { } tree && generated.Contains(tree) &&
                (d.Id.StartsWith("CS157", StringComparison.Ordinal) || d.Id.StartsWith("CS158", StringComparison.Ordinal) || d.Id.StartsWith("CS159", StringComparison.Ordinal) ||
                 d.Id == "CS1573" || d.Id == "CS1711" || d.Id == "CS1712" || d.Id == "CS1734")).ToList();
            Assert.True(warnings.Count == 0, string.Join("\n", warnings));

            // Only the generated members: the user's class itself is documented or not as the user likes.
            var model2 = (INamedTypeSymbol)output.GetSymbolsWithName(family == "mlp" ? "Model" : "Vit", SymbolFilter.Type).Single();
            var api = PublicApi(model2).Where(s => !SymbolEqualityComparer.Default.Equals(s, model2)).ToList();
            Assert.Contains(api, s => s.Name == "Run");
            Assert.Contains(api, s => s.Name == "KernelPath");
            var missing = api.Where(s => !HasSummary(s.GetDocumentationCommentXml())).Select(s => s.GetDocumentationCommentId()).ToList();
            Assert.True(missing.Count == 0, "generated public symbols without a summary:\n" + string.Join("\n", missing));
        }

        /// <summary>The namespace's types and their members that code outside the assembly can see, as CS1591 counts them.</summary>
        private static IEnumerable<ISymbol> PublicApi(INamespaceOrTypeSymbol container)
        {
            foreach (var member in container.GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    foreach (var s in PublicApi(ns)) yield return s;
                    continue;
                }

                if (!Visible(member) || member.IsImplicitlyDeclared || CompilerGenerated(member)) continue;
                // A delegate's Invoke, BeginInvoke, EndInvoke and constructor come with it.
                if (container is INamedTypeSymbol { TypeKind: TypeKind.Delegate }) continue;
                // The default constructor the compiler adds to a class that declares none (a metadata symbol does not
                // say it is implicit; CS1591 does not ask for it, and an explicit one without a comment fails the build).
                if (member is IMethodSymbol { MethodKind: MethodKind.Constructor, Parameters.Length: 0 } ctor &&
                    ctor.ContainingType.InstanceConstructors.Length == 1 && ctor.Locations.All(l => l.IsInMetadata)) continue;
                // Accessors are documented with their property or event.
                if (member is IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove }) continue;
                yield return member;
                if (member is INamedTypeSymbol type)
                {
                    foreach (var s in PublicApi(type)) yield return s;
                }
            }
        }

        private static bool Visible(ISymbol symbol) =>
            symbol.DeclaredAccessibility is Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal;

        private static bool CompilerGenerated(ISymbol symbol) =>
            symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == typeof(CompilerGeneratedAttribute).FullName);

        /// <summary>A non-empty summary, or an inheritdoc (the base member's summary, which its own assembly checks).</summary>
        private static bool HasSummary(string? xml) => !string.IsNullOrWhiteSpace(xml) && HasSummary(XElement.Parse(xml));

        private static bool HasSummary(XElement doc)
        {
            if (doc.Descendants("inheritdoc").Any()) return true;
            var summary = doc.Element("summary");
            return summary != null && string.Concat(summary.Nodes().Select(n => n is XElement e ? e.Value + string.Join(" ", e.Attributes().Select(a => a.Value)) : n.ToString())).Trim().Length > 0;
        }
    }
}
