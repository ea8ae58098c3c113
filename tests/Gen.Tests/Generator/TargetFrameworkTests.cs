using System;
using System.Linq;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// What the generated code depends on per target framework. The test host is .NET 10; an older framework's
    /// <c>System.Runtime.Intrinsics.X86.AvxVnni</c> is stood in for by a type of that name in the compilation's own
    /// source, which <c>Compilation.GetTypeByMetadataName</c> finds before any referenced one, in an assembly with the
    /// older framework's version. The real frameworks are built against in the package consumer tests (net8.0, net9.0
    /// and net10.0).
    /// </summary>
    public class TargetFrameworkTests
    {
        // Two panels of 16 output channels in the first layer, so that the 4-row two-panel AVX-VNNI kernel exists.
        private static readonly int[] Sizes = { 24, 40, 5 };

        /// <summary>.NET 8's AvxVnni: a preview API, as its reference assembly declares it.</summary>
        private const string Net8AvxVnni = """
            [assembly: System.Reflection.AssemblyVersion("8.0.0.0")]
            namespace System.Runtime.Intrinsics.X86
            {
                [System.Runtime.Versioning.RequiresPreviewFeatures("AvxVnni is in preview.")]
                public abstract class AvxVnni
                {
                    public static bool IsSupported => false;
                }
            }
            """;

        /// <summary>.NET 9's AvxVnni: a supported API in an assembly of version 9.</summary>
        private const string Net9AvxVnni = """
            [assembly: System.Reflection.AssemblyVersion("9.0.0.0")]
            namespace System.Runtime.Intrinsics.X86
            {
                public abstract class AvxVnni
                {
                    public static bool IsSupported => false;
                }
            }
            """;

        /// <summary>.NET 11's AvxVnni: a supported API with the nested AvxVnni.V512 (EVEX vpdpbusd on zmm registers).</summary>
        private const string Net11AvxVnni = """
            [assembly: System.Reflection.AssemblyVersion("11.0.0.0")]
            namespace System.Runtime.Intrinsics.X86
            {
                public abstract class AvxVnni
                {
                    public static bool IsSupported => false;

                    public abstract class V512
                    {
                        public static bool IsSupported => false;
                    }
                }
            }
            """;

        /// <summary>
        /// net11.0: AvxVnni.V512 in the compilation gives the zmm kernels and the AvxVnni512 path, best of the x86 ones,
        /// chosen when AvxVnni.V512.IsSupported. (They run in Net11KernelTests, on the real .NET 11.)
        /// </summary>
        [Fact]
        public void Net11GetsTheZmmVnniPath()
        {
            string generated = Run(RandomModel.Create(new Random(81), Sizes), Net11AvxVnni).GeneratedSource("Model.g.cs");
            Assert.Contains("AvxVnni.V512.MultiplyWideningAndAdd(", generated, StringComparison.Ordinal);
            Assert.Contains("AvxVnni512R4P1(", generated, StringComparison.Ordinal);
            Assert.Contains("AvxVnni512 = 6,", generated, StringComparison.Ordinal);
            Assert.Contains("AvxVnni.V512.IsSupported ? KernelPath.AvxVnni512 : ", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("VnniWideBlocks", generated, StringComparison.Ordinal);
        }

        /// <summary>
        /// net8.0: every use of the preview AvxVnni would be error CA2252 in the user's build, so the generated code
        /// must not mention it; it compiles and equals the reference interpreter on the other kernels.
        /// </summary>
        [Fact]
        public void PreviewAvxVnniGetsNoVnniPath()
        {
            var model = RandomModel.Create(new Random(81), Sizes);
            var run = Run(model, Net8AvxVnni);
            string generated = run.GeneratedSource("Model.g.cs");
            Assert.DoesNotContain("AvxVnni", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("VnniWideBlocks", generated, StringComparison.Ordinal);
            Assert.Empty(run.Errors);

            var type = run.Load().GetType("DiffTest.Model")!;
            Assert.Equal(new[] { "Scalar", "Vector128", "Avx2", "Avx512", "AdvSimd", "AdvSimdDp" }, Enum.GetNames(type.GetNestedType("KernelPath")!));
            var single = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>) })!.CreateDelegate<DifferentialTests.RunRow>();
            var batch = type.GetMethod("Run", new[] { typeof(ReadOnlySpan<sbyte>), typeof(Span<sbyte>), typeof(int) })!.CreateDelegate<DifferentialTests.RunBatch>();
            var rng = new Random(82);
            const int rows = 9;
            var inputs = new sbyte[rows * model.InputSize];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (sbyte)rng.Next(-128, 128);
            var expected = new sbyte[rows * model.OutputSize];
            model.Reference.Run(inputs, expected);
            var batched = new sbyte[expected.Length];
            batch(inputs, batched, rows);
            Assert.Equal(expected, batched);
            var one = new sbyte[model.OutputSize];
            single(inputs.AsSpan(0, model.InputSize), one);
            Assert.Equal(expected.AsSpan(0, model.OutputSize).ToArray(), one);
        }

        /// <summary>net9.0: the AVX-VNNI path, with the run-time check that keeps .NET 9 off the two-panel kernel.</summary>
        [Fact]
        public void Net9KeepsTheDotNet9CheckOnTheTwoPanelVnniKernel()
        {
            string generated = Run(RandomModel.Create(new Random(81), Sizes), Net9AvxVnni).GeneratedSource("Model.g.cs");
            Assert.Contains("AvxVnni.MultiplyWideningAndAdd(", generated, StringComparison.Ordinal);
            Assert.Contains("private static readonly bool VnniWideBlocks = Environment.Version.Major >= 10;", generated, StringComparison.Ordinal);
            Assert.Contains("&& !VnniWideBlocks)", generated, StringComparison.Ordinal);
        }

        /// <summary>net10.0 (the test host's framework): the two-panel kernel unconditionally, no version check.</summary>
        [Fact]
        public void Net10UsesTheTwoPanelVnniKernelWithoutAVersionCheck()
        {
            var model = RandomModel.Create(new Random(81), Sizes);
            var run = GeneratorHarness.Run(model.Source, ("/project/weights/model.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            string generated = run.GeneratedSource("Model.g.cs");
            Assert.Contains("AvxVnni.MultiplyWideningAndAdd(", generated, StringComparison.Ordinal);
            Assert.Contains("AvxVnniR4P2(", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("VnniWideBlocks", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("Environment.Version", generated, StringComparison.Ordinal);
            // .NET 10 has no AvxVnni.V512: no zmm kernels, no AvxVnni512 path.
            Assert.DoesNotContain("V512", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("AvxVnni512", generated, StringComparison.Ordinal);
        }

        private static GeneratorRun Run(RandomModel model, string framework)
        {
            var compilation = GeneratorHarness.Compilation(model.Source, framework);
            var files = new[] { new InMemoryText("/project/weights/model.safetensors.genweights", SafeTensorsWriter.Encode(model.Weights, "/project/weights/model.safetensors")) };
            var run = GeneratorHarness.Run(compilation, GeneratorHarness.Driver(files));
            Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
            return run;
        }
    }
}
