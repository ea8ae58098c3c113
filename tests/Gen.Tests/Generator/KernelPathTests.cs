using System;
using System.Reflection;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>GEN_KERNEL_PATH: a defined path lowers the choice; anything else leaves the best one.</summary>
    public class KernelPathTests
    {
        private const string Source =
            "using Gen;\nnamespace PathTest;\n[QuantizedModel(\"model.safetensors\")]\n" +
            "[ModelInput(4, Scale = 0.02f, ZeroPoint = 0)]\n" +
            "[Dense(\"fc1\", 3, OutputScale = 0.05f, OutputZeroPoint = 0)]\n" +
            "public static partial class Net { }\n";

        private static readonly Lazy<Type> Model = new(() =>
        {
            var weights = new SafeTensorsWriter().F32("fc1.weight", new[] { 0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.1f, 0.2f, 0.1f, -0.3f, 0.2f, 0.1f, 0.0f }, 3, 4).ToBytes();
            var run = GeneratorHarness.Run(Source, ("/project/model.safetensors", weights));
            Assert.Empty(run.Errors);
            return run.Load().GetType("PathTest.Net", throwOnError: true)!;
        });

        /// <summary>SelectPath with GEN_KERNEL_PATH set to <paramref name="value"/> (the variable is restored afterwards).</summary>
        private static int SelectPath(string? value)
        {
            var select = Model.Value.GetMethod("SelectPath", BindingFlags.NonPublic | BindingFlags.Static)!;
            string? saved = Environment.GetEnvironmentVariable("GEN_KERNEL_PATH");
            try
            {
                Environment.SetEnvironmentVariable("GEN_KERNEL_PATH", value);
                return Convert.ToInt32(select.Invoke(null, null));
            }
            finally
            {
                Environment.SetEnvironmentVariable("GEN_KERNEL_PATH", saved);
            }
        }

        [Theory]
        [InlineData("-1")]
        [InlineData("6")]
        [InlineData("2147483647")]
        [InlineData("Avx2, Vector128")]   // a list: Enum.TryParse would OR the two into 3 (Avx512)
        [InlineData("Avx3")]
        [InlineData("")]
        public void AnUndefinedValueLeavesTheBestPath(string value)
        {
            int best = SelectPath(null);
            Assert.InRange(best, 0, 5);
            Assert.Equal(best, SelectPath(value));
        }

        [Theory]
        [InlineData("Scalar", 0)]
        [InlineData("scalar", 0)]
        [InlineData("0", 0)]
        [InlineData(" Vector128 ", 1)]
        public void ADefinedPathLowersTheChoice(string value, int expected)
        {
            int best = SelectPath(null);
            Assert.Equal(Math.Min(best, expected), SelectPath(value));
        }
    }
}
