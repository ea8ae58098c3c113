using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Gen.Tests.Support;
using Xunit;

namespace Gen.Tests.Generator
{
    /// <summary>
    /// The integer-only promise is checked, not assumed: every method reachable from the generated <c>Run</c>
    /// overloads is decoded from its IL and must not touch floating point, in an opcode or in any type it uses.
    /// </summary>
    public class IntegerOnlyILTests
    {
        [Theory]
        [InlineData(21, false)]
        [InlineData(22, true)]
        public void RunNeverTouchesFloatingPoint(int seed, bool preQuantized)
        {
            // Input sizes 40, 33 and 8 exercise all three dot-product shapes (AVX-512 + AVX2, AVX2 only, scalar);
            // three layers use both scratch buffers.
            var model = RandomModel.Create(new Random(seed), new[] { 40, 33, 8, 3 }, preQuantized);
            var run = GeneratorHarness.Run(model.Source, ("/project/weights/model.safetensors", model.Weights));
            Assert.Empty(run.Errors);
            var type = run.Load().GetType("DiffTest.Model", throwOnError: true)!;
            var roots = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == "Run").ToArray();
            Assert.Equal(4, roots.Length); // one row, a batch, and both with a caller's workspace
            // The static constructor (which picks the kernel path) runs on first use of Run, so it is checked too.
            var constructor = type.TypeInitializer;
            Assert.NotNull(constructor);

            var checker = new FloatFreeChecker();
            checker.CheckClosure(roots.Cast<MethodBase>().Append(constructor!).ToArray());
            var visited = string.Join(", ", checker.Visited.Select(FloatFreeChecker.Name).OrderBy(n => n, StringComparer.Ordinal));
            Assert.True(checker.Findings.Count == 0,
                "floating point reachable from Run:\n" + string.Join("\n", checker.Findings) + "\nvisited: " + visited);

            // Not vacuous: the walk went through the layers, every kernel path and the requantization.
            Assert.True(checker.Visited.Count >= 10, $"only {checker.Visited.Count} methods visited: {visited}");
            foreach (var name in new[] { "RunRows", "RunRowsInWorkspace", "ThrowOverlap", "ThrowWorkspace", "SelectPath", "Requantize", "Layer1", "Layer2", "Layer3", "Layer1Avx512R4P1",
                "Layer1Avx2R1P1", "Layer1Vector128", "Layer1AvxVnniR4P1", "Layer1AvxVnniStore", "Layer1Avx512Store", "Layer1Avx2Store", "Layer3Scalar", "ThrowLength" })
            {
                Assert.True(checker.Visited.Any(m => m.Name == name), $"{name} was not visited; visited: {visited}");
            }

            Assert.True(checker.CallsChecked > 10, $"only {checker.CallsChecked} calls checked");

            // The float boundary helpers are outside the closure, and the checker does see their floats.
            foreach (var boundary in new[] { "QuantizeInput", "DequantizeOutput" })
            {
                Assert.DoesNotContain(checker.Visited, m => m.Name == boundary);
                var direct = new FloatFreeChecker();
                direct.CheckClosure(new[] { type.GetMethod(boundary, BindingFlags.Public | BindingFlags.Static)! });
                Assert.True(direct.Findings.Count > 0, $"{boundary} uses floats but the checker found nothing");
                Assert.Contains(direct.Findings, f => f.Contains("parameter", StringComparison.Ordinal));
            }
        }

        private const string ControlSource = @"
using System;
using System.Runtime.Intrinsics;

namespace Control
{
    public static class Probe
    {
        private static double D;
        private static double E;

        public static int Clean(int x) => x * 3 + (x >> 2);

        public static int Opcode(int x) => (int)(x * 0.5f);

        public static int BclSignature(int x) => BitConverter.SingleToInt32Bits(BitConverter.Int32BitsToSingle(x));

        public static void Field() { E = D; }

        public static int VectorLocal()
        {
            Vector256<float> v = Vector256<float>.Zero;
            return Touch(ref v);
        }

        private static int Touch<T>(ref T value) => 1;

        public static int Transitive(int x) => Helper(x);

        private static int Helper(int x) => Deeper(x);

        private static int Deeper(int x) => (int)Math.Sqrt(x);

        public static int Lambda(int x)
        {
            Func<int, int> f = v => (int)(v * 2.5);
            return f(x);
        }

        public static int Switch(int x)
        {
            switch (x)
            {
                case 0: return 10;
                case 1: return 11;
                case 2: return 12;
                case 3: return 13;
                case 4: return (int)(x * 1.5f);
                default: return -1;
            }
        }

        public static int SwitchClean(int x)
        {
            switch (x)
            {
                case 0: return 10;
                case 1: return 11;
                case 2: return 12;
                case 3: return 13;
                case 4: return x * 7;
                default: return -1;
            }
        }
    }
}";

