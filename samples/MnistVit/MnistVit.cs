namespace Gen.Samples.MnistVit
{
    /// <summary>
    /// The MNIST vision transformer, integer-only. Every activation's scale and zero point comes from
    /// Data/mnist_vit.calibration.txt (written by <c>gen-calibrate transformer</c>), which Gen finds beside the weights.
    /// </summary>
    [QuantizedModel("mnist_vit.safetensors")]
    [ModelInput(784)]
    [PatchEmbedding("embed", 28, 28, 7, 64)]
    [EncoderLayer("blocks.0", Heads = 4, HeadSize = 16, FeedForward = 128)]
    [EncoderLayer("blocks.1", Heads = 4, HeadSize = 16, FeedForward = 128)]
    [LayerNorm("norm")]
    [MeanPool]
    [Dense("head", 10)]
    public static partial class MnistVit
    {
    }
}
