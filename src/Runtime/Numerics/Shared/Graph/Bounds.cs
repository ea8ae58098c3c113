using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// One integer quantity an op's kernels form (an accumulator, a product, a sum), with the largest magnitude it can take
    /// for any input, worked out at build time in exact integers from the op's real weights, scales and shapes, and the
    /// limit of the type that holds it.
    /// </summary>
    /// <param name="Symbol">How the generated code's comment writes it (<c>|acc|</c>).</param>
    /// <param name="Quantity">What it is, for a diagnostic (<c>the INT32 score sum_e (q - Z_q)(k - Z_k)</c>).</param>
    /// <param name="Worst">The largest magnitude it can take (a sound bound; the op's file says when it is reached).</param>
    /// <param name="LimitBits">Its type holds magnitudes up to <c>2^LimitBits - 1</c>: 31 for an int, 63 for a long, 15 for
    /// an int16 lane.</param>
    /// <param name="Fix">What to change when it does not fit, for a diagnostic.</param>
    public sealed record IntegerBound(string Symbol, string Quantity, BigInteger Worst, int LimitBits, string Fix)
    {
        /// <summary>The largest magnitude the type holds, <c>2^LimitBits - 1</c>.</summary>
        public BigInteger Limit => (BigInteger.One << LimitBits) - 1;

        /// <summary>Whether every value fits.</summary>
        public bool Holds => Worst <= Limit;

        /// <summary>log2(2^LimitBits / Worst) rounded down to a tenth (so never overstated): how many bits are left.</summary>
        public double HeadroomBits => Worst <= 1 ? LimitBits : Math.Floor(10 * (LimitBits - BigInteger.Log(Worst, 2))) / 10;

        /// <summary>The limit as the message says it, <c>2^31 - 1</c>.</summary>
        public string LimitText => "2^" + BoundMath.Int(LimitBits) + " - 1";

        /// <summary>The bound as the generated code states it: <c>|acc| &lt;= 1,234,567 &lt; 2^31 (headroom 2^10.7)</c>.</summary>
        public string Text => Holds
            ? $"{Symbol} <= {BoundMath.Grouped(Worst)} < 2^{BoundMath.Int(LimitBits)} (headroom 2^{HeadroomBits.ToString("0.0", CultureInfo.InvariantCulture)})"
            : $"{Symbol} can reach {BoundMath.Grouped(Worst)}, beyond 2^{BoundMath.Int(LimitBits)} - 1";
    }

    /// <summary>
    /// Every bound one op proved: what the generated code's comment states for the node, and the first that fails, if any
    /// (<see cref="QuantizeContext.Prove"/> makes it a diagnostic).
    /// </summary>
    public sealed class OpBounds
    {
        /// <summary>The bounds of an op, in the order its kernels form them.</summary>
        public OpBounds(params IntegerBound[] bounds) => All = bounds;

        /// <summary>An op whose kernels form no integer quantity beyond their inputs.</summary>
        public static OpBounds None { get; } = new OpBounds();

        /// <summary>The bounds.</summary>
        public IReadOnlyList<IntegerBound> All { get; }

        /// <summary>The first bound that does not hold, or null.</summary>
        public IntegerBound? FirstViolation
        {
            get
            {
                foreach (var b in All)
                {
                    if (!b.Holds) return b;
                }

                return null;
            }
        }

        /// <summary>These bounds and <paramref name="more"/> (a kernel's own, such as a route's int16 lanes).</summary>
        public OpBounds With(params IntegerBound[] more)
        {
            var all = new IntegerBound[All.Count + more.Length];
            for (int i = 0; i < All.Count; i++) all[i] = All[i];
            Array.Copy(more, 0, all, All.Count, more.Length);
            return new OpBounds(all);
        }

        /// <summary>
        /// The comment for the generated code: <c>Bounds (any input): a; b; c.</c>, wrapped into lines of at most about
        /// <paramref name="width"/> characters (continuation lines indented by two spaces); empty when there are none.
        /// </summary>
        public IReadOnlyList<string> CommentLines(int width = 112)
        {
            var lines = new List<string>();
            if (All.Count == 0) return lines;
            var line = new StringBuilder("Bounds (proven at build time for any input):");
            bool first = true; // a part always goes on the first line, however long
            for (int i = 0; i < All.Count; i++)
            {
                string part = All[i].Text + (i == All.Count - 1 ? "." : ";");
                if (!first && line.Length + 1 + part.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear().Append(' ');
                }

                line.Append(' ').Append(part);
                first = false;
            }

            lines.Add(line.ToString());
            return lines;
        }
    }

    /// <summary>Exact integer helpers for the bounds the ops prove.</summary>
    public static class BoundMath
    {
        /// <summary>The largest magnitude of an INT8 value minus its zero point: <c>max(127 - Z, 128 + Z)</c>.</summary>
        public static int Span(int zeroPoint) => Math.Max(127 - zeroPoint, 128 + zeroPoint);

        /// <summary>floor(sqrt(n)) of a non-negative integer, exactly (Newton's iteration from above).</summary>
        public static BigInteger FloorSqrt(BigInteger n)
        {
            if (n.Sign < 0) throw new ArgumentOutOfRangeException(nameof(n), "A square root of a negative number.");
            if (n < 2) return n;
            var x = BigInteger.One << (int)((n.ToByteArray().Length * 8 + 1) / 2 + 1);
            while (true)
            {
                var next = (x + n / x) >> 1;
                if (next >= x) return x;
                x = next;
            }
        }

        /// <summary>ceil(sqrt(n)) of a non-negative integer, exactly.</summary>
        public static BigInteger CeilingSqrt(BigInteger n)
        {
            var root = FloorSqrt(n);
            return root * root == n ? root : root + 1;
        }

        /// <summary>An integer with thousands separators, <c>1,234,567</c>.</summary>
        public static string Grouped(BigInteger value)
        {
            string digits = BigInteger.Abs(value).ToString(CultureInfo.InvariantCulture);
            var text = new StringBuilder();
            if (value.Sign < 0) text.Append('-');
            for (int i = 0; i < digits.Length; i++)
            {
                if (i > 0 && (digits.Length - i) % 3 == 0) text.Append(',');
                text.Append(digits[i]);
            }

            return text.ToString();
        }

        internal static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