        private static readonly Lazy<Type> Control = new(() =>
        {
            var run = GeneratorHarness.Run(GeneratorHarness.Compilation(ControlSource), GeneratorHarness.Driver(Array.Empty<Microsoft.CodeAnalysis.AdditionalText>()));
            return run.Load().GetType("Control.Probe", throwOnError: true)!;
        });

        private static FloatFreeChecker CheckControl(string method)
        {
            var checker = new FloatFreeChecker();
            checker.CheckClosure(new[] { Control.Value.GetMethod(method, BindingFlags.Public | BindingFlags.Static)! });
            return checker;
        }

        [Theory]
        [InlineData("Opcode", "opcode ldc.r4")]
        [InlineData("Opcode", "opcode conv.r4")]
        [InlineData("BclSignature", "call System.BitConverter.Int32BitsToSingle")]
        [InlineData("Field", "field ldsfld Control.Probe.D")]
        [InlineData("Field", "field stsfld Control.Probe.E")]
        [InlineData("VectorLocal", "local 0")]
        [InlineData("VectorLocal", "call Control.Probe.Touch")]
        [InlineData("Transitive", "in Control.Probe.Deeper")]
        [InlineData("Transitive", "call System.Math.Sqrt")]
        [InlineData("Lambda", "opcode ldc.r8")]
        [InlineData("Switch", "opcode ldc.r4")]
        public void PositiveControlIsFlagged(string method, string finding)
        {
            var checker = CheckControl(method);
            Assert.True(checker.Findings.Any(f => f.Contains(finding, StringComparison.Ordinal)),
                $"{method}: expected a finding containing \"{finding}\"; got:\n{string.Join("\n", checker.Findings)}");
        }

        [Theory]
        [InlineData("Clean")]
        [InlineData("SwitchClean")]
        public void NegativeControlIsClean(string method)
        {
            var checker = CheckControl(method);
            Assert.True(checker.Findings.Count == 0, string.Join("\n", checker.Findings));
            Assert.Single(checker.Visited);
        }

        [Fact]
        public void LambdaBodyIsReachedThroughLdftn()
        {
            var checker = CheckControl("Lambda");
            Assert.True(checker.Visited.Count >= 2, string.Join(", ", checker.Visited.Select(FloatFreeChecker.Name)));
            Assert.Contains(checker.Findings, f => f.Contains("<Lambda>", StringComparison.Ordinal));
        }

