using System.Linq;

namespace Gen.Generators.Emitting.Ops
{
    /// <summary>The helpers the integer nonlinear ops share: IntSqrt, Clamp8, the vector requantization, a 16x8 transpose.</summary>
    internal static class IntegerHelpers
    {
        public static void Emit(CodeWriter w, bool transpose16x8)
        {
            if (transpose16x8) EmitTranspose16x8(w);
            w.Line("/// <summary>");
            w.Line("/// floor(sqrt(n)) for n in [2^60, 2^62), the range LayerNorm scales its variance into. The seed, from the top 8 bits,");
            w.Line("/// is ceil(sqrt((i + 1) 2^54)) >= sqrt(n) and within 0.8% of it. A Newton step from above, x' = (x + n / x) / 2 floored,");
            w.Line("/// stays at or above floor(sqrt(n)) and its error is at most e^2 / (2 sqrt(n)): two steps leave it within 9 of");
            w.Line("/// floor(sqrt(n)), which the last loop steps down to (cheaper than a third division).");
            w.Line("/// </summary>");
            w.Open("private static long IntSqrt(ulong n)");
            w.Line("ulong x = Unsafe.Add(ref MemoryMarshal.GetReference(SqrtSeeds), (int)(n >> 54) - 64);");
            w.Line("x = (x + n / x) >> 1; // error < 1.4e5");
            w.Line("x = (x + n / x) >> 1; // error < 9");
            w.Line("while (x * x > n) x--;");
            w.Line("return (long)x;");
            w.Close();
            w.Line();
            w.Line("// ceil(sqrt((i + 1) * 2^54)) for i = 64..255: the IntSqrt seeds.");
            w.Line("private static ReadOnlySpan<ulong> SqrtSeeds => new ulong[]");
            w.Line("{");
            var seeds = new ulong[192];
            for (int i = 64; i < 256; i++)
            {
                ulong n = (ulong)(i + 1) << 54;
                ulong r = Runtime.Kernels.IntSqrt.Floor(n);
                seeds[i - 64] = r * r == n ? r : r + 1;
            }

            var block = new CodeWriter();
            block.Values(seeds, 0, seeds.Length, 8, v => CodeWriter.Int((long)v) + "UL");
            foreach (var line in block.ToString().TrimEnd('\n').Split('\n')) w.Line("    " + line);
            w.Line("};");
            w.Line();
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Line("private static sbyte Clamp8(long value) => (sbyte)(value < -128 ? -128 : value > 127 ? 127 : value);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// MultiplyByQuantizedMultiplier on 16 lanes, as the scalar Requantize: the rounding doubling high multiply");
            w.Line("/// (x * m0 + 2^30) >> 31 on 64-bit products (vpmuldq multiplies the even lanes; shifting by 32 brings the odd ones");
            w.Line("/// down), then a rounding right shift with ties away from zero.");
            w.Line("/// </summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open("private static Vector512<int> MultiplyByQuantizedMultiplier(Vector512<int> x, int m0, int rightShift)");
            w.Line("Vector512<int> m = Vector512.Create(m0);");
            w.Line("Vector512<long> round = Vector512.Create(1L << 30);");
            w.Line("Vector512<long> even = Avx512F.ShiftRightLogical(Avx512F.Multiply(x, m) + round, 31);");
            w.Line("Vector512<long> odd = Avx512F.ShiftRightLogical(Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + round, 31);");
            w.Line("Vector512<int> high = ((even & Vector512.Create(0xFFFFFFFFL)) | Avx512F.ShiftLeftLogical(odd, 32)).AsInt32();");
            w.Line("Vector512<int> mask = Vector512.Create((1 << rightShift) - 1);");
            w.Line("Vector512<int> threshold = Avx512F.ShiftRightArithmetic(mask, 1) - Avx512F.ShiftRightArithmetic(high, 31);");
            w.Line("return Vector512.ShiftRightArithmetic(high, rightShift) - Vector512.GreaterThan(high & mask, threshold);");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// A transpose of 16 rows of 8 ints ([token][feature pair], contiguous) into 8 rows of 16 ([feature pair][token],
        /// rows <c>stride</c> apart) in three rounds of vpermt2d, 24 permutes instead of 128 scalar moves.
        /// </summary>
        private static void EmitTranspose16x8(CodeWriter w)
        {
            string Index(System.Func<int, int> f) => "Vector512.Create(" + string.Join(", ", Enumerable.Range(0, 16).Select(p => I(f(p)))) + ")";
            w.Line("/// <summary>");
            w.Line("/// Transposes 16 rows of 8 ints (contiguous) into 8 rows of 16, <paramref name=\"stride\"/> ints apart, with three rounds of");
            w.Line("/// two-source permutes (vpermt2d): rows in fours for 4 columns at a time, then in eights for 2, then all 16 for 1.");
            w.Line("/// </summary>");
            w.Open("private static void Transpose16x8(ref int source, ref int destination, int stride)");
            w.Line("// Round 1: (rows 4m..4m+3) x (columns 0..3) and x (columns 4..7), as [column][row].");
            w.Line($"Vector512<int> low = {Index(p => p / 4 + 8 * (p % 2) + 16 * (p % 4 / 2))}, high = low + Vector512.Create(4);");
            for (int m = 0; m < 4; m++)
            {
                w.Line($"Vector512<int> a{I(m)} = Vector512.LoadUnsafe(ref source, {I(32 * m)}), b{I(m)} = Vector512.LoadUnsafe(ref source, {I(32 * m + 16)});");
                w.Line($"Vector512<int> lo{I(m)} = Avx512F.PermuteVar16x32x2(a{I(m)}, low, b{I(m)}), hi{I(m)} = Avx512F.PermuteVar16x32x2(a{I(m)}, high, b{I(m)});");
            }

            w.Line("// Round 2: rows 0..7 and 8..15 for two columns at a time, as [column][row].");
            w.Line($"Vector512<int> first = {Index(p => p / 8 * 4 + p % 4 + 16 * (p % 8 / 4))}, second = first + Vector512.Create(8);");
            foreach (var (name, src) in new[] { ("l", "lo"), ("h", "hi") })
            {
                w.Line($"Vector512<int> {name}0 = Avx512F.PermuteVar16x32x2({src}0, first, {src}1), {name}1 = Avx512F.PermuteVar16x32x2({src}0, second, {src}1);");
                w.Line($"Vector512<int> {name}2 = Avx512F.PermuteVar16x32x2({src}2, first, {src}3), {name}3 = Avx512F.PermuteVar16x32x2({src}2, second, {src}3);");
            }

            w.Line("// Round 3: each column's 16 rows, stored.");
            w.Line($"Vector512<int> even = {Index(p => p % 8 + 16 * (p / 8))}, odd = even + Vector512.Create(8);");
            for (int c = 0; c < 8; c++)
            {
                string src = c < 4 ? "l" : "h";
                int pair = c % 4 / 2; // columns (0,1) and (4,5) in the first vectors, (2,3) and (6,7) in the second
                w.Line($"Avx512F.PermuteVar16x32x2({src}{I(pair)}, {(c % 2 == 0 ? "even" : "odd")}, {src}{I(pair + 2)}).StoreUnsafe(ref destination, (nuint)({I(c)} * stride));");
            }

            w.Close();
            w.Line();
        }

        private static string I(long v) => CodeWriter.Int(v);
    }
}
