using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Generators.Planning;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// The ARM64 members of the dense kernel family (<see cref="DenseKernelEmitter"/>): the driver's branches, the
    /// <c>sdot</c> micro-kernels (4x1, 1x2, 1x1), the plain AdvSimd 1x1 kernel and their NEON requantization. They read
    /// signed activations against the weights in the 4-value layout (<see cref="KernelPacker.ArmLayout"/>).
    /// </summary>
    internal static class DenseArmKernelEmitter
    {
        private static string I(long v) => CodeWriter.Int(v);

        /// <summary>Bytes per row of the ARM64 kernels' activation buffer: K padded to whole 16-byte loads.</summary>
        internal static int Stride(int paddedK) => KernelPacker.PadTo(paddedK, 16);

        private static (string Weights, string Bias) Arrays(DenseLayerPlan layer, string name) =>
            (layer.Route != KernelRoute.Wide ? name + "Weights" : layer.HasVnniCopy ? name + "VnniWeights" : name + "ArmWeights",
             layer.Route == KernelRoute.Wide ? name + "Bias" : name + "ArmBias");

        /// <summary>The ARM64 branches of the driver: the dot-product kernels, then plain AdvSimd; both end the block.</summary>
        public static void EmitDriver(CodeWriter w, DenseLayerPlan layer, string name)
        {
            KernelPacker.ArmLayout(layer, out _, out _, out int kpa);
            int k = layer.InputSize, n = layer.OutputSize, stride = Stride(kpa), panels = layer.Panels;
            string copy = $"for (int r = 0; r < count; r++) input.Slice((row + r) * {I(k)}, {I(k)}).CopyTo(xa.Slice(r * {I(stride)}, {I(k)}));";
            w.Line("// ARM64 with the dot-product extension: sdot adds four s8 x s8 products into each int32 lane, 16 MACs an instruction.");
            w.Open("if (Dp.IsSupported && path >= (int)KernelPath.AdvSimdDp)");
            w.Line(copy);
            w.Line("ref sbyte xr = ref MemoryMarshal.GetReference(xa);");
            w.Open($"if (count == {I(DenseKernelEmitter.RowBlock)})");
            w.Line($"for (int p = 0; p < {I(panels)}; p++) {name}DpR4P1(ref xr, ref yRow, p);");
            w.Close();
            w.Open("else");
            w.Open("for (int r = 0; r < count; r++)");
            w.Line($"ref sbyte x1 = ref Unsafe.Add(ref xr, r * {I(stride)});");
            w.Line($"ref sbyte y1 = ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)});");
            if (panels >= 2) w.Line($"for (int p = 0; p < {I(panels / 2 * 2)}; p += 2) {name}DpR1P2(ref x1, ref y1, p);");
            if (panels % 2 == 1) w.Line($"{name}DpR1P1(ref x1, ref y1, {I(panels - 1)});");
            w.Close();
            w.Close();
            w.Line("continue;");
            w.Close();
            w.Line("// ARM64 without it (Cortex-A53/A72: Raspberry Pi 3 and 4): smull into int16, sadalp into int32.");
            w.Open("if (AdvSimd.Arm64.IsSupported && path >= (int)KernelPath.AdvSimd)");
            w.Line(copy);
            w.Open("for (int r = 0; r < count; r++)");
            w.Line($"for (int p = 0; p < {I(panels)}; p++) {name}AdvSimdR1P1(ref Unsafe.Add(ref MemoryMarshal.GetReference(xa), r * {I(stride)}), ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)}), p);");
            w.Close();
            w.Line("continue;");
            w.Close();
        }

        /// <summary>The ARM64 micro-kernels (sdot 4x1, 1x2, 1x1 and the AdvSimd 1x1) and their NEON epilogue.</summary>
        public static void Emit(CodeWriter w, DenseLayerPlan layer, string name)
        {
            KernelPacker.ArmLayout(layer, out _, out _, out int kpa);
            var (weights, _) = Arrays(layer, name);
            int steps = kpa / 4, stride = Stride(kpa), panelBytes = kpa * KernelPacker.PanelWidth, n = layer.OutputSize;
            foreach (var (rows, panels) in new[] { (DenseKernelEmitter.RowBlock, 1), (1, 2), (1, 1) })
            {
                int chains = rows * panels * 4;
                w.Line($"/// <summary>sdot: {I(rows)} row(s) x {I(panels)} panel(s) of 16 channels from panel <paramref name=\"panel\"/>; {I(chains)} int32x4 accumulators in registers.");
                w.Line("/// Each step's 16-byte weight load is four channels x four inputs; the indexed sdot takes the row's four inputs of that step");
                w.Line("/// from a 16-byte activation load that serves four steps.</summary>");
                w.Open($"private static void {name}DpR{I(rows)}P{I(panels)}(ref sbyte x, ref sbyte y, int panel)");
                w.Line($"ref sbyte w = ref Unsafe.Add(ref MemoryMarshal.GetReference({weights}), panel * {I(panelBytes)});");
                var accs = new List<string>();
                for (int r = 0; r < rows; r++) for (int p = 0; p < panels; p++) for (int q = 0; q < 4; q++) accs.Add($"a{r}{p}{q}");
                w.Line($"Vector128<int> {string.Join(", ", accs.Select(a => a + " = default"))};");
                int quads = steps / 4;
                void Body(string s, int count)
                {
                    // References advanced once per four steps, so that every load below has a constant offset.
                    w.Line($"ref sbyte xs = ref Unsafe.Add(ref x, {s} * 4);");
                    w.Line($"ref sbyte ws = ref Unsafe.Add(ref w, {s} * 64);");
                    for (int r = 0; r < rows; r++) w.Line($"Vector128<sbyte> x{r} = Vector128.LoadUnsafe(ref xs, {I(r * stride)});");
                    for (int t = 0; t < count; t++)
                    {
                        for (int p = 0; p < panels; p++)
                            for (int q = 0; q < 4; q++)
                                w.Line($"Vector128<sbyte> w{p}{q}{t} = Vector128.LoadUnsafe(ref ws, {I(p * panelBytes + 16 * q + 64 * t)});");
                        for (int r = 0; r < rows; r++)
                            for (int p = 0; p < panels; p++)
                                for (int q = 0; q < 4; q++)
                                    w.Line($"a{r}{p}{q} = Dp.DotProductBySelectedQuadruplet(a{r}{p}{q}, w{p}{q}{t}, x{r}, {I(t)});");
                    }
                }

                if (quads > 0)
                {
                    w.Open($"for (nuint s = 0; s < {I(quads * 4)}; s += 4)");
                    Body("s", 4);
                    w.Close();
                }

                if (steps % 4 != 0)
                {
                    w.Open($"// The last {I(steps % 4)} step(s); the activation buffer is padded to whole 16-byte loads.");
                    w.Line($"nuint s = {I(quads * 4)};");
                    Body("s", steps % 4);
                    w.Close();
                }

                for (int r = 0; r < rows; r++)
                    for (int p = 0; p < panels; p++)
                        w.Line($"{name}ArmStore(a{r}{p}0, a{r}{p}1, a{r}{p}2, a{r}{p}3, (panel + {I(p)}) * 16, ref Unsafe.Add(ref y, {I(r * n * layer.OutputBytes)}));");
                w.Close();
                w.Line();
            }

            w.Line("/// <summary>AdvSimd without the dot product: one row x one panel. smull/smull2 multiply a step's 16 weights by the row's four");
            w.Line("/// inputs (repeated) into int16, sadalp adds adjacent products into int32 (lanes: channel x input pair); addp finishes.</summary>");
            w.Open($"private static void {name}AdvSimdR1P1(ref sbyte x, ref sbyte y, int panel)");
            w.Line($"ref sbyte w = ref Unsafe.Add(ref MemoryMarshal.GetReference({weights}), panel * {I(panelBytes)});");
            w.Line($"Vector128<int> {string.Join(", ", Enumerable.Range(0, 4).SelectMany(q => new[] { $"l{q} = default", $"h{q} = default" }))};");
            w.Open($"for (nuint s = 0; s < {I(steps)}; s++)");
            w.Line("Vector128<sbyte> xq = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, s * 4)))).AsSByte();");
            for (int q = 0; q < 4; q++)
            {
                w.Line($"Vector128<sbyte> w{q} = Vector128.LoadUnsafe(ref w, {I(16 * q)} + s * 64);");
                w.Line($"l{q} = AdvSimd.AddPairwiseWideningAndAdd(l{q}, AdvSimd.MultiplyWideningLower(w{q}.GetLower(), xq.GetLower()));");
                w.Line($"h{q} = AdvSimd.AddPairwiseWideningAndAdd(h{q}, AdvSimd.MultiplyWideningUpper(w{q}, xq));");
            }

            w.Close();
            w.Line($"{name}ArmStore(AdvSimd.Arm64.AddPairwise(l0, h0), AdvSimd.Arm64.AddPairwise(l1, h1), AdvSimd.Arm64.AddPairwise(l2, h2), AdvSimd.Arm64.AddPairwise(l3, h3), panel * 16, ref y);");
            w.Close();
            w.Line();

            EmitEpilogue(w, layer, name);
        }

        private static void EmitEpilogue(CodeWriter w, DenseLayerPlan layer, string name)
        {
            var (_, bias) = Arrays(layer, name);
            int n = layer.OutputSize;
            w.Line("/// <summary>");
            w.Line("/// Requantizes four accumulators of channels [channel, channel + 4) in NEON, bit-exact with <c>Requantize</c>: sqrdmulh is");
            w.Line("/// SaturatingRoundingDoublingHighMul; srshl by minus the shift rounds ties up, so negatives first take one off (sqadd of");
            w.Line("/// the sign where the shift is non-zero: gemmlowp's fix-up), which makes ties round away from zero.");
            w.Line("/// </summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static Vector128<int> {name}ArmRequantize(Vector128<int> acc, int channel)");
            w.Line($"acc += Vector128.LoadUnsafe(ref MemoryMarshal.GetReference({bias}), (nuint)channel);");
            w.Line($"Vector128<int> high = AdvSimd.MultiplyRoundedDoublingSaturateHigh(acc, Vector128.LoadUnsafe(ref MemoryMarshal.GetReference({name}Multiplier), (nuint)channel));");
            w.Line($"Vector128<int> left = -Vector128.LoadUnsafe(ref MemoryMarshal.GetReference({name}RightShift), (nuint)channel);");
            w.Line("Vector128<int> fixup = AdvSimd.ShiftRightArithmetic(high & left, 31);");
            w.Line("Vector128<int> q = AdvSimd.ShiftArithmeticRounded(AdvSimd.AddSaturate(high, fixup), left);");
            w.Line(layer.WideOutput ? "return q; // a wide output: no zero point, no clamp"
                : $"return Vector128.Min(Vector128.Max(q + Vector128.Create({I(layer.OutputZeroPoint)}), Vector128.Create({I(layer.ActivationMin)})), Vector128.Create({I(layer.ActivationMax)}));");
            w.Close();
            w.Line();
            w.Line("/// <summary>Requantizes the 16 channels of a panel from <paramref name=\"channel\"/> and stores those below " + I(n) + ".</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void {name}ArmStore(Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3, int channel, ref sbyte y)");
            if (layer.WideOutput)
            {
                // A wide output: the four requantized INT32 vectors as they are (the clamp is INT32's, the zero point 0).
                w.Line("ref int yi = ref Unsafe.As<sbyte, int>(ref y);");
                for (int q = 0; q < 4; q++)
                {
                    w.Line($"Vector128<int> q{q} = {name}ArmRequantize(a{q}, channel + {q * 4});");
                    if (n % KernelPacker.PanelWidth == 0)
                    {
                        w.Line($"q{q}.StoreUnsafe(ref yi, (nuint)(channel + {q * 4}));");
                    }
                    else
                    {
                        w.Line($"if (channel + {q * 4 + 4} <= {I(n)}) q{q}.StoreUnsafe(ref yi, (nuint)(channel + {q * 4}));");
                        w.Line($"else for (int i = 0; channel + {q * 4} + i < {I(n)} && i < 4; i++) Unsafe.Add(ref yi, channel + {q * 4} + i) = q{q}.GetElement(i);");
                    }
                }

                w.Close();
                w.Line();
                return;
            }

            w.Line($"Vector128<short> low = Vector128.Narrow({name}ArmRequantize(a0, channel), {name}ArmRequantize(a1, channel + 4));");
            w.Line($"Vector128<short> high = Vector128.Narrow({name}ArmRequantize(a2, channel + 8), {name}ArmRequantize(a3, channel + 12));");
            w.Line("Vector128<sbyte> bytes = Vector128.Narrow(low, high);");
            if (n % KernelPacker.PanelWidth == 0)
            {
                w.Line("bytes.StoreUnsafe(ref Unsafe.Add(ref y, channel));");
            }
            else
            {
                w.Open($"if (channel + 16 <= {I(n)})");
                w.Line("bytes.StoreUnsafe(ref Unsafe.Add(ref y, channel));");
                w.Close();
                w.Open("else");
                w.Line($"for (int i = 0; channel + i < {I(n)}; i++) Unsafe.Add(ref y, channel + i) = bytes.GetElement(i);");
                w.Close();
            }

            w.Close();
            w.Line();
        }
    }
}
