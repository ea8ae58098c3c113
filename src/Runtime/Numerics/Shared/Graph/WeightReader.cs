using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Gen.Runtime.Graph
{
    /// <summary>
    /// The one way every op reads its tensors: by name, with the shape checked against what the declaration implies and
    /// every value checked finite. Each problem goes to the walk's <see cref="ProblemList"/> with the node's origin;
    /// nothing throws.
    /// </summary>
    public sealed class WeightReader
    {
        private readonly SafeTensorsFile _file;
        private readonly ProblemList _problems;

        /// <summary>Reads from <paramref name="file"/>, reporting to <paramref name="problems"/>.</summary>
        public WeightReader(SafeTensorsFile file, ProblemList problems)
        {
            _file = file;
            _problems = problems;
        }

        /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
        public SafeTensor? Find(string name) => _file.Tensors.TryGetValue(name, out var tensor) ? tensor : null;

        /// <summary>The file's tensor names for a message: the first twelve in order, then "...".</summary>
        public string TensorList()
        {
            var names = _file.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).Take(12).ToList();
            return names.Count == 0 ? "no tensors" : string.Join(", ", names) + (_file.Tensors.Count > 12 ? ", ..." : "");
        }

        /// <summary>Reports that <paramref name="part"/> needs <paramref name="tensor"/>, which the file does not have.</summary>
        public void Missing(int origin, string part, string tensor, string shape)
        {
            string list = TensorList();
            _problems.Add(ModelProblem.TensorMissing, origin,
                $"'{part}' needs the tensor '{tensor}' of shape {shape}, which the weights file does not have (it has: {list}).", part, tensor, list);
        }

        /// <summary>
        /// A required F32 tensor whose shape is one of <paramref name="shapes"/> (the first is the one named in messages,
        /// <paramref name="expected"/> overrides the text), or null after reporting why not.
        /// </summary>
        public float[]? Float(int origin, string part, string name, string? expected, params int[][] shapes)
        {
            var tensor = Find(name);
            if (tensor is null)
            {
                Missing(origin, part, name, Text.Shape(shapes[0]));
                return null;
            }

            return Check(origin, part, tensor, expected, shapes);
        }

        /// <summary>
        /// An optional F32 tensor: true with null when the file has none, true with the values when it is right, false
        /// after reporting why it cannot be used.
        /// </summary>
        public bool OptionalFloat(int origin, string part, string name, int length, out float[]? values)
        {
            values = null;
            var tensor = Find(name);
            if (tensor is null) return true;
            values = Check(origin, part, tensor, null, new[] { length });
            return values != null;
        }

        /// <summary>Reports a tensor whose shape is not the declared one.</summary>
        public void WrongShape(int origin, SafeTensor tensor, string expected) =>
            _problems.Add(ModelProblem.ShapeMismatch, origin, $"'{tensor.Name}' has shape {tensor.ShapeText}; the model declares {expected}.",
                tensor.Name, tensor.ShapeText, expected);

        /// <summary>Checks a tensor's shape, type and values; the values, or null after reporting.</summary>
        public float[]? Check(int origin, string part, SafeTensor tensor, string? expected, params int[][] shapes)
        {
            if (!shapes.Any(s => s.AsSpan().SequenceEqual(tensor.Shape)))
            {
                WrongShape(origin, tensor, expected ?? string.Join(" or ", shapes.Select(s => Text.Shape(s))) + $" ('{part}')");
                return null;
            }

            if (tensor.DataType != "F32")
            {
                _problems.Add(ModelProblem.UnsupportedType, origin,
                    $"Layer '{part}': '{tensor.Name}' is {tensor.DataType}; this tensor must be F32 (Gen quantizes it at build time)");
                return null;
            }

            float[] values = _file.ReadFloat32(tensor);
            return Finite(origin, part, tensor.Name, values) ? values : null;
        }

        /// <summary>Whether every value is finite; reports the first that is not.</summary>
        public bool Finite(int origin, string part, string tensor, float[] values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                {
                    _problems.Add(ModelProblem.NotFinite, origin, string.Format(CultureInfo.InvariantCulture,
                        "Layer '{0}': '{1}' element {2} is {3}; weights must be finite", part, tensor, i, values[i]));
                    return false;
                }
            }

            return true;
        }

        /// <summary>The file's raw readers, for ops that accept other types (pre-quantized dense weights).</summary>
        public SafeTensorsFile File => _file;

        /// <summary>Where problems go.</summary>
        public ProblemList Problems => _problems;
    }
}