        [Fact]
        public void OpcodeTableIsComplete()
        {
            // Every opcode the runtime defines is decodable, one- and two-byte alike.
            Assert.Equal(FloatFreeChecker.OpCodeCount, typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Count(f => f.FieldType == typeof(OpCode)));
            Assert.True(FloatFreeChecker.OpCodeCount > 200);
        }
    }

    /// <summary>
    /// Decodes IL with a table built from <see cref="OpCodes"/> and reports every use of float, double, decimal or
    /// Half: the float opcodes, and any local, parameter, return type, field or called signature whose type mentions one.
    /// Methods of the same module are followed transitively; other methods (the BCL) only have their signatures checked.
    /// </summary>
    internal sealed class FloatFreeChecker
    {
        private static readonly OpCode?[] OneByte = new OpCode?[256];
        private static readonly OpCode?[] TwoByte = new OpCode?[256];
        private static readonly HashSet<short> FloatOpCodes = new()
        {
            OpCodes.Ldc_R4.Value, OpCodes.Ldc_R8.Value, OpCodes.Conv_R4.Value, OpCodes.Conv_R8.Value, OpCodes.Conv_R_Un.Value, OpCodes.Ckfinite.Value,
        };

        private static readonly HashSet<short> FieldAccess = new()
        {
            OpCodes.Ldsfld.Value, OpCodes.Ldfld.Value, OpCodes.Stsfld.Value, OpCodes.Stfld.Value, OpCodes.Ldsflda.Value, OpCodes.Ldflda.Value,
        };

        private static readonly Type[] FloatTypes = { typeof(float), typeof(double), typeof(decimal), typeof(Half) };

        static FloatFreeChecker()
        {
            foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                if (field.GetValue(null) is not OpCode op) continue;
                ushort value = unchecked((ushort)op.Value);
                if (op.Size == 1)
                {
                    Assert.Null(OneByte[value]);
                    OneByte[value] = op;
                }
                else
                {
                    Assert.Equal(0xFE, value >> 8);
                    Assert.Null(TwoByte[value & 0xFF]);
                    TwoByte[value & 0xFF] = op;
                }

                OpCodeCount++;
            }
        }

        public static int OpCodeCount { get; }

        private readonly Queue<MethodBase> _pending = new();

        public HashSet<MethodBase> Visited { get; } = new();

        public List<string> Findings { get; } = new();

        public int CallsChecked { get; private set; }

        public static string Name(MethodBase m) => $"{m.DeclaringType?.FullName}.{m.Name}";

        public void CheckClosure(IEnumerable<MethodBase> roots)
        {
            foreach (var root in roots) Enqueue(root);
            while (_pending.Count > 0) CheckMethod(_pending.Dequeue());
        }

        private void Enqueue(MethodBase method)
        {
            if (Visited.Add(method)) _pending.Enqueue(method);
        }

        private static bool Mentions(Type? type)
        {
            if (type is null || type.IsGenericParameter) return false;
            if (type.HasElementType) return Mentions(type.GetElementType());
            if (FloatTypes.Contains(type)) return true;
            return type.IsGenericType && type.GetGenericArguments().Any(Mentions);
        }

        private void CheckSignature(MethodBase method, string where, string what)
        {
            if (method is MethodInfo info && Mentions(info.ReturnType)) Findings.Add($"{where}: {what} {Name(method)} returns {info.ReturnType}");
            foreach (var p in method.GetParameters())
            {
                if (Mentions(p.ParameterType)) Findings.Add($"{where}: {what} {Name(method)} parameter '{p.Name}' is {p.ParameterType}");
            }

            if (method.IsGenericMethod && method.GetGenericArguments().Any(Mentions)) Findings.Add($"{where}: {what} {Name(method)} instantiated with {string.Join(", ", method.GetGenericArguments().Select(t => t.Name))}");
            if (Mentions(method.DeclaringType)) Findings.Add($"{where}: {what} {Name(method)} of {method.DeclaringType}");
        }

        private void CheckMethod(MethodBase method)
        {
            string where = "in " + Name(method);
            CheckSignature(method, where, "signature of");
            var body = method.GetMethodBody();
            if (body is null) return;
            foreach (var local in body.LocalVariables)
            {
                if (Mentions(local.LocalType)) Findings.Add($"{where}: local {local.LocalIndex} is {local.LocalType}");
            }

            var module = method.Module;
            var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
            var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
            byte[] il = body.GetILAsByteArray() ?? Array.Empty<byte>();
            int at = 0;
            while (at < il.Length)
            {
                int start = at;
                OpCode op;
                if (il[at] == 0xFE)
                {
                    Assert.True(at + 1 < il.Length, $"{where}: IL ends inside a two-byte opcode");
                    op = TwoByte[il[at + 1]] ?? throw new InvalidOperationException($"{where}: unknown opcode FE {il[at + 1]:X2} at IL_{start:X4}");
                    at += 2;
                }
                else
                {
                    op = OneByte[il[at]] ?? throw new InvalidOperationException($"{where}: unknown opcode {il[at]:X2} at IL_{start:X4}");
                    at += 1;
                }

                if (FloatOpCodes.Contains(op.Value)) Findings.Add($"{where}: opcode {op.Name} at IL_{start:X4}");

                int token = 0;
                switch (op.OperandType)
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        at += 1;
                        break;
                    case OperandType.InlineVar:
                        at += 2;
                        break;
                    case OperandType.InlineI:
                    case OperandType.InlineBrTarget:
                    case OperandType.ShortInlineR:
                    case OperandType.InlineString:
                        at += 4;
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        at += 8;
                        break;
                    case OperandType.InlineSwitch:
                        int count = BitConverter.ToInt32(il, at);
                        at += 4 + 4 * count;
                        break;
                    case OperandType.InlineSig:
                        // calli: an indirect call whose target cannot be followed; the generated code has none.
                        Findings.Add($"{where}: unchecked indirect call ({op.Name}) at IL_{start:X4}");
                        at += 4;
                        break;
                    case OperandType.InlineMethod:
                    case OperandType.InlineField:
                    case OperandType.InlineType:
                    case OperandType.InlineTok:
                        token = BitConverter.ToInt32(il, at);
                        at += 4;
                        break;
                    default:
                        throw new InvalidOperationException($"{where}: operand type {op.OperandType} of {op.Name}");
                }

                if (token == 0) continue;
                var member = module.ResolveMember(token, typeArgs, methodArgs);
                switch (member)
                {
                    case MethodBase callee:
                        CallsChecked++;
                        CheckSignature(callee, where, $"{op.Name}");
                        // Follow code of this assembly (the model type and compiler-generated helpers); the BCL is a leaf.
                        if (callee.Module == module && callee.GetMethodBody() is not null) Enqueue(callee);
                        break;
                    case FieldInfo field:
                        if (Mentions(field.FieldType))
                        {
                            string kind = FieldAccess.Contains(op.Value) ? "field" : "field token";
                            Findings.Add($"{where}: {kind} {op.Name} {field.DeclaringType?.FullName}.{field.Name} is {field.FieldType}");
                        }

                        break;
                    case Type t:
                        if (Mentions(t)) Findings.Add($"{where}: type operand of {op.Name} is {t}");
                        break;
                }
            }

            Assert.Equal(il.Length, at); // decoding ended exactly at the end: every operand size was right
        }
    }
}
