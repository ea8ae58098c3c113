using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gen.Runtime.Graph
{
    /// <summary>What is wrong with a model's declaration, weights or parameters. Each kind is one diagnostic ID of the generator.</summary>
    public enum ModelProblem
    {
        /// <summary>A tensor the declaration needs is not in the weights file (GEN004). Arguments: part, tensor, tensors present.</summary>
        TensorMissing,

        /// <summary>A tensor has the wrong shape (GEN005). Arguments: tensor, its shape, what is declared.</summary>
        ShapeMismatch,

        /// <summary>A transformer constant is out of the supported range (GEN013). Argument: the message.</summary>
        OutOfRange,

        /// <summary>A weight or bias is NaN or infinite (GEN011). Argument: the message.</summary>
        NotFinite,

        /// <summary>A tensor has a data type or an option Gen cannot use (GEN010). Argument: the message.</summary>
        UnsupportedType,

        /// <summary>A dense requantization multiplier is 1 or more, or below 2^-32 (GEN008). Arguments: layer, channel, value, why.</summary>
        MultiplierOutOfRange,

        /// <summary>An INT32 accumulator could overflow (GEN009). Arguments: layer, channel, bound, cause.</summary>
        AccumulatorOverflow,

        /// <summary>The declaration is inconsistent (GEN011). Argument: the message.</summary>
        InvalidDeclaration,

        /// <summary>A scale in the weights is not positive and finite (GEN006). Arguments: what, value.</summary>
        ScaleInvalid,

        /// <summary>
        /// An integer quantity of an op other than a dense accumulator (a score, a sum of exps, a product of a
        /// requantization, ...) could overflow its type (GEN017). Arguments: the op, the quantity, its worst case, the limit, the fix.
        /// </summary>
        IntermediateOverflow,
    }

    /// <summary>
    /// One problem, found where an op validates itself: its kind, the declaration it belongs to (<see cref="GraphNode.Origin"/>),
    /// the generator's message arguments, and the whole sentence for an exception.
    /// </summary>
    /// <param name="Kind">What is wrong (one diagnostic ID).</param>
    /// <param name="Origin">The declaration of the node at fault (<see cref="GraphNode.Origin"/>).</param>
    /// <param name="Message">The whole sentence.</param>
    /// <param name="Arguments">The diagnostic's message arguments, in its format's order.</param>
    public sealed record GraphProblem(ModelProblem Kind, int Origin, string Message, ValueList<string> Arguments)
    {
        /// <summary>A problem whose only argument is its message.</summary>
        public static GraphProblem Simple(ModelProblem kind, int origin, string message) =>
            new GraphProblem(kind, origin, message, new ValueList<string>(new[] { message }));
    }

    /// <summary>The problems a walk found, in the order found.</summary>
    public sealed class ProblemList
    {
        private readonly List<GraphProblem> _problems = new List<GraphProblem>();

        /// <summary>Everything reported so far.</summary>
        public IReadOnlyList<GraphProblem> All => _problems;

        /// <summary>Whether anything was reported.</summary>
        public bool Any => _problems.Count > 0;

        /// <summary>Adds a problem.</summary>
        public void Add(GraphProblem problem) => _problems.Add(problem);

        /// <summary>Adds a problem whose only argument is its message.</summary>
        public void Add(ModelProblem kind, int origin, string message) => _problems.Add(GraphProblem.Simple(kind, origin, message));

        /// <summary>Adds a problem with the generator's message arguments.</summary>
        public void Add(ModelProblem kind, int origin, string message, params string[] arguments) =>
            _problems.Add(new GraphProblem(kind, origin, message, new ValueList<string>(arguments)));

        /// <summary>Throws the first problem as a <see cref="ModelDefinitionException"/> (the run-time form of the channel).</summary>
        public void ThrowIfAny()
        {
            if (_problems.Count > 0) throw new ModelDefinitionException(_problems[0]);
        }
    }

    /// <summary>A model's weights or parameters do not fit its declaration (the first <see cref="GraphProblem"/> found).</summary>
    /// <remarks>An <see cref="ArgumentException"/>: the weights or parameters passed in are what is wrong.</remarks>
    public sealed class ModelDefinitionException : ArgumentException
    {
        /// <summary>Creates the exception.</summary>
        public ModelDefinitionException(GraphProblem problem)
            : base(problem.Message) => Problem = problem;

        /// <summary>The problem.</summary>
        public GraphProblem Problem { get; }
    }

    /// <summary>Number formatting for messages.</summary>
    internal static class Text
    {
        public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

        public static string Shape(IReadOnlyList<int> shape)
        {
            var parts = new string[shape.Count];
            for (int i = 0; i < parts.Length; i++) parts[i] = Int(shape[i]);
            return "[" + string.Join(", ", parts) + "]";
        }

        /// <summary>
        /// An exception's message for a diagnostic: without the " (Parameter 'real')" and "Actual value was ..." that
        /// ArgumentException and ArgumentOutOfRangeException append (in either runtime's wording).
        /// </summary>
        public static string Reason(Exception e)
        {
            string message = e.Message;
            if (e is ArgumentException)
            {
                foreach (string marker in new[] { " (Parameter '", "\r\nParameter name:", "\nParameter name:", "\r\nActual value was", "\nActual value was" })
                {
                    int at = message.IndexOf(marker, StringComparison.Ordinal);
                    if (at >= 0) message = message.Substring(0, at);
                }
            }

            return message.TrimEnd();
        }
    }
}
