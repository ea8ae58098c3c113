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
}
