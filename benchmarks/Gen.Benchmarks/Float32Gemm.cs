using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Gen.Benchmarks
{
    /// <summary>
    /// A float32 dense layer, <c>y = x W^T + b</c>, written the way a careful C# programmer would: the weights are
    /// packed once into panels of 32 output columns ([N/32][K][32], zero-padded), and a register-blocked micro-kernel
    /// keeps 4 rows x 32 columns of accumulators (8 zmm registers) while the K loop runs innermost, broadcasting one
    /// input per row and loading two weight vectors per step (AVX-512 FMA). The K dimension is blocked so a panel slice
    /// stays in L1 across the row blocks. One row (GEMV) uses 1 row x 128 columns (8 accumulators) instead, so the FMA
    /// latency is still hidden. Without AVX-512 it falls back to Vector256 FMA (1 x 32) and then to scalar code.
    /// </summary>
    public sealed unsafe class Float32Gemm
    {
        private const int PanelWidth = 32;
        private const int KBlock = 256;

        private readonly int k, n, panels;
        private readonly float[] packed;
        private readonly float[] bias;

        /// <param name="weights">Row-major [N, K], as PyTorch stores nn.Linear.</param>
        public Float32Gemm(float[] weights, float[] bias, int inputs, int outputs)
        {
            k = inputs;
            n = outputs;
            panels = (n + PanelWidth - 1) / PanelWidth;
            packed = new float[panels * k * PanelWidth];
            for (int p = 0; p < panels; p++)
            {
                for (int i = 0; i < k; i++)
                {
                    for (int j = 0; j < PanelWidth; j++)
                    {
                        int c = p * PanelWidth + j;
                        packed[(p * k + i) * PanelWidth + j] = c < n ? weights[c * k + i] : 0f;
                    }
                }
            }

            this.bias = new float[panels * PanelWidth];
            Array.Copy(bias, this.bias, n);
        }

        /// <summary>Which code path <see cref="Run"/> takes on this machine.</summary>
        public static string Path => Avx512F.IsSupported ? "AVX-512 FMA, 4x32 and 1x128 register blocks"
            : Fma.IsSupported ? "Vector256 FMA, 1x32" : "scalar";

        /// <summary>y[rows, N] = x[rows, K] W^T + b.</summary>
        public void Run(ReadOnlySpan<float> x, Span<float> y, int rows)
        {
            if (x.Length < rows * k || y.Length < rows * n) throw new ArgumentException("Spans too short for the batch.");
            fixed (float* px = x, py = y, pw = packed, pb = bias)
            {
                if (Avx512F.IsSupported) RunAvx512(px, py, pw, pb, rows);
                else if (Fma.IsSupported) RunAvx2(px, py, pw, pb, rows);
                else RunScalar(px, py, pw, pb, rows);
            }
        }

        private void RunAvx512(float* x, float* y, float* w, float* b, int rows)
        {
            float* tile = stackalloc float[4 * PanelWidth];
            int fullRows = rows & ~3;
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                bool first = k0 == 0;
                if (rows == 1)
                {
                    // GEMV: four panels at a time.
                    int p = 0;
                    for (; p + 4 <= panels && (p + 4) * PanelWidth <= n; p += 4)
                    {
                        Gemv1x128(x + k0, w + (p * k + k0) * PanelWidth, b + p * PanelWidth, y + p * PanelWidth, kc, first);
                    }

                    for (; p < panels; p++) Block(1, x, y, w, b, p, 0, k0, kc, first, tile);
                    continue;
                }

                for (int p = 0; p < panels; p++)
                {
                    for (int r = 0; r < fullRows; r += 4) Block(4, x, y, w, b, p, r, k0, kc, first, tile);
                    for (int r = fullRows; r < rows; r++) Block(1, x, y, w, b, p, r, k0, kc, first, tile);
                }
            }
        }

        // Rows [r, r + count) of panel p over k in [k0, k0 + kc). Panels that stick out past N go through a tile.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Block(int count, float* x, float* y, float* w, float* b, int p, int r, int k0, int kc, bool first, float* tile)
        {
            int c0 = p * PanelWidth;
            int width = Math.Min(PanelWidth, n - c0);
            float* a = x + r * k + k0;
            float* panel = w + (p * k + k0) * PanelWidth;
            float* pb = b + c0;
            if (width == PanelWidth)
            {
                if (count == 4) Kernel4x32(a, k, panel, pb, y + r * n + c0, n, kc, first);
                else Kernel1x32(a, panel, pb, y + r * n + c0, kc, first);
                return;
            }

            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < PanelWidth; j++) tile[i * PanelWidth + j] = j < width && !first ? y[(r + i) * n + c0 + j] : 0f;
            }

            if (count == 4) Kernel4x32(a, k, panel, pb, tile, PanelWidth, kc, first);
            else Kernel1x32(a, panel, pb, tile, kc, first);
            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < width; j++) y[(r + i) * n + c0 + j] = tile[i * PanelWidth + j];
            }
        }

        private static void Kernel4x32(float* a, int lda, float* panel, float* bias, float* y, int ldy, int kc, bool first)
        {
            Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
            if (first)
            {
                c00 = c10 = c20 = c30 = Vector512.Load(bias);
                c01 = c11 = c21 = c31 = Vector512.Load(bias + 16);
            }
            else
            {
                c00 = Vector512.Load(y); c01 = Vector512.Load(y + 16);
                c10 = Vector512.Load(y + ldy); c11 = Vector512.Load(y + ldy + 16);
                c20 = Vector512.Load(y + 2 * ldy); c21 = Vector512.Load(y + 2 * ldy + 16);
                c30 = Vector512.Load(y + 3 * ldy); c31 = Vector512.Load(y + 3 * ldy + 16);
            }

            float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
            for (int i = 0; i < kc; i++)
            {
                Vector512<float> w0 = Vector512.Load(panel);
                Vector512<float> w1 = Vector512.Load(panel + 16);
                panel += PanelWidth;
                Vector512<float> x0 = Vector512.Create(a0[i]);
                c00 = Avx512F.FusedMultiplyAdd(x0, w0, c00);
                c01 = Avx512F.FusedMultiplyAdd(x0, w1, c01);
                Vector512<float> x1 = Vector512.Create(a1[i]);
                c10 = Avx512F.FusedMultiplyAdd(x1, w0, c10);
                c11 = Avx512F.FusedMultiplyAdd(x1, w1, c11);
                Vector512<float> x2 = Vector512.Create(a2[i]);
                c20 = Avx512F.FusedMultiplyAdd(x2, w0, c20);
                c21 = Avx512F.FusedMultiplyAdd(x2, w1, c21);
                Vector512<float> x3 = Vector512.Create(a3[i]);
                c30 = Avx512F.FusedMultiplyAdd(x3, w0, c30);
                c31 = Avx512F.FusedMultiplyAdd(x3, w1, c31);
            }

            c00.Store(y); c01.Store(y + 16);
            c10.Store(y + ldy); c11.Store(y + ldy + 16);
            c20.Store(y + 2 * ldy); c21.Store(y + 2 * ldy + 16);
            c30.Store(y + 3 * ldy); c31.Store(y + 3 * ldy + 16);
        }

        private static void Kernel1x32(float* a, float* panel, float* bias, float* y, int kc, bool first)
        {
            // Two accumulators per half, summed at the end, so consecutive FMAs do not wait on each other.
            Vector512<float> c0 = first ? Vector512.Load(bias) : Vector512.Load(y);
            Vector512<float> c1 = first ? Vector512.Load(bias + 16) : Vector512.Load(y + 16);
            Vector512<float> d0 = Vector512<float>.Zero, d1 = Vector512<float>.Zero;
            int i = 0;
            for (; i + 2 <= kc; i += 2)
            {
                Vector512<float> x0 = Vector512.Create(a[i]);
                Vector512<float> x1 = Vector512.Create(a[i + 1]);
                c0 = Avx512F.FusedMultiplyAdd(x0, Vector512.Load(panel), c0);
                c1 = Avx512F.FusedMultiplyAdd(x0, Vector512.Load(panel + 16), c1);
                d0 = Avx512F.FusedMultiplyAdd(x1, Vector512.Load(panel + 32), d0);
                d1 = Avx512F.FusedMultiplyAdd(x1, Vector512.Load(panel + 48), d1);
                panel += 2 * PanelWidth;
            }

            if (i < kc)
            {
                Vector512<float> x0 = Vector512.Create(a[i]);
                c0 = Avx512F.FusedMultiplyAdd(x0, Vector512.Load(panel), c0);
                c1 = Avx512F.FusedMultiplyAdd(x0, Vector512.Load(panel + 16), c1);
            }

            (c0 + d0).Store(y);
            (c1 + d1).Store(y + 16);
        }

        private void Gemv1x128(float* a, float* panels0, float* bias, float* y, int kc, bool first)
        {
            // Four consecutive panels, each [K][32]; stride between them is K * 32.
            int stride = k * PanelWidth;
            float* q0 = panels0, q1 = panels0 + stride, q2 = panels0 + 2 * stride, q3 = panels0 + 3 * stride;
            Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
            float* init = first ? bias : y;
            c0 = Vector512.Load(init); c1 = Vector512.Load(init + 16); c2 = Vector512.Load(init + 32); c3 = Vector512.Load(init + 48);
            c4 = Vector512.Load(init + 64); c5 = Vector512.Load(init + 80); c6 = Vector512.Load(init + 96); c7 = Vector512.Load(init + 112);
            for (int i = 0; i < kc; i++)
            {
                Vector512<float> x = Vector512.Create(a[i]);
                int o = i * PanelWidth;
                c0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q0 + o), c0);
                c1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q0 + o + 16), c1);
                c2 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q1 + o), c2);
                c3 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q1 + o + 16), c3);
                c4 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q2 + o), c4);
                c5 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q2 + o + 16), c5);
                c6 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q3 + o), c6);
                c7 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(q3 + o + 16), c7);
            }

            c0.Store(y); c1.Store(y + 16); c2.Store(y + 32); c3.Store(y + 48);
            c4.Store(y + 64); c5.Store(y + 80); c6.Store(y + 96); c7.Store(y + 112);
        }

        private void RunAvx2(float* x, float* y, float* w, float* b, int rows)
        {
            float* tile = stackalloc float[PanelWidth];
            for (int r = 0; r < rows; r++)
            {
                for (int p = 0; p < panels; p++)
                {
                    float* panel = w + p * k * PanelWidth;
                    float* a = x + r * k;
                    Vector256<float> c0 = Vector256.Load(b + p * PanelWidth), c1 = Vector256.Load(b + p * PanelWidth + 8);
                    Vector256<float> c2 = Vector256.Load(b + p * PanelWidth + 16), c3 = Vector256.Load(b + p * PanelWidth + 24);
                    for (int i = 0; i < k; i++)
                    {
                        Vector256<float> xi = Vector256.Create(a[i]);
                        c0 = Fma.MultiplyAdd(xi, Vector256.Load(panel), c0);
                        c1 = Fma.MultiplyAdd(xi, Vector256.Load(panel + 8), c1);
                        c2 = Fma.MultiplyAdd(xi, Vector256.Load(panel + 16), c2);
                        c3 = Fma.MultiplyAdd(xi, Vector256.Load(panel + 24), c3);
                        panel += PanelWidth;
                    }

                    c0.Store(tile); c1.Store(tile + 8); c2.Store(tile + 16); c3.Store(tile + 24);
                    int width = Math.Min(PanelWidth, n - p * PanelWidth);
                    for (int j = 0; j < width; j++) y[r * n + p * PanelWidth + j] = tile[j];
                }
            }
        }

        private void RunScalar(float* x, float* y, float* w, float* b, int rows)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    float* panel = w + (c / PanelWidth) * k * PanelWidth + c % PanelWidth;
                    float sum = b[c];
                    for (int i = 0; i < k; i++) sum += x[r * k + i] * panel[i * PanelWidth];
                    y[r * n + c] = sum;
                }
            }
        }

        /// <summary>The plain triple loop (double accumulators) that checks <see cref="Run"/>.</summary>
        public static void Reference(float[] weights, float[] bias, int inputs, int outputs, ReadOnlySpan<float> x, Span<float> y, int rows)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < outputs; c++)
                {
                    double sum = bias[c];
                    for (int i = 0; i < inputs; i++) sum += (double)x[r * inputs + i] * weights[c * inputs + i];
                    y[r * outputs + c] = (float)sum;
                }
            }
        }
    }
}
