using System;

namespace Gen
{
    /// <summary>
    /// Declares an integer-only model on a <c>partial</c> class. At build time Gen reads the weights file,
    /// quantizes it, and generates <c>Run</c> and its kernels with every shape and scale a literal. Declare the input
    /// with <see cref="ModelInputAttribute"/> and the layers, in order, with <see cref="DenseAttribute"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// [QuantizedModel("mnist_mlp.safetensors")]
    /// [ModelInput(784, Scale = 0.003921569f, ZeroPoint = -128)]
    /// [Dense("fc1", 128, Activation = Activation.Relu, OutputScale = 0.061932486f, OutputZeroPoint = -128)]
    /// [Dense("fc2", 10, OutputScale = 0.2284767f, OutputZeroPoint = 25)]
    /// public static partial class MnistMlp { }
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class QuantizedModelAttribute : Attribute
    {
        /// <summary>Declares a model whose weights are in <paramref name="weightsFile"/>.</summary>
        /// <param name="weightsFile">A <c>.safetensors</c> file (as PyTorch saves it), by its path relative to the
        /// project folder (inside it or not, for example <c>../shared/mlp.safetensors</c>), or just its file name when
        /// only one <c>*.safetensors</c> file under the project folder has it.</param>
        public QuantizedModelAttribute(string weightsFile) => WeightsFile = weightsFile;

        /// <summary>The weights file, as written in the attribute.</summary>
        public string WeightsFile { get; }

        /// <summary>
        /// A quantization-parameter file (lines <c>name scale zero_point [min max]</c>, as the calibration tool writes
        /// them) that supplies every scale and zero point the attributes leave out. Optional: by default Gen looks
        /// for <c>&lt;weights file name&gt;.calibration.txt</c> beside the weights. Values written in the attributes win.
        /// </summary>
        public string? Calibration { get; set; }
    }

    /// <summary>The model's input: a vector of INT8 values with their quantization.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class ModelInputAttribute : Attribute
    {
        /// <summary>Declares an input of <paramref name="size"/> values.</summary>
        public ModelInputAttribute(int size) => Size = size;

        /// <summary>Values per input row.</summary>
        public int Size { get; }

        /// <summary>Real value of one INT8 step of the input (positive, finite). Leave it out to take it from the
        /// calibration file's <c>input</c> line.</summary>
        public float Scale { get; set; }

        /// <summary>The INT8 value that represents real 0, in [-128, 127].</summary>
        public int ZeroPoint { get; set; }
    }

    /// <summary>
    /// A fully connected (dense, PyTorch <c>nn.Linear</c>) layer. Its tensors are <c>{Name}.weight</c> of shape
    /// [outputs, inputs] and the optional <c>{Name}.bias</c> of shape [outputs].
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DenseAttribute : Attribute
    {
        /// <summary>Declares the layer whose tensors are prefixed <paramref name="name"/>, with
        /// <paramref name="outputs"/> output features.</summary>
        public DenseAttribute(string name, int outputs)
        {
            Name = name;
            Outputs = outputs;
        }

        /// <summary>The tensor-name prefix, e.g. <c>fc1</c>.</summary>
        public string Name { get; }

        /// <summary>Output features.</summary>
        public int Outputs { get; }

        /// <summary>The activation fused into the output clamp.</summary>
        public Activation Activation { get; set; }

        /// <summary>Real value of one INT8 step of the output (positive, finite). Leave it out to take it from the
        /// calibration file's line for this layer.</summary>
        public float OutputScale { get; set; }

        /// <summary>The INT8 output value that represents real 0, in [-128, 127].</summary>
        public int OutputZeroPoint { get; set; }

        /// <summary>How float weights are quantized (ignored for already-quantized INT8 weights, whose scales
        /// come from the file).</summary>
        public WeightQuantization Weights { get; set; }
    }

    /// <summary>Activations that fuse into a layer's output clamp.</summary>
    public enum Activation
    {
        /// <summary>None: outputs are clamped to the INT8 range only.</summary>
        None = 0,

        /// <summary>max(x, 0).</summary>
        Relu = 1,

        /// <summary>min(max(x, 0), 6).</summary>
        Relu6 = 2,
    }

    /// <summary>Granularity of the symmetric INT8 weight scales.</summary>
    public enum WeightQuantization
    {
        /// <summary>One scale per output channel, <c>max |w[n, :]| / 127</c>: the most accurate, the default.</summary>
        PerChannel = 0,

        /// <summary>One scale for the whole tensor, <c>max |w| / 127</c>.</summary>
        PerTensor = 1,
    }
}
