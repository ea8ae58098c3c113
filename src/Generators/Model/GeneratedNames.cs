using System;
using System.Collections.Generic;

namespace Gen.Generators.Model
{
    /// <summary>
    /// Every name the generated code declares in a model class, or uses there without qualification, in one place.
    /// The parser reports a user member with one of these names (GEN016), because it would clash with a generated
    /// member or hide a type the generated code needs. Layer-specific names (a layer's method, its weights, its
    /// kernels) are not listed here: the emitters derive them with <see cref="Emitting.NameAllocator"/> so that they
    /// avoid these names, every name the user's class already has, and each other.
    /// </summary>
    internal static class GeneratedNames
    {
        /// <summary>Members every model gets (ModelEmitter, DenseKernelEmitter and the boundary helpers).</summary>
        public static readonly string[] Members =
        {
            "InputSize", "OutputSize", "InputScale", "InputZeroPoint", "OutputScale", "OutputZeroPoint", "LayerCount",
            "KernelPath", "ActivePath", "SelectPath", "VnniWideBlocks", "Run", "RunRows", "Requantize", "RequantizeWide", "ThrowLength",
            "QuantizeInput", "DequantizeOutput", "ArgMax", "WorkspaceSize", "StackBytes", "RunRowsInWorkspace", "ThrowOverlap",
            "ThrowWorkspace",
        };

        /// <summary>Members a transformer model gets in addition (TransformerEmitter).</summary>
        public static readonly string[] TransformerMembers =
        {
            "Tokens", "Width", "RunImage", "Patchify", "AddPosition", "MeanPool", "IntSqrt", "SqrtSeeds", "Clamp8",
            "MultiplyByQuantizedMultiplier", "Transpose16x8", "Position",
            // A BERT encoder's (token-id models) in addition.
            "MaxTokens", "RunSequences", "RunSequencesInWorkspace", "RunSequence", "ClsToken",
        };

        /// <summary>Members numbered by an input size (<c>Widen784</c>, <c>ToUnsigned784</c>): the prefix, then digits.</summary>
        public static readonly string[] NumberedMembers = { "Widen", "ToUnsigned" };

        /// <summary>
        /// Names the generated code uses without qualification, with the namespace they come from (null: a contextual
        /// keyword, <c>nameof</c>, <c>nint</c> or <c>nuint</c>). A member of the model class, or a type or namespace of an enclosing namespace,
        /// with one of these names is found first and breaks the generated code.
        /// </summary>
        public static readonly (string Name, string? Namespace)[] Referenced =
        {
            ("Span", "System"), ("ReadOnlySpan", "System"), ("Math", "System"), ("Environment", "System"), ("Enum", "System"),
            ("ArgumentException", "System"), ("ArgumentOutOfRangeException", "System"), ("MidpointRounding", "System"),
            ("NotSupportedException", "System"), ("Obsolete", "System"), ("ObsoleteAttribute", "System"),
            ("BitOperations", "System.Numerics"),
            ("Unsafe", "System.Runtime.CompilerServices"), ("MethodImpl", "System.Runtime.CompilerServices"),
            ("MethodImplAttribute", "System.Runtime.CompilerServices"), ("MethodImplOptions", "System.Runtime.CompilerServices"),
            ("MemoryMarshal", "System.Runtime.InteropServices"),
            ("Vector128", "System.Runtime.Intrinsics"), ("Vector256", "System.Runtime.Intrinsics"), ("Vector512", "System.Runtime.Intrinsics"),
            ("Avx2", "System.Runtime.Intrinsics.X86"), ("Avx512BW", "System.Runtime.Intrinsics.X86"), ("Avx512F", "System.Runtime.Intrinsics.X86"),
            ("Avx512DQ", "System.Runtime.Intrinsics.X86"), ("Avx512Vbmi", "System.Runtime.Intrinsics.X86"), ("AvxVnni", "System.Runtime.Intrinsics.X86"),
            ("AdvSimd", "System.Runtime.Intrinsics.Arm"), ("Dp", "System.Runtime.Intrinsics.Arm"),
            // Contextual keywords: a member of that name replaces the operator, a type of that name the native integer.
            ("nameof", null), ("nint", null), ("nuint", null),
        };

        /// <summary>
        /// Why a member of the user's model class named <paramref name="name"/> cannot coexist with the generated code
        /// (the end of a sentence "... declares 'name', {reason}"), or null when it can.
        /// </summary>
        public static string? Conflict(string name, bool transformer)
        {
            if (Array.IndexOf(Members, name) >= 0) return "a member Gen generates in every model";
            if (transformer && Array.IndexOf(TransformerMembers, name) >= 0) return "a member Gen generates in a transformer model";
            if (IsNumbered(name)) return "a name of the form Gen uses for its input conversions (" + NumberedPrefix(name) + " and a size)";
            foreach (var (referenced, ns) in Referenced)
            {
                if (name == referenced)
                {
                    return $"which would hide {Meaning(referenced, ns)} from the generated code";
                }
            }

            // A method named like the accessor of a generated property clashes with it (CS0082).
            foreach (string prefix in new[] { "get_", "set_" })
            {
                string property = name.Substring(Math.Min(prefix.Length, name.Length));
                if (name.StartsWith(prefix, StringComparison.Ordinal) &&
                    (property == "ActivePath" || transformer && (property == "Position" || property == "SqrtSeeds")))
                {
                    return $"the name of an accessor of the property '{property}' that Gen generates";
                }
            }

            return null;
        }

        /// <summary>What a <see cref="Referenced"/> name stands for in the generated code.</summary>
        public static string Meaning(string name, string? ns) =>
            ns != null ? ns + "." + name : name == "nameof" ? "the nameof operator" : $"the native integer type {name}";

        /// <summary>The fixed names of one model family (for the allocator of derived names).</summary>
        public static IEnumerable<string> All(bool transformer)
        {
            foreach (string name in Members) yield return name;
            if (transformer)
            {
                foreach (string name in TransformerMembers) yield return name;
            }

            foreach (var (name, _) in Referenced) yield return name;
        }

        /// <summary>Whether <paramref name="name"/> is one of the numbered members (a prefix, then only digits).</summary>
        public static bool IsNumbered(string name) => NumberedPrefix(name) != null;

        private static string? NumberedPrefix(string name)
        {
            foreach (string prefix in NumberedMembers)
            {
                if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    bool digits = true;
                    for (int i = prefix.Length; i < name.Length && digits; i++) digits = name[i] >= '0' && name[i] <= '9';
                    if (digits) return prefix;
                }
            }

            return null;
        }
    }
}
