using System.Collections.Generic;
using System.Linq;
using Gen.Generators.Model;
using Gen.Generators.Planning;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// The 512-bit VNNI members of the dense kernel family (<see cref="DenseKernelEmitter"/>), emitted where the
    /// compilation has <c>AvxVnni.V512</c> (.NET 11): EVEX <c>vpdpbusd zmm</c> adds four u8 x s8 products into each of
    /// 16 int32 lanes, 64 MACs an instruction, exact for any weights. A step of a 16-channel panel in the unsigned
    /// layout ([N/16][Kp/4][16][4]) is 64 bytes: exactly one zmm register, one channel per lane. So these kernels read
    /// the ymm AVX-VNNI kernels' packed weights and folded bias as they are, and requantize through the same AVX-512
    /// epilogue (<c>AvxVnniStore512</c>).
    /// </summary>
    internal static class VnniZmmKernelEmitter
    {
        private const string Prefix = "AvxVnni512";

        /// <summary>Register blocks: (rows, panels). Four panels are 64 channels a step.</summary>
        private static readonly (int Rows, int Panels)[] Blocks = { (4, 4), (4, 1), (1, 4), (1, 1) };

        /// <summary>The method-name suffixes these kernels add to a layer (see <see cref="DenseKernelEmitter.Suffixes"/>).</summary>
        internal static IEnumerable<string> Suffixes => Blocks.Select(b => Kernel(b.Rows, b.Panels));

        private static string Kernel(int rows, int panels) => $"{Prefix}R{I(rows)}P{I(panels)}";

        private static string I(long v) => CodeWriter.Int(v);

        /// <summary>
        /// The driver's loop over a block of up to four rows (<paramref name="x"/>: the unsigned activations, <paramref name="kp"/>
        /// bytes a row): four rows x four panels, then single panels; fewer rows one at a time.
        /// </summary>
        public static void EmitPanelLoop(CodeWriter w, DenseLayerPlan layer, string name, string x, int kp)
        {
            int panels = layer.Panels, full = panels / 4 * 4, n = layer.OutputSize;
            w.Open("if (count == 4)");
            if (full > 0) w.Line($"for (int p = 0; p < {I(full)}; p += 4) {name}{Kernel(4, 4)}(ref {x}, ref yRow, p);");
            if (full < panels) w.Line($"for (int p = {I(full)}; p < {I(panels)}; p++) {name}{Kernel(4, 1)}(ref {x}, ref yRow, p);");
            w.Close();
            w.Open("else");
            w.Open("for (int r = 0; r < count; r++)");
            w.Line($"ref byte xr = ref Unsafe.Add(ref {x}, r * {I(kp)});");
            w.Line($"ref sbyte yr = ref Unsafe.Add(ref yRow, r * {I(n * layer.OutputBytes)});");
            if (full > 0) w.Line($"for (int p = 0; p < {I(full)}; p += 4) {name}{Kernel(1, 4)}(ref xr, ref yr, p);");
            if (full < panels) w.Line($"for (int p = {I(full)}; p < {I(panels)}; p++) {name}{Kernel(1, 1)}(ref xr, ref yr, p);");
            w.Close();
            w.Close();
        }

        /// <summary>The micro-kernels, one per register block.</summary>
        public static void Emit(CodeWriter w, DenseLayerPlan layer, string name)
        {
            foreach (var (rows, panels) in Blocks) EmitMicroKernel(w, layer, name, rows, panels);
        }

        private static void EmitMicroKernel(CodeWriter w, DenseLayerPlan layer, string name, int rows, int panels)
        {
            int kp = layer.VnniPaddedInputSize, n = layer.OutputSize, steps = kp / 4;
            int panelBytes = kp * KernelPacker.PanelWidth;
            string weights = layer.HasVnniCopy ? name + "VnniWeights" : name + "Weights";
            // vpdpbusd has a latency of several cycles and two issue ports: one row of four panels is only four dependent
            // chains, too few to keep both busy, so a single row splits K in two (even and odd steps, added at the end).
            // Four rows have 16 chains (and 16 + 4 + 4 of the 32 zmm registers live) and need no split.
            int sets = rows == 1 ? 2 : 1;
            w.Line($"/// <summary>vpdpbusd zmm: {I(rows)} row(s) x {I(panels)} panel(s) of 16 channels from panel <paramref name=\"panel\"/>; " +
                   $"{I(rows * panels * sets)} int32x16 accumulators stay in registers over all {I(steps)} steps" +
                   (sets == 2 ? " (two per panel: even and odd steps)" : "") + ".</summary>");
            w.Open($"private static void {name}{Kernel(rows, panels)}(ref byte x, ref sbyte y, int panel)");
            w.Line($"ref sbyte w = ref Unsafe.Add(ref MemoryMarshal.GetReference({weights}), panel * {I(panelBytes)});");
            var accs = new List<string>();
            for (int r = 0; r < rows; r++)
                for (int p = 0; p < panels; p++)
                    for (int h = 0; h < sets; h++)
                        accs.Add($"a{r}{p}{h}");
            w.Line($"Vector512<int> {string.Join(", ", accs.Select(a => a + " = default"))};");

            // Step s + h for set h: the panels' 64-byte weight loads, each row's four activations broadcast to every lane.
            // The references advance once per trip, so that every load has a constant offset.
            void Trip(string s, int count)
            {
                w.Line($"ref sbyte ws = ref Unsafe.Add(ref w, {s} * 64);");
                w.Line($"ref byte xs = ref Unsafe.Add(ref x, {s} * 4);");
                for (int h = 0; h < count; h++)
                {
                    for (int p = 0; p < panels; p++) w.Line($"Vector512<sbyte> w{p}{h} = Vector512.LoadUnsafe(ref ws, {I(p * panelBytes + 64 * h)});");
                    for (int r = 0; r < rows; r++)
                    {
                        w.Line($"Vector512<byte> x{r}{h} = Vector512.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref xs, {I(r * kp + 4 * h)}))).AsByte();");
                        for (int p = 0; p < panels; p++) w.Line($"a{r}{p}{h} = AvxVnni.V512.MultiplyWideningAndAdd(a{r}{p}{h}, x{r}{h}, w{p}{h});");
                    }
                }
            }

            int whole = steps / sets * sets;
            if (whole > 0)
            {
                w.Open($"for (nuint s = 0; s < {I(whole)}; s += {I(sets)})");
                Trip("s", sets);
                w.Close();
            }

            if (whole < steps)
            {
                w.Open("// The odd last step.");
                w.Line($"nuint s = {I(whole)};");
                Trip("s", 1);
                w.Close();
            }

            for (int r = 0; r < rows; r++)
            {
                for (int p = 0; p < panels; p++)
                {
                    string acc = sets == 2 ? $"a{r}{p}0 + a{r}{p}1" : $"a{r}{p}0";
                    w.Line($"{name}AvxVnniStore512({acc}, (panel + {I(p)}) * 16, ref Unsafe.Add(ref y, {I(r * n * layer.OutputBytes)}));");
                }
            }

            w.Close();
            w.Line();
        }
    }
}
