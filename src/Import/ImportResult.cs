namespace Gen.Import
{
    /// <summary>
    /// The outcome of reading an imported model: a value, or an error message saying what is wrong and where (the
    /// tensor, node or byte). Gen's importers never throw for bad input: the generator turns an error into a
    /// diagnostic at the declaring attribute, a program into a message for its user.
    /// </summary>
    /// <typeparam name="T">What was read.</typeparam>
    public sealed class ImportResult<T>
        where T : class
    {
        private ImportResult(T? value, string? error)
        {
            Value = value;
            Error = error;
        }

        /// <summary>What was read; <see langword="null"/> when <see cref="Error"/> is set.</summary>
        public T? Value { get; }

        /// <summary>Why nothing was read; <see langword="null"/> on success.</summary>
        public string? Error { get; }

        /// <summary>Whether <see cref="Value"/> holds the result.</summary>
        public bool Succeeded => Value != null;

        /// <summary>A result holding <paramref name="value"/>.</summary>
        public static ImportResult<T> Success(T value) => new ImportResult<T>(value, null);

        /// <summary>A failed result with the message <paramref name="error"/>.</summary>
        public static ImportResult<T> Failure(string error) => new ImportResult<T>(null, error);

        /// <inheritdoc />
        public override string ToString() => Succeeded ? "ok: " + Value : "error: " + Error;
    }
}
