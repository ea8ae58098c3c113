using System;
using System.Collections;
using System.Collections.Generic;

namespace Gen.Generators.Model
{
    /// <summary>An immutable array compared by its elements, so that pipeline models cache correctly.</summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T>
        where T : IEquatable<T>
    {
        private readonly T[]? _items;

        public EquatableArray(T[] items) => _items = items;

        public static EquatableArray<T> Empty => new EquatableArray<T>(Array.Empty<T>());

        public int Length => _items?.Length ?? 0;

        public T this[int index] => _items![index];

        public T[] ToArray() => _items is null ? Array.Empty<T>() : (T[])_items.Clone();

        /// <summary>The underlying array, for read-only use by emitters.</summary>
        public T[] AsArray() => _items ?? Array.Empty<T>();

        public bool Equals(EquatableArray<T> other)
        {
            T[] a = AsArray(), b = other.AsArray();
            if (ReferenceEquals(a, b)) return true;
            if (a.Length != b.Length) return false;
            var comparer = EqualityComparer<T>.Default;
            for (int i = 0; i < a.Length; i++)
            {
                if (!comparer.Equals(a[i], b[i])) return false;
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

        public override int GetHashCode()
        {
            // Length and a sample of elements: cheap for multi-megabyte weights, still a good spread.
            T[] a = AsArray();
            int hash = a.Length;
            int step = Math.Max(1, a.Length / 64);
            for (int i = 0; i < a.Length; i += step) hash = hash * 31 + (a[i]?.GetHashCode() ?? 0);
            return hash;
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)AsArray()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    internal static class EquatableArray
    {
        public static EquatableArray<T> From<T>(IEnumerable<T> items) where T : IEquatable<T> =>
            new EquatableArray<T>(new List<T>(items).ToArray());
    }
}
