using Gen;

namespace Gen.Samples.Mnist
{
    // The whole model declaration. The scales and zero points come from max calibration on the 8,000 training
    // digits (Training/train_mlp.py writes them to Data/mnist_mlp.calibration.txt); the weights are the float32
    // tensors PyTorch saved, quantized by Gen at build time.
    [QuantizedModel("Data/mnist_mlp.safetensors")]
    [ModelInput(784, Scale = 0.003921569f, ZeroPoint = -128)]
    [Dense("fc1", 128, Activation = Activation.Relu, OutputScale = 0.061932486f, OutputZeroPoint = -128)]
    [Dense("fc2", 10, OutputScale = 0.2284767f, OutputZeroPoint = 25)]
    public static partial class MnistMlp
    {
    }
}
