namespace Gen.Benchmarks
{
    // One generated single-layer model per distinct K x N of the benchmarked shapes. The weights are random
    // (GenerateWeights.targets): w ~ N(0, 1/sqrt(K)), quantized per channel by Gen at build time. The input scale and
    // the output scale are chosen so that the requantization multiplier S_in * S_w / S_out is below 1 and the
    // outputs spread over the INT8 range without being all clamped (SelfCheck prints their spread).

    /// <summary>784 inputs, 128 outputs (the first layer of the MNIST MLP).</summary>
    [QuantizedModel("Weights/k784_n128.safetensors")]
    [ModelInput(784, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 128, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense784x128 { }

    /// <summary>768 inputs, 768 outputs (a BERT-base projection).</summary>
    [QuantizedModel("Weights/k768_n768.safetensors")]
    [ModelInput(768, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 768, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense768x768 { }

    /// <summary>256 inputs, 256 outputs.</summary>
    [QuantizedModel("Weights/k256_n256.safetensors")]
    [ModelInput(256, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 256, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense256x256 { }

    /// <summary>64 inputs, 256 outputs.</summary>
    [QuantizedModel("Weights/k64_n256.safetensors")]
    [ModelInput(64, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 256, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense64x256 { }

    /// <summary>768 inputs, 3072 outputs (a BERT-base feed-forward expansion).</summary>
    [QuantizedModel("Weights/k768_n3072.safetensors")]
    [ModelInput(768, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 3072, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense768x3072 { }

    /// <summary>3072 inputs, 768 outputs (a BERT-base feed-forward contraction).</summary>
    [QuantizedModel("Weights/k3072_n768.safetensors")]
    [ModelInput(3072, Scale = 0.02f, ZeroPoint = 3)]
    [Dense("fc", 768, OutputScale = 0.05f, OutputZeroPoint = -2)]
    public static partial class Dense3072x768 { }

    // The vision transformers. Every scale and zero point comes from the calibration file beside the weights
    // (<weights stem>.calibration.txt, written by gen-calibrate transformer), which the generator reads by itself.

    /// <summary>
    /// The MNIST vision transformer of samples/MnistVit (trained weights, 28 x 28 x 1, 7 x 7 patches = 16 tokens,
    /// width 64, 2 encoder layers of 4 heads and feed-forward 128, 10 classes).
    /// </summary>
    [QuantizedModel("samples/MnistVit/Data/mnist_vit.safetensors")]
    [ModelInput(784)]
    [PatchEmbedding("embed", 28, 28, 7, 64)]
    [EncoderLayer("blocks.0", Heads = 4, FeedForward = 128)]
    [EncoderLayer("blocks.1", Heads = 4, FeedForward = 128)]
    [LayerNorm("norm")]
    [MeanPool]
    [Dense("head", 10)]
    public static partial class MnistVit { }

    /// <summary>
    /// A larger random vision transformer (GenerateTransformer.targets): 32 x 32 x 3, 4 x 4 patches = 64 tokens,
    /// width 256, 4 encoder layers of 4 heads and feed-forward 1024, 10 outputs.
    /// </summary>
    [QuantizedModel("Weights/vit256.safetensors")]
    [ModelInput(3072)]
    [PatchEmbedding("embed", 32, 32, 4, 256, Channels = 3)]
    [EncoderLayer("blocks.0", Heads = 4, FeedForward = 1024)]
    [EncoderLayer("blocks.1", Heads = 4, FeedForward = 1024)]
    [EncoderLayer("blocks.2", Heads = 4, FeedForward = 1024)]
    [EncoderLayer("blocks.3", Heads = 4, FeedForward = 1024)]
    [LayerNorm("norm")]
    [MeanPool]
    [Dense("head", 10)]
    public static partial class Vit256 { }
}
