using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Gen.Runtime.Interpreter
{
    /// <summary>
    /// The float32 kernels the float ops (<c>Interpreter/Float</c>) of <see cref="FloatModel"/> share: a small matrix product with the bias fused, LayerNorm,
    /// exact (erf) GELU, softmax and element-wise helpers, on raw pointers into pinned, 64-byte aligned buffers.
    /// </summary>
    /// <remarks>
    /// The matrix product has three forms chosen once by the JIT (the <c>IsSupported</c> checks are constants):
    /// AVX-512 (<see cref="Vector512{T}"/> with FMA), <see cref="Vector{T}"/> (FMA on AVX2 and Arm64, multiply and
    /// add elsewhere), and scalar. Element-wise kernels use <see cref="Vector{T}"/> and a scalar tail.
    /// </remarks>
    internal static unsafe class FloatKernels
    {
        /// <summary>Columns of every packed weight and bias are padded to a multiple of this many floats (64 bytes),
        /// the widest vector a kernel loads.</summary>
        public const int Pad = 16;

        /// <summary>Rounds <paramref name="n"/> up to a multiple of <see cref="Pad"/>.</summary>
        public static int Padded(int n) => (n + Pad - 1) / Pad * Pad;

        /// <summary>
        /// <c>C[m, n] = A[m, k] * B[k, n] + bias[n]</c> for <c>i &lt; rows</c>, <c>j &lt; cols</c>, with row strides
        /// <paramref name="lda"/>, <paramref name="ldb"/> and <paramref name="ldc"/>. B (and bias, if not null) must be
        /// readable for <see cref="Padded"/>(cols) floats from the start of each row: the kernels load whole vectors and
        /// drop the lanes past <paramref name="cols"/>. Only the <paramref name="cols"/> columns of C are written.
        /// </summary>
        public static void MatMul(float* a, int lda, float* b, int ldb, float* bias, float* c, int ldc, int rows, int cols, int depth)
        {
            if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            {
                MatMul512(a, lda, b, ldb, bias, c, ldc, rows, cols, depth);
            }
            else if (Vector.IsHardwareAccelerated)
            {
                MatMulVector(a, lda, b, ldb, bias, c, ldc, rows, cols, depth);
            }
            else
            {
                MatMulScalar(a, lda, b, ldb, bias, c, ldc, rows, cols, depth);
            }
        }

        // Register blocking: 4 rows x 2 vectors of columns keeps 8 accumulators in flight (enough to hide the FMA
        // latency) and loads 2 B vectors and 4 broadcasts per 8 FMAs. Narrower panels and leftover rows use the
        // 4 x 1 and 1 x 1 blocks.
        private static void MatMul512(float* a, int lda, float* b, int ldb, float* bias, float* c, int ldc, int rows, int cols, int depth)
        {
            const int V = 16;
            int j = 0;
            for (; j + 2 * V <= cols; j += 2 * V)
            {
                var bias0 = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + j);
                var bias1 = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + j + V);
                int i = 0;
                for (; i + 4 <= rows; i += 4)
                {
                    float* a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
                    Vector512<float> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb)
                    {
                        var b0 = Vector512.Load(bp);
                        var b1 = Vector512.Load(bp + V);
                        var x = Vector512.Create(a0[p]);
                        c00 = Avx512F.FusedMultiplyAdd(x, b0, c00);
                        c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                        x = Vector512.Create(a1[p]);
                        c10 = Avx512F.FusedMultiplyAdd(x, b0, c10);
                        c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                        x = Vector512.Create(a2[p]);
                        c20 = Avx512F.FusedMultiplyAdd(x, b0, c20);
                        c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                        x = Vector512.Create(a3[p]);
                        c30 = Avx512F.FusedMultiplyAdd(x, b0, c30);
                        c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                    }

                    float* cp = c + i * ldc + j;
                    c00.Store(cp); c01.Store(cp + V); cp += ldc;
                    c10.Store(cp); c11.Store(cp + V); cp += ldc;
                    c20.Store(cp); c21.Store(cp + V); cp += ldc;
                    c30.Store(cp); c31.Store(cp + V);
                }

                for (; i < rows; i++)
                {
                    float* ar = a + i * lda;
                    Vector512<float> c0 = bias0, c1 = bias1;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb)
                    {
                        var x = Vector512.Create(ar[p]);
                        c0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(bp), c0);
                        c1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(bp + V), c1);
                    }

                    c0.Store(c + i * ldc + j);
                    c1.Store(c + i * ldc + j + V);
                }
            }

            float* tail = stackalloc float[V];
            for (; j < cols; j += V)
            {
                int count = Math.Min(V, cols - j);
                var bias0 = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + j);
                int i = 0;
                if (count == V)
                {
                    for (; i + 4 <= rows; i += 4)
                    {
                        float* a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
                        Vector512<float> c0 = bias0, c1 = bias0, c2 = bias0, c3 = bias0;
                        float* bp = b + j;
                        for (int p = 0; p < depth; p++, bp += ldb)
                        {
                            var b0 = Vector512.Load(bp);
                            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[p]), b0, c0);
                            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[p]), b0, c1);
                            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[p]), b0, c2);
                            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[p]), b0, c3);
                        }

                        float* cp = c + i * ldc + j;
                        c0.Store(cp);
                        c1.Store(cp + ldc);
                        c2.Store(cp + 2 * ldc);
                        c3.Store(cp + 3 * ldc);
                    }
                }

                for (; i < rows; i++)
                {
                    float* ar = a + i * lda;
                    var c0 = bias0;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb) c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(ar[p]), Vector512.Load(bp), c0);
                    if (count == V)
                    {
                        c0.Store(c + i * ldc + j);
                    }
                    else
                    {
                        c0.Store(tail);
                        new ReadOnlySpan<float>(tail, count).CopyTo(new Span<float>(c + i * ldc + j, count));
                    }
                }
            }
        }

        // The same blocking with Vector<T>: 8 lanes on AVX2, 4 on Arm64, FMA where the CPU has it.
        private static void MatMulVector(float* a, int lda, float* b, int ldb, float* bias, float* c, int ldc, int rows, int cols, int depth)
        {
            int v = Vector<float>.Count;
            int j = 0;
            for (; j + 2 * v <= cols; j += 2 * v)
            {
                var bias0 = bias == null ? Vector<float>.Zero : Load(bias + j);
                var bias1 = bias == null ? Vector<float>.Zero : Load(bias + j + v);
                int i = 0;
                for (; i + 4 <= rows; i += 4)
                {
                    float* a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
                    Vector<float> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb)
                    {
                        var b0 = Load(bp);
                        var b1 = Load(bp + v);
                        var x = new Vector<float>(a0[p]);
                        c00 = MultiplyAdd(x, b0, c00);
                        c01 = MultiplyAdd(x, b1, c01);
                        x = new Vector<float>(a1[p]);
                        c10 = MultiplyAdd(x, b0, c10);
                        c11 = MultiplyAdd(x, b1, c11);
                        x = new Vector<float>(a2[p]);
                        c20 = MultiplyAdd(x, b0, c20);
                        c21 = MultiplyAdd(x, b1, c21);
                        x = new Vector<float>(a3[p]);
                        c30 = MultiplyAdd(x, b0, c30);
                        c31 = MultiplyAdd(x, b1, c31);
                    }

                    float* cp = c + i * ldc + j;
                    Store(c00, cp); Store(c01, cp + v); cp += ldc;
                    Store(c10, cp); Store(c11, cp + v); cp += ldc;
                    Store(c20, cp); Store(c21, cp + v); cp += ldc;
                    Store(c30, cp); Store(c31, cp + v);
                }

                for (; i < rows; i++)
                {
                    float* ar = a + i * lda;
                    Vector<float> c0 = bias0, c1 = bias1;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb)
                    {
                        var x = new Vector<float>(ar[p]);
                        c0 = MultiplyAdd(x, Load(bp), c0);
                        c1 = MultiplyAdd(x, Load(bp + v), c1);
                    }

                    Store(c0, c + i * ldc + j);
                    Store(c1, c + i * ldc + j + v);
                }
            }

            float* tail = stackalloc float[Pad];
            for (; j < cols; j += v)
            {
                int count = Math.Min(v, cols - j);
                var bias0 = bias == null ? Vector<float>.Zero : Load(bias + j);
                for (int i = 0; i < rows; i++)
                {
                    float* ar = a + i * lda;
                    var c0 = bias0;
                    float* bp = b + j;
                    for (int p = 0; p < depth; p++, bp += ldb) c0 = MultiplyAdd(new Vector<float>(ar[p]), Load(bp), c0);
                    if (count == v)
                    {
                        Store(c0, c + i * ldc + j);
                    }
                    else
                    {
                        Store(c0, tail);
                        new ReadOnlySpan<float>(tail, count).CopyTo(new Span<float>(c + i * ldc + j, count));
                    }
                }
            }
        }

        private static void MatMulScalar(float* a, int lda, float* b, int ldb, float* bias, float* c, int ldc, int rows, int cols, int depth)
        {
            for (int i = 0; i < rows; i++)
            {
                float* ar = a + i * lda, cr = c + i * ldc;
                for (int j = 0; j < cols; j++) cr[j] = bias == null ? 0 : bias[j];
                for (int p = 0; p < depth; p++)
                {
                    float x = ar[p];
                    float* br = b + p * ldb;
                    for (int j = 0; j < cols; j++) cr[j] += x * br[j];
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector<float> v, float* p) => Unsafe.WriteUnaligned(p, v);

        /// <summary><c>a * b + c</c>, fused where the CPU has an FMA instruction for this vector width.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> c)
        {
            if (Fma.IsSupported && Vector<float>.Count == 8)
            {
                return Fma.MultiplyAdd(a.AsVector256(), b.AsVector256(), c.AsVector256()).AsVector();
            }

            if (AdvSimd.IsSupported && Vector<float>.Count == 4)
            {
                return AdvSimd.FusedMultiplyAdd(c.AsVector128(), a.AsVector128(), b.AsVector128()).AsVector();
            }

            return a * b + c;
        }

        /// <summary><c>sum[i] = x[i] + y[i]</c> (<paramref name="sum"/> may be <paramref name="x"/>).</summary>
        public static void Add(float* x, float* y, float* sum, int count)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i + Vector<float>.Count <= count; i += Vector<float>.Count) Store(Load(x + i) + Load(y + i), sum + i);
            }

            for (; i < count; i++) sum[i] = x[i] + y[i];
        }

        /// <summary>
        /// LayerNorm of each of <paramref name="rows"/> rows of <paramref name="width"/> values, as PyTorch's
        /// <c>nn.LayerNorm</c>: biased variance, <c>(x - mean) / sqrt(var + eps) * gamma + beta</c>.
        /// </summary>
        public static void LayerNorm(float* x, float* y, int rows, int width, float* gamma, float* beta, float epsilon)
        {
            int v = Vector<float>.Count;
            bool simd = Vector.IsHardwareAccelerated;
            for (int r = 0; r < rows; r++)
            {
                float* xr = x + r * width, yr = y + r * width;
                // Two passes (mean, then the mean square deviation): no cancellation when the mean is large.
                int i = 0;
                float sum = 0;
                if (simd)
                {
                    var s = Vector<float>.Zero;
                    for (; i + v <= width; i += v) s += Load(xr + i);
                    sum = Vector.Sum(s);
                }

                for (; i < width; i++) sum += xr[i];
                float mean = sum / width;

                i = 0;
                float squares = 0;
                if (simd)
                {
                    var m = new Vector<float>(mean);
                    var s = Vector<float>.Zero;
                    for (; i + v <= width; i += v)
                    {
                        var d = Load(xr + i) - m;
                        s = MultiplyAdd(d, d, s);
                    }

                    squares = Vector.Sum(s);
                }

                for (; i < width; i++) squares += (xr[i] - mean) * (xr[i] - mean);
                float rstd = 1f / MathF.Sqrt(squares / width + epsilon);

                i = 0;
                if (simd)
                {
                    var m = new Vector<float>(mean);
                    var s = new Vector<float>(rstd);
                    for (; i + v <= width; i += v) Store(MultiplyAdd((Load(xr + i) - m) * s, Load(gamma + i), Load(beta + i)), yr + i);
                }

                for (; i < width; i++) yr[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i];
            }
        }

        /// <summary>The mean of <paramref name="rows"/> rows of <paramref name="width"/> values, into <paramref name="y"/>.</summary>
        public static void MeanOfRows(float* x, float* y, int rows, int width)
        {
            new Span<float>(y, width).Clear();
            for (int r = 0; r < rows; r++) Add(y, x + r * width, y, width);
            float n = rows;
            for (int i = 0; i < width; i++) y[i] /= n;
        }

        // erf(x) ~= x P(x^2) / Q(x^2) on [-4, 4] (float32 gives +-1 beyond): the rational approximation Eigen and
        // XLA use for float. Measured against a double erf, its absolute error is below 5e-7 everywhere.
        private const float ErfA13 = -2.72614225801306e-10f, ErfA11 = 2.77068142495902e-08f, ErfA9 = -2.10102402082508e-06f,
            ErfA7 = -5.69250639462346e-05f, ErfA5 = -7.34990630326855e-04f, ErfA3 = -2.95459980854025e-03f, ErfA1 = -1.60960333262415e-02f;

        private const float ErfB8 = -1.45660718464996e-05f, ErfB6 = -2.13374055278905e-04f, ErfB4 = -1.68282697438203e-03f,
            ErfB2 = -7.37332916720468e-03f, ErfB0 = -1.42647390514189e-02f;

        /// <summary>The error function in float32, absolute error below 5e-7.</summary>
        public static float Erf(float x)
        {
            x = Math.Min(Math.Max(x, -4f), 4f);
            float x2 = x * x;
            float p = x2 * ErfA13 + ErfA11;
            p = x2 * p + ErfA9;
            p = x2 * p + ErfA7;
            p = x2 * p + ErfA5;
            p = x2 * p + ErfA3;
            p = x2 * p + ErfA1;
            float q = x2 * ErfB8 + ErfB6;
            q = x2 * q + ErfB4;
            q = x2 * q + ErfB2;
            q = x2 * q + ErfB0;
            return x * p / q;
        }

        private static Vector<float> Erf(Vector<float> x)
        {
            x = Vector.Min(Vector.Max(x, new Vector<float>(-4f)), new Vector<float>(4f));
            var x2 = x * x;
            var p = MultiplyAdd(x2, new Vector<float>(ErfA13), new Vector<float>(ErfA11));
            p = MultiplyAdd(x2, p, new Vector<float>(ErfA9));
            p = MultiplyAdd(x2, p, new Vector<float>(ErfA7));
            p = MultiplyAdd(x2, p, new Vector<float>(ErfA5));
            p = MultiplyAdd(x2, p, new Vector<float>(ErfA3));
            p = MultiplyAdd(x2, p, new Vector<float>(ErfA1));
            var q = MultiplyAdd(x2, new Vector<float>(ErfB8), new Vector<float>(ErfB6));
            q = MultiplyAdd(x2, q, new Vector<float>(ErfB4));
            q = MultiplyAdd(x2, q, new Vector<float>(ErfB2));
            q = MultiplyAdd(x2, q, new Vector<float>(ErfB0));
            return x * p / q;
        }

        private const float InverseSqrt2 = 0.70710678118654752f;

        /// <summary>The exact GELU, <c>x (1 + erf(x / sqrt 2)) / 2</c>.</summary>
        public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * InverseSqrt2));

        /// <summary>GELU of <paramref name="count"/> values of <paramref name="x"/> into <paramref name="y"/> (which may be <paramref name="x"/>).</summary>
        public static void Gelu(float* x, float* y, int count)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var half = new Vector<float>(0.5f);
                var scale = new Vector<float>(InverseSqrt2);
                for (; i + Vector<float>.Count <= count; i += Vector<float>.Count)
                {
                    var v = Load(x + i);
                    Store(half * v * (Vector<float>.One + Erf(v * scale)), y + i);
                }
            }

            for (; i < count; i++) y[i] = Gelu(x[i]);
        }

        /// <summary>Applies a fused activation (ReLU, ReLU6) in place.</summary>
        public static void Activate(float* x, int count, FusedActivation activation)
        {
            if (activation == FusedActivation.None) return;
            float upper = activation == FusedActivation.Relu6 ? 6f : float.PositiveInfinity;
            for (int i = 0; i < count; i++) x[i] = Math.Min(Math.Max(x[i], 0f), upper);
        }

        /// <summary>
        /// Softmax of <c>scale * row</c> in place, subtracting the maximum first so that no exponential overflows.
        /// </summary>
        public static void Softmax(float* row, int count, float scale)
        {
            int v = Vector<float>.Count, i = 0;
            bool simd = Vector.IsHardwareAccelerated;
            float max = float.NegativeInfinity;
            if (simd && count >= v)
            {
                var m = Load(row);
                for (i = v; i + v <= count; i += v) m = Vector.Max(m, Load(row + i));
                for (int k = 0; k < v; k++) max = Math.Max(max, m[k]);
            }

            for (; i < count; i++) max = Math.Max(max, row[i]);

            i = 0;
            float sum = 0;
            if (simd)
            {
                var s = new Vector<float>(scale);
                var shift = new Vector<float>(-scale * max);
                var total = Vector<float>.Zero;
                for (; i + v <= count; i += v)
                {
                    var e = Exp(MultiplyAdd(Load(row + i), s, shift));
                    Store(e, row + i);
                    total += e;
                }

                sum = Vector.Sum(total);
            }

            for (; i < count; i++)
            {
                float e = MathF.Exp(row[i] * scale - scale * max);
                row[i] = e;
                sum += e;
            }

            float inverse = 1f / sum;
            i = 0;
            if (simd)
            {
                var inv = new Vector<float>(inverse);
                for (; i + v <= count; i += v) Store(Load(row + i) * inv, row + i);
            }

            for (; i < count; i++) row[i] *= inverse;
        }

        // exp(x) for x <= 0 (softmax after the maximum is subtracted), as Cephes' expf: x = n ln2 + r with
        // |r| <= ln2 / 2, exp(r) by a degree-6 polynomial, 2^n built in the exponent bits. Within 2 ulp of exp;
        // x is clamped at -87 so 2^n stays a normal float (exp(-87) ~ 1.6e-38 is 0 next to the row's 1).
        private static Vector<float> Exp(Vector<float> x)
        {
            x = Vector.Max(x, new Vector<float>(-87f));
            // n = round(x / ln2) by the 1.5 * 2^23 trick: the sum's low mantissa bits hold n.
            var magic = new Vector<float>(12582912f);
            var t = MultiplyAdd(x, new Vector<float>(1.44269504088896341f), magic);
            var n = t - magic;
            var r = MultiplyAdd(n, new Vector<float>(-0.693359375f), x);
            r = MultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
            var p = MultiplyAdd(new Vector<float>(1.9875691500e-4f), r, new Vector<float>(1.3981999507e-3f));
            p = MultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
            p = MultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
            p = MultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
            p = MultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
            p = MultiplyAdd(p * r, r, r) + Vector<float>.One;
            var bits = Vector.AsVectorInt32(t) - Vector.AsVectorInt32(magic);
            var power = Vector.AsVectorSingle(Vector.ShiftLeft(bits + new Vector<int>(127), 23));
            return p * power;
        }
    }
}
