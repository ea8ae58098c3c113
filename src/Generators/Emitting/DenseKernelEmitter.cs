using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Generators.Planning;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// Emits one dense layer: the row-block driver, register-blocked SIMD micro-kernels (AVX-512BW and AVX2) with
    /// the requantization epilogue fused in, and a scalar kernel over the same packed weights. Every shape, stride
    /// and trip count is a literal. The ARM64 members are in <see cref="DenseArmKernelEmitter"/>, the .NET 11 zmm VNNI
    /// ones in <see cref="VnniZmmKernelEmitter"/>.
    /// </summary>
    internal static class DenseKernelEmitter
    {
        /// <summary>Rows a micro-kernel processes at once (the activation broadcasts are shared by the panels).</summary>
        internal const int RowBlock = 4;

        private sealed class Isa
        {
            public string Name = "";
            public string Guard = "";
            public string Vec = "";
            public int Halves; // vectors per 16-channel panel
            public int Lanes => 16 / Halves;
            public int[] PanelCounts = new int[0]; // register blocks: panels per micro-kernel call
            public string Ns = ""; // Avx512BW or Avx2
            public string IntOps = ""; // Avx512F or Avx2
            public bool Vnni; // vpdpbusd: u8 x s8 into int32 in one instruction, over the unsigned layout
        }

        private static readonly Isa Avx512 = new Isa
        {
            Name = "Avx512", Guard = "Avx512BW.IsSupported", Vec = "Vector512", Halves = 1, PanelCounts = new[] { 4, 1 },
            Ns = "Avx512BW", IntOps = "Avx512F",
        };

        private static readonly Isa AvxVnni = new Isa
        {
            Name = "AvxVnni", Guard = "AvxVnni.IsSupported", Vec = "Vector256", Halves = 2, PanelCounts = new[] { 2, 1 },
            Ns = "AvxVnni", IntOps = "Avx2", Vnni = true,
        };

        private static readonly Isa Avx2 = new Isa
        {
            Name = "Avx2", Guard = "Avx2.IsSupported", Vec = "Vector256", Halves = 2, PanelCounts = new[] { 2, 1 },
            Ns = "Avx2", IntOps = "Avx2",
        };

        /// <summary>
        /// Every suffix this emitter and <see cref="ModelEmitter.EmitLayerData"/> append to a layer's method name (the
        /// empty one is the method itself): the names a layer takes (see <see cref="NameAllocator"/>).
        /// </summary>
        internal static readonly string[] Suffixes = BuildSuffixes();

        private static string[] BuildSuffixes()
        {
            var suffixes = new List<string> { "", "Vector128", "Scalar", "AvxVnniStore512", "DpR4P1", "DpR1P2", "DpR1P1", "AdvSimdR1P1", "ArmStore", "ArmRequantize" };
            foreach (var isa in new[] { Avx512, AvxVnni, Avx2 })
            {
                suffixes.Add(isa.Name + "Store");
                foreach (int rows in new[] { RowBlock, 1 })
                {
                    foreach (int panels in isa.PanelCounts) suffixes.Add(isa.Name + "R" + I(rows) + "P" + I(panels));
                }
            }

            suffixes.AddRange(VnniZmmKernelEmitter.Suffixes);
            suffixes.AddRange(ModelEmitter.DataSuffixes);
            return suffixes.ToArray();
        }

        public static void Emit(CodeWriter w, DenseLayerPlan layer, string name, int index, string[] bounds)
        {
            EmitHeader(w, layer, index, bounds);
            EmitDriver(w, layer, name);
            foreach (var isa in layer.EmitVnni ? new[] { AvxVnni, Avx512, Avx2 } : new[] { Avx512, Avx2 })
            {
                foreach (int rows in new[] { RowBlock, 1 })
                {
                    foreach (int panels in isa.PanelCounts) EmitMicroKernel(w, layer, name, isa, rows, panels);
                }

                string bias = isa.Vnni && layer.HasVnniCopy ? name + "VnniBias" : name + "Bias";
                EmitEpilogue(w, layer, name, isa, name + isa.Name + "Store", bias);
                if (isa.Vnni)
                {
                    // On CPUs with AVX-512 too, the two 8-lane halves of a panel are requantized as one 16-lane vector.
                    EmitEpilogue(w, layer, name, Avx512, name + "AvxVnniStore512", bias);
                }
            }

            if (layer.EmitVnni512) VnniZmmKernelEmitter.Emit(w, layer, name);
            DenseArmKernelEmitter.Emit(w, layer, name);
            EmitVector128(w, layer, name);
            EmitScalar(w, layer, name);
        }

        private static string I(long v) => CodeWriter.Int(v);

        private static void EmitHeader(CodeWriter w, DenseLayerPlan layer, int index, string[] bounds)
        {
            string route = layer.Route switch
            {
                KernelRoute.Quad => "Quad: u8 x s8 products (vpmaddubsw) accumulated over two steps in int16 before widening",
                KernelRoute.Pair => "Pair: u8 x s8 products added pairwise in int16 (vpmaddubsw), widened every step (vpmaddwd)",
                _ => "Wide: int16 x int16 products added pairwise into int32 (vpmaddwd); exact for any INT8 weights",
            };
            w.Line($"// Layer {I(index + 1)}, '{CodeWriter.Comment(layer.Name)}': fully connected {I(layer.InputSize)} -> {I(layer.OutputSize)}, activation " +
                   $"{(layer.Activation == 1 ? "ReLU" : layer.Activation == 2 ? "ReLU6" : "none")}, {(layer.PerChannel ? "per-channel" : "per-tensor")} INT8 weights" +
                   $"{(layer.PreQuantized ? " (pre-quantized in the file)" : "")}.");
            w.Line($"//   input:  scale {CodeWriter.Real(layer.InputScale)}, zero point {I(layer.InputZeroPoint)}");
            if (layer.WideOutput)
            {
                w.Line($"//   output: wide (INT32, four bytes per channel), scale {CodeWriter.Real(layer.OutputScale)}, zero point 0, no clamp: the residual stream");
                w.Line("//   y[n] = MultiplyByQuantizedMultiplier(bias'[n] + sum_k w[n, k] * x'[k], M0[n], shift[n])");
            }
            else
            {
                w.Line($"//   output: scale {CodeWriter.Real(layer.OutputScale)}, zero point {I(layer.OutputZeroPoint)}, clamp [{I(layer.ActivationMin)}, {I(layer.ActivationMax)}]");
                w.Line($"//   y[n] = clamp(MultiplyByQuantizedMultiplier(bias'[n] + sum_k w[n, k] * x'[k], M0[n], shift[n]) + ({I(layer.OutputZeroPoint)}))");
            }

            w.Line(layer.Route == KernelRoute.Wide
                ? $"//   with x' = x and bias' = bias - ({I(layer.InputZeroPoint)}) * sum_k w[n, k] (the input zero point folded in at build time)."
                : $"//   with x' = x + 128 (unsigned) and bias' = bias - ({I(layer.InputZeroPoint)} + 128) * sum_k w[n, k], folded in at build time.");
            w.Line($"//   Route {route}.");
            w.Line($"//   Saturation proof over the known weights: {I(layer.PairSafeChannels)} of {I(layer.OutputSize)} channels have every adjacent pair |w0| + |w1| <= 128,");
            w.Line($"//   {I(layer.QuadSafeChannels)} of {I(layer.OutputSize)} keep 255 * (four |w|) <= 32767; the fast routes need all channels.");
            foreach (string line in bounds) w.Line("//   " + CodeWriter.Comment(line));
            w.Line($"//   Packed weights: {I(layer.Panels)} panels of 16 channels x {I(layer.PaddedInputSize)} inputs (K padded with zero weights).");
        }

        private static void EmitDriver(CodeWriter w, DenseLayerPlan layer, string name)
        {
            bool wide = layer.Route == KernelRoute.Wide;
            int k = layer.InputSize, kp = layer.PaddedInputSize, n = layer.OutputSize;
            string elem = wide ? "short" : "byte";
            // A Wide layer's VNNI kernels need the activations unsigned, in a buffer of their own.
            bool vnniBuffer = layer.EmitVnni && layer.HasVnniCopy;
            int kpv = layer.VnniPaddedInputSize;
            w.Open($"private static void {name}(ReadOnlySpan<sbyte> input, Span<sbyte> output, int rows, int path)");
            w.Line($"// Up to {I(RowBlock)} rows of activations, {(wide ? "sign-extended to int16" : "made unsigned (x + 128)")} and zero-padded to {I(kp)} values.");
            w.Line($"Span<{elem}> xs = {w.StackAlloc(elem, RowBlock * kp)};");
            if (vnniBuffer)
            {
                w.Line($"// The AVX-VNNI kernels read the activations unsigned, from a buffer of their own.");
                w.Line($"Span<byte> xv = {w.StackAlloc("byte", RowBlock * kpv)};");
                w.Line("ref byte xu = ref MemoryMarshal.GetReference(xv);");
            }

            KernelPacker.ArmLayout(layer, out _, out _, out int kpa);
            w.Line($"// The ARM64 kernels read signed activations, {I(DenseArmKernelEmitter.Stride(kpa))} bytes per row (whole 16-byte loads of four steps).");
            // Only ARM64 reserves it: IsSupported is a JIT-time constant, so elsewhere the stackalloc (and its zeroing) is compiled out.
            w.Line($"Span<sbyte> xa = AdvSimd.Arm64.IsSupported ? {w.StackAlloc("sbyte", RowBlock * DenseArmKernelEmitter.Stride(kpa))} : default;");
            w.Line($"ref {elem} x = ref MemoryMarshal.GetReference(xs);");
            w.Line("ref sbyte y = ref MemoryMarshal.GetReference(output);");
            w.Open($"for (int row = 0; row < rows; row += {I(RowBlock)})");
            w.Line($"int count = Math.Min({I(RowBlock)}, rows - row);");
            w.Line($"ref sbyte yRow = ref Unsafe.Add(ref y, row * {I(n * layer.OutputBytes)});");
            string convert = $"for (int r = 0; r < count; r++) {(wide ? "Widen" : "ToUnsigned")}{I(k)}(input.Slice((row + r) * {I(k)}, {I(k)}), xs.Slice(r * {I(kp)}, {I(k)}));";
            DenseArmKernelEmitter.EmitDriver(w, layer, name);
            // The VNNI kernels' unsigned activations: the main buffer, or for a Wide layer a buffer of their own.
            string VnniInput()
            {
                if (!vnniBuffer)
                {
                    w.Line(convert);
                    return "x";
                }

                w.Line($"// vpdpbusd adds four u8 x s8 products straight into int32: exact for any weights, so this layer keeps");
                w.Line($"// a second copy of its weights in the unsigned layout, with its own folded bias, for this path.");
                w.Line($"for (int r = 0; r < count; r++) ToUnsigned{I(k)}(input.Slice((row + r) * {I(k)}, {I(k)}), xv.Slice(r * {I(kpv)}, {I(k)}));");
                return "xu";
            }

            if (layer.EmitVnni512)
            {
                w.Line("// .NET 11 and a CPU with AVX512-VNNI (or AVX10): vpdpbusd on zmm registers, 64 MACs an instruction.");
                w.Open("if (AvxVnni.V512.IsSupported && path == (int)KernelPath.AvxVnni512)");
                VnniZmmKernelEmitter.EmitPanelLoop(w, layer, name, VnniInput(), vnniBuffer ? kpv : kp);
                w.Line("continue;");
                w.Close();
            }

            if (layer.EmitVnni)
            {
                // Path 4 takes AVX-VNNI for every block. Path 5 (AVX-512 and AVX-VNNI) takes it where it measured faster:
                // full blocks of 4 rows of a layer without the two-step int16 route.
                string when = layer.Route == KernelRoute.Quad ? "path == 4" : $"(path == 4 || (path == 5 && count == {I(RowBlock)}))";
                w.Open($"if (AvxVnni.IsSupported && {when})");
                string xv = VnniInput();
                EmitPanelLoop(w, layer, name, AvxVnni, xv, vnniBuffer ? "byte" : elem, vnniBuffer ? kpv : kp);
                w.Line("continue;");
                w.Close();
            }

            w.Line(convert);
            w.Open("if (Avx512BW.IsSupported && path >= 3)");
            EmitPanelLoop(w, layer, name, Avx512, "x", elem, kp);
            w.Close();
            w.Open("else if (Avx2.IsSupported && path >= 2)");
            EmitPanelLoop(w, layer, name, Avx2, "x", elem, kp);
            w.Close();
            w.Open("else if (Vector128.IsHardwareAccelerated && path >= 1)");
            w.Line($"for (int r = 0; r < count; r++) {name}Vector128(ref Unsafe.Add(ref x, r * {I(kp)}), ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)}));");
            w.Close();
            w.Open("else");
            w.Line($"for (int r = 0; r < count; r++) {name}Scalar(ref Unsafe.Add(ref x, r * {I(kp)}), ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)}));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        private static void EmitPanelLoop(CodeWriter w, DenseLayerPlan layer, string name, Isa isa, string x, string elem, int kp)
        {
            int panels = layer.Panels, big = isa.PanelCounts[0];
            int full = panels / big * big;
            int n = layer.OutputSize;
            string extra = isa.Vnni ? ", store512" : "";
            if (isa.Vnni) w.Line("bool store512 = Avx512BW.IsSupported && path == 5;");
            if (isa.Vnni && full > 0 && layer.VnniVersionCheck)
            {
                // The 4x2 AVX-VNNI kernel holds 16 accumulators, every register VEX can encode; .NET 9's code generator
                // gets it wrong (measured under NativeAOT 9.0.20), so there the 4x1 kernel covers every panel. Only a
                // target framework older than .NET 10 can run on .NET 9, so only there is the check emitted.
                w.Open($"if (count == {I(RowBlock)} && !VnniWideBlocks)");
                w.Line($"for (int p = 0; p < {I(panels)}; p++) {name}{isa.Name}R{I(RowBlock)}P1(ref {x}, ref yRow, p{extra});");
                w.Close();
                w.Open($"else if (count == {I(RowBlock)})");
            }
            else
            {
                w.Open($"if (count == {I(RowBlock)})");
            }

            if (full > 0) w.Line($"for (int p = 0; p < {I(full)}; p += {I(big)}) {name}{isa.Name}R{I(RowBlock)}P{I(big)}(ref {x}, ref yRow, p{extra});");
            if (full < panels) w.Line($"for (int p = {I(full)}; p < {I(panels)}; p++) {name}{isa.Name}R{I(RowBlock)}P1(ref {x}, ref yRow, p{extra});");
            w.Close();
            w.Open("else");
            w.Open("for (int r = 0; r < count; r++)");
            w.Line($"ref {elem} xr = ref Unsafe.Add(ref {x}, r * {I(kp)});");
            w.Line($"ref sbyte yr = ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)});");
            if (full > 0) w.Line($"for (int p = 0; p < {I(full)}; p += {I(big)}) {name}{isa.Name}R1P{I(big)}(ref xr, ref yr, p{extra});");
            if (full < panels) w.Line($"for (int p = {I(full)}; p < {I(panels)}; p++) {name}{isa.Name}R1P1(ref xr, ref yr, p{extra});");
            w.Close();
            w.Close();
        }

        private static void EmitMicroKernel(CodeWriter w, DenseLayerPlan layer, string name, Isa isa, int rows, int panels)
        {
            // VNNI kernels always read the unsigned layout (the layer's own, or its VNNI copy for a Wide layer).
            var route = isa.Vnni ? KernelRoute.Pair : layer.Route;
            bool wide = route == KernelRoute.Wide;
            int kp = isa.Vnni ? layer.VnniPaddedInputSize : layer.PaddedInputSize, n = layer.OutputSize;
            string weights = isa.Vnni && layer.HasVnniCopy ? name + "VnniWeights" : name + "Weights";
            int group = KernelPacker.Group(route);
            int steps = kp / group;
            int panelBytes = kp * KernelPacker.PanelWidth;
            int stepBytes = group * KernelPacker.PanelWidth;
            string v = isa.Vec;
            string elem = wide ? "short" : "byte";

            w.Line($"/// <summary>{isa.Name}: {I(rows)} row(s) x {I(panels)} panel(s) of 16 channels from panel <paramref name=\"panel\"/>; " +
                   $"{I(rows * panels * isa.Halves)} int32 accumulators stay in registers over all {I(steps)} steps.</summary>");
            w.Open($"private static void {name}{isa.Name}R{I(rows)}P{I(panels)}(ref {elem} x, ref sbyte y, int panel{(isa.Vnni ? ", bool store512" : "")})");
            w.Line($"ref sbyte w = ref Unsafe.Add(ref MemoryMarshal.GetReference({weights}), panel * {I(panelBytes)});");
            var accs = new List<string>();
            for (int r = 0; r < rows; r++)
                for (int p = 0; p < panels; p++)
                    for (int h = 0; h < isa.Halves; h++)
                        accs.Add($"a{r}{p}{h}");
            w.Line($"{v}<int> {string.Join(", ", accs.Select(a => a + " = default"))};");
            if (!wide && !isa.Vnni) w.Line($"{v}<short> ones = {v}.Create((short)1);");

            int stride = route == KernelRoute.Quad && !isa.Vnni ? 2 : 1;
            w.Open($"for (nuint s = 0; s < {I(steps)}; s += {I(stride)})");
            for (int t = 0; t < stride; t++)
            {
                string st = t == 0 ? "s" : $"(s + {I(t)})";
                // Weights of this step for each panel and half.
                for (int p = 0; p < panels; p++)
                {
                    for (int h = 0; h < isa.Halves; h++)
                    {
                        string offset = $"{I(p * panelBytes)} + {st} * {I(stepBytes)}" + (isa.Halves == 2 ? $" + {I(h * stepBytes / 2)}" : "");
                        string load = wide
                            ? (isa.Halves == 1
                                ? $"Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref w, {offset}))"
                                : $"Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref w, {offset}))")
                            : $"{v}.LoadUnsafe(ref w, {offset})";
                        w.Line($"{v}<{(wide ? "short" : "sbyte")}> w{p}{h}{t} = {load};");
                    }
                }

                for (int r = 0; r < rows; r++)
                {
                    // Broadcast the row's next group of activations (2 int16 or 4 bytes) to every lane.
                    string read = $"Unsafe.ReadUnaligned<int>(ref Unsafe.As<{elem}, byte>(ref Unsafe.Add(ref x, {I(r * kp)} + {st} * {I(group)})))";
                    w.Line($"{v}<{(wide ? "short" : "byte")}> x{r}{t} = {v}.Create({read}).{(wide ? "AsInt16" : "AsByte")}();");
                }
            }

            for (int r = 0; r < rows; r++)
            {
                for (int p = 0; p < panels; p++)
                {
                    for (int h = 0; h < isa.Halves; h++)
                    {
                        string acc = $"a{r}{p}{h}";
                        if (isa.Vnni)
                        {
                            w.Line($"{acc} = AvxVnni.MultiplyWideningAndAdd({acc}, x{r}0, w{p}{h}0);");
                        }
                        else if (wide)
                        {
                            w.Line($"{acc} += {isa.Ns}.MultiplyAddAdjacent(x{r}0, w{p}{h}0);");
                        }
                        else if (route == KernelRoute.Pair)
                        {
                            w.Line($"{acc} += {isa.Ns}.MultiplyAddAdjacent({isa.Ns}.MultiplyAddAdjacent(x{r}0, w{p}{h}0), ones);");
                        }
                        else
                        {
                            w.Line($"{acc} += {isa.Ns}.MultiplyAddAdjacent({isa.Ns}.MultiplyAddAdjacent(x{r}0, w{p}{h}0) + {isa.Ns}.MultiplyAddAdjacent(x{r}1, w{p}{h}1), ones);");
                        }
                    }
                }
            }

            w.Close();
            for (int r = 0; r < rows; r++)
            {
                for (int p = 0; p < panels; p++)
                {
                    if (isa.Vnni)
                    {
                        string at = $"ref Unsafe.Add(ref y, {I(r * n * layer.OutputBytes)})";
                        w.Line($"if (store512) {name}AvxVnniStore512(Vector512.Create(a{r}{p}0, a{r}{p}1), (panel + {I(p)}) * 16, {at});");
                        w.Line($"else {{ {name}AvxVnniStore(a{r}{p}0, (panel + {I(p)}) * 16, {at}); {name}AvxVnniStore(a{r}{p}1, (panel + {I(p)}) * 16 + 8, {at}); }}");
                        continue;
                    }

                    for (int h = 0; h < isa.Halves; h++)
                    {
                        int lanes = isa.Lanes;
                        string channel = $"(panel + {I(p)}) * 16 + {I(h * lanes)}";
                        w.Line($"{name}{isa.Name}Store(a{r}{p}{h}, {channel}, ref Unsafe.Add(ref y, {I(r * n * layer.OutputBytes)}));");
                    }
                }
            }

            w.Close();
            w.Line();
        }

        private static void EmitEpilogue(CodeWriter w, DenseLayerPlan layer, string name, Isa isa, string method, string bias)
        {
            string v = isa.Vec, f = isa.IntOps;
            int lanes = isa.Lanes, n = layer.OutputSize;
            w.Line($"/// <summary>Requantizes {I(lanes)} accumulators of channels [channel, channel + {I(lanes)}) and stores those below {I(n)} to <c>y[channel..]</c>:");
            w.Line("/// bias, rounding doubling high multiply by M0 (64-bit products of even and odd lanes), rounding right shift, zero point, clamp.</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void {method}({v}<int> acc, int channel, ref sbyte y)");
            w.Line($"acc += {v}.LoadUnsafe(ref MemoryMarshal.GetReference({bias}), (nuint)channel);");
            w.Line($"{v}<int> m0 = {v}.LoadUnsafe(ref MemoryMarshal.GetReference({name}Multiplier), (nuint)channel);");
            w.Line($"{v}<uint> shift = {v}.LoadUnsafe(ref MemoryMarshal.GetReference({name}RightShift), (nuint)channel).AsUInt32();");
            w.Line("// (acc * m0 + 2^30) >> 31 on 64-bit products: vpmuldq multiplies the even lanes; shifting by 32 brings the odd ones down.");
            w.Line($"{v}<long> round = {v}.Create(1L << 30);");
            w.Line($"{v}<long> even = {f}.ShiftRightLogical({f}.Multiply(acc, m0) + round, 31);");
            w.Line($"{v}<long> odd = {f}.ShiftRightLogical({f}.Multiply({f}.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), {f}.ShiftRightLogical(m0.AsInt64(), 32).AsInt32()) + round, 31);");
            w.Line($"{v}<int> high = ((even & {v}.Create(0xFFFFFFFFL)) | {f}.ShiftLeftLogical(odd, 32)).AsInt32();");
            w.Line("// Rounding divide by 2^shift, ties away from zero: the remainder against half the divisor, one more for negatives.");
            w.Line($"{v}<int> mask = {f}.ShiftLeftLogicalVariable({v}.Create(1), shift) - {v}.Create(1);");
            w.Line($"{v}<int> threshold = {f}.ShiftRightArithmetic(mask, 1) - {f}.ShiftRightArithmetic(high, 31);");
            w.Line($"{v}<int> q = {f}.ShiftRightArithmeticVariable(high, shift) - {v}.GreaterThan(high & mask, threshold);");
            if (layer.WideOutput)
            {
                // A wide output keeps the requantized INT32 as it is (zero point 0, no clamp), four bytes per channel.
                w.Line("ref int yi = ref Unsafe.As<sbyte, int>(ref y);");
                if (n % KernelPacker.PanelWidth == 0)
                {
                    w.Line("q.StoreUnsafe(ref yi, (nuint)channel);");
                }
                else
                {
                    w.Open($"if (channel + {I(lanes)} <= {I(n)})");
                    w.Line("q.StoreUnsafe(ref yi, (nuint)channel);");
                    w.Close();
                    w.Open("else");
                    w.Line($"for (int i = 0; channel + i < {I(n)}; i++) Unsafe.Add(ref yi, channel + i) = q.GetElement(i);");
                    w.Close();
                }

                w.Close();
                w.Line();
                return;
            }

            w.Line($"q = {v}.Min({v}.Max(q + {v}.Create({I(layer.OutputZeroPoint)}), {v}.Create({I(layer.ActivationMin)})), {v}.Create({I(layer.ActivationMax)}));");
            if (isa.Halves == 1)
            {
                w.Line("Vector128<sbyte> bytes = Avx512F.ConvertToVector128SByte(q);");
            }
            else
            {
                w.Line($"Vector128<sbyte> bytes = Vector128.Narrow(Vector128.Narrow(q.GetLower(), q.GetUpper()), Vector128<short>.Zero);");
            }

            if (n % KernelPacker.PanelWidth == 0)
            {
                // Every panel is full: no padding channel is ever stored.
                w.Line(isa.Halves == 1
                    ? "bytes.StoreUnsafe(ref Unsafe.Add(ref y, channel));"
                    : "Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref y, channel)), bytes.AsInt64().ToScalar());");
            }
            else
            {
                w.Open($"if (channel + {I(lanes)} <= {I(n)})");
                w.Line(isa.Halves == 1
                    ? "bytes.StoreUnsafe(ref Unsafe.Add(ref y, channel));"
                    : "Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref y, channel)), bytes.AsInt64().ToScalar());");
                w.Close();
                w.Open("else");
                w.Line($"for (int i = 0; channel + i < {I(n)}; i++) Unsafe.Add(ref y, channel + i) = bytes.GetElement(i);");
                w.Close();
            }

            w.Close();
            w.Line();
        }

        private static void EmitVector128(CodeWriter w, DenseLayerPlan layer, string name)
        {
            bool wide = layer.Route == KernelRoute.Wide;
            int kp = layer.PaddedInputSize, n = layer.OutputSize, group = KernelPacker.Group(layer.Route);
            int steps = kp / group, panelBytes = kp * 16, stepBytes = 16 * group;
            int loads = stepBytes / 16; // Vector128<sbyte> loads per step and panel
            int accumulators = loads * 4; // each load widens to four Vector128<int>
            string elem = wide ? "short" : "byte";
            w.Line("/// <summary>");
            w.Line("/// Portable 128-bit kernel for one row (any CPU with Vector128 acceleration, ARM64 included): weights widened to int32");
            w.Line($"/// and multiplied lane by lane. Each of the {I(accumulators)} accumulators of a panel holds {(wide ? "two channels x two" : "one channel x four")} partial sums,");
            w.Line("/// added up once at the end.");
            w.Line("/// </summary>");
            w.Open($"private static void {name}Vector128(ref {elem} x, ref sbyte y)");
            w.Line($"ref sbyte w = ref MemoryMarshal.GetReference({name}Weights);");
            w.Line($"ReadOnlySpan<int> bias = {name}Bias;");
            w.Line($"ReadOnlySpan<int> multiplier = {name}Multiplier;");
            w.Line($"ReadOnlySpan<int> rightShift = {name}RightShift;");
            w.Line($"Span<int> sums = {w.StackAlloc("int", 16)};");
            w.Open($"for (int panel = 0; panel < {I(layer.Panels)}; panel++)");
            w.Line($"ref sbyte wp = ref Unsafe.Add(ref w, panel * {I(panelBytes)});");
            var accs = Enumerable.Range(0, accumulators).Select(i => $"a{I(i)}").ToList();
            w.Line($"Vector128<int> {string.Join(", ", accs.Select(a => a + " = default"))};");
            w.Open($"for (int s = 0; s < {I(steps)}; s++)");
            if (wide)
            {
                w.Line($"Vector128<int> xs = Vector128.Create((int)Unsafe.Add(ref x, 2 * s), Unsafe.Add(ref x, 2 * s + 1), Unsafe.Add(ref x, 2 * s), Unsafe.Add(ref x, 2 * s + 1));");
            }
            else
            {
                w.Line($"Vector128<int> xs = Vector128.Create((int)Unsafe.Add(ref x, 4 * s), Unsafe.Add(ref x, 4 * s + 1), Unsafe.Add(ref x, 4 * s + 2), Unsafe.Add(ref x, 4 * s + 3));");
            }

            for (int l = 0; l < loads; l++)
            {
                w.Line($"(Vector128<short> s{I(l)}l, Vector128<short> s{I(l)}h) = Vector128.Widen(Vector128.LoadUnsafe(ref wp, (nuint)(s * {I(stepBytes)} + {I(16 * l)})));");
                w.Line($"(Vector128<int> i{I(l)}0, Vector128<int> i{I(l)}1) = Vector128.Widen(s{I(l)}l);");
                w.Line($"(Vector128<int> i{I(l)}2, Vector128<int> i{I(l)}3) = Vector128.Widen(s{I(l)}h);");
                for (int j = 0; j < 4; j++) w.Line($"a{I(4 * l + j)} += i{I(l)}{I(j)} * xs;");
            }

            w.Close();
            for (int i = 0; i < accumulators; i++)
            {
                if (wide)
                {
                    // Lanes (c, k0), (c, k1), (c + 1, k0), (c + 1, k1).
                    w.Line($"sums[{I(2 * i)}] = a{I(i)}.GetElement(0) + a{I(i)}.GetElement(1); sums[{I(2 * i + 1)}] = a{I(i)}.GetElement(2) + a{I(i)}.GetElement(3);");
                }
                else
                {
                    w.Line($"sums[{I(i)}] = Vector128.Sum(a{I(i)});");
                }
            }

            w.Open($"for (int lane = 0; lane < 16; lane++)");
            w.Line("int c = panel * 16 + lane;");
            w.Line($"if (c >= {I(n)}) break;");
            w.Line(layer.WideOutput
                ? "Unsafe.As<sbyte, int>(ref Unsafe.Add(ref y, c * 4)) = RequantizeWide(bias[c] + sums[lane], multiplier[c], rightShift[c]);"
                : $"Unsafe.Add(ref y, c) = Requantize(bias[c] + sums[lane], multiplier[c], rightShift[c], {I(layer.OutputZeroPoint)}, {I(layer.ActivationMin)}, {I(layer.ActivationMax)});");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        private static void EmitScalar(CodeWriter w, DenseLayerPlan layer, string name)
        {
            bool wide = layer.Route == KernelRoute.Wide;
            int kp = layer.PaddedInputSize, n = layer.OutputSize, group = KernelPacker.Group(layer.Route);
            string elem = wide ? "short" : "byte";
            w.Line("/// <summary>Portable kernel for one row over the same packed weights and folded bias.</summary>");
            w.Open($"private static void {name}Scalar(ref {elem} x, ref sbyte y)");
            w.Line($"ref sbyte w = ref MemoryMarshal.GetReference({name}Weights);");
            w.Line($"ReadOnlySpan<int> bias = {name}Bias;");
            w.Line($"ReadOnlySpan<int> multiplier = {name}Multiplier;");
            w.Line($"ReadOnlySpan<int> rightShift = {name}RightShift;");
            w.Open($"for (int c = 0; c < {I(n)}; c++)");
            w.Line($"// Channel c is lane c % 16 of panel c / 16; step s holds k = {I(group)}s .. {I(group)}s + {I(group - 1)}.");
            w.Line($"ref sbyte wc = ref Unsafe.Add(ref w, (c >> 4) * {I(kp * 16)} + (c & 15) * {I(group)});");
            w.Line("int acc = bias[c];");
            w.Open($"for (int s = 0; s < {I(kp / group)}; s++)");
            for (int j = 0; j < group; j++)
            {
                w.Line($"acc += Unsafe.Add(ref wc, s * {I(group * 16)} + {I(j)}) * Unsafe.Add(ref x, s * {I(group)} + {I(j)});");
            }

            w.Close();
            w.Line(layer.WideOutput
                ? "Unsafe.As<sbyte, int>(ref Unsafe.Add(ref y, c * 4)) = RequantizeWide(acc, multiplier[c], rightShift[c]);"
                : $"Unsafe.Add(ref y, c) = Requantize(acc, multiplier[c], rightShift[c], {I(layer.OutputZeroPoint)}, {I(layer.ActivationMin)}, {I(layer.ActivationMax)});");
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>Activation conversions, one pair per distinct input size.</summary>
        public static void EmitConversions(CodeWriter w, IEnumerable<DenseLayerPlan> layers)
        {
            foreach (int k in layers.Where(l => l.Route == KernelRoute.Wide).Select(l => l.InputSize).Distinct().OrderBy(k => k))
            {
                w.Line($"/// <summary>Sign-extends {I(k)} INT8 activations to int16.</summary>");
                w.Open($"private static void Widen{I(k)}(ReadOnlySpan<sbyte> source, Span<short> destination)");
                w.Line("ref sbyte s = ref MemoryMarshal.GetReference(source);");
                w.Line("ref short d = ref MemoryMarshal.GetReference(destination);");
                w.Line("nuint i = 0;");
                if (k >= 16)
                {
                    w.Open("if (Vector128.IsHardwareAccelerated)");
                    w.Open($"for (; i <= {I(k - 16)}; i += 16)");
                    w.Line("(Vector128<short> lower, Vector128<short> upper) = Vector128.Widen(Vector128.LoadUnsafe(ref s, i));");
                    w.Line("lower.StoreUnsafe(ref d, i);");
                    w.Line("upper.StoreUnsafe(ref d, i + 8);");
                    w.Close();
                    w.Close();
                }

                w.Line($"for (; i < {I(k)}; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);");
                w.Close();
                w.Line();
            }

            foreach (int k in layers.Where(l => l.Route != KernelRoute.Wide || l.HasVnniCopy).Select(l => l.InputSize).Distinct().OrderBy(k => k))
            {
                w.Line($"/// <summary>Maps {I(k)} INT8 activations to unsigned bytes, x + 128 (flipping the sign bit).</summary>");
                w.Open($"private static void ToUnsigned{I(k)}(ReadOnlySpan<sbyte> source, Span<byte> destination)");
                w.Line("ref byte s = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(source));");
                w.Line("ref byte d = ref MemoryMarshal.GetReference(destination);");
                w.Line("nuint i = 0;");
                if (k >= 16)
                {
                    w.Open("if (Vector128.IsHardwareAccelerated)");
                    w.Line($"for (; i <= {I(k - 16)}; i += 16) (Vector128.LoadUnsafe(ref s, i) ^ Vector128.Create((byte)0x80)).StoreUnsafe(ref d, i);");
                    w.Close();
                }

                w.Line($"for (; i < {I(k)}; i++) Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref s, i) ^ 0x80);");
                w.Close();
                w.Line();
            }
        }
    }
}
