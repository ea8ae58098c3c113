using System.Collections.Generic;
using System.Globalization;
using Gen.Generators.Diagnostics;
using Gen.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Gen.Generators.Parsing
{
    /// <summary>[BertEncoder]: its numbers as written, each checked on its own (the weights check them against each other).</summary>
    internal static class BertParser
    {
        public const string Attribute = "Gen.BertEncoderAttribute";

        public static BertSpec Parse(AttributeData attribute, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            int maxTokens = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int t ? t : 0;
            if (maxTokens <= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, string.Format(CultureInfo.InvariantCulture,
                    "[BertEncoder] needs a positive number of tokens (got {0}); BERT checkpoints read up to 512", maxTokens)));
            }

            int Number(string name)
            {
                int value = Named(attribute, name, 0);
                if (value < 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, string.Format(CultureInfo.InvariantCulture,
                        "[BertEncoder] {0} must be positive, or 0 to read it from the weights (got {1})", name, value)));
                }

                return value;
            }

            int pooling = Named(attribute, "Pooling", 0);
            if (pooling < 0 || pooling > 2)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDeclaration, location, string.Format(CultureInfo.InvariantCulture,
                    "[BertEncoder] Pooling {0} is not one of SentencePooling.Mean, Cls or None", pooling)));
            }

            return new BertSpec(maxTokens, Number("Layers"), Number("Heads"), Number("Width"), Number("FeedForward"), Number("Vocabulary"), pooling,
                Named(attribute, "Normalize", false), location) { WideResidual = Named(attribute, "WideResidual", true) };
        }

        private static T Named<T>(AttributeData attribute, string name, T fallback)
        {
            foreach (var pair in attribute.NamedArguments)
            {
                if (pair.Key == name && pair.Value.Value is T value) return value;
            }

            return fallback;
        }
    }
}
