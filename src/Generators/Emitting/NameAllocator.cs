using System;
using System.Collections.Generic;
using Gen.Generators.Model;

namespace Gen.Generators.Emitting
{
    /// <summary>
    /// Hands out the layer-specific identifiers of one generated model class (a layer's method, its kernels, weights and
    /// tables). A base name is taken together with every suffix the emitters append to it, and only when none of the
    /// resulting names is used already: by a fixed generated member or a type the generated code refers to
    /// (<see cref="GeneratedNames"/>), by the user's class (its members, inherited ones, its own name) or by another
    /// layer. So, whatever the layer names are (<c>run_rows</c>, <c>fc</c> beside <c>fc.scalar</c>, ...), no two members
    /// of the class end up with the same name.
    /// </summary>
    internal sealed class NameAllocator
    {
        private readonly HashSet<string> _used = new HashSet<string>(StringComparer.Ordinal);

        public NameAllocator(ModelPlan plan)
        {
            _used.UnionWith(GeneratedNames.All(plan.IsTransformer));
            _used.UnionWith(plan.TakenNames);
            _used.Add(plan.ClassName);
        }

        /// <summary>
        /// The first of <paramref name="wanted"/>, <paramref name="fallback"/> (when given), then the fallback (or the
        /// wanted name) followed by <c>_2</c>, <c>_3</c>, ... that is free with each of <paramref name="suffixes"/>
        /// (which include the empty one for the name itself); all those names are then taken.
        /// </summary>
        public string Take(string wanted, string? fallback, IReadOnlyList<string> suffixes)
        {
            if (TryTake(wanted, suffixes)) return wanted;
            if (fallback != null && TryTake(fallback, suffixes)) return fallback;
            string stem = fallback ?? wanted;
            for (int n = 2; ; n++)
            {
                string candidate = stem + "_" + CodeWriter.Int(n);
                if (TryTake(candidate, suffixes)) return candidate;
            }
        }

        private bool TryTake(string name, IReadOnlyList<string> suffixes)
        {
            foreach (string suffix in suffixes)
            {
                string full = name + suffix;
                if (_used.Contains(full) || GeneratedNames.IsNumbered(full)) return false;
            }

            foreach (string suffix in suffixes) _used.Add(name + suffix);
            return true;
        }
    }
}
