using System;
using System.IO;
using Gen.Samples.Mnist;

// MNIST end to end: float32 accuracy and latency, then the generated integer-only model's, on the 2,000 held-out
// digits. Everything after the quantization of the input is integer arithmetic in MnistMlp.Run.
string dataDirectory = Path.Combine(AppContext.BaseDirectory, "Data");
var data = MnistData.Load(dataDirectory);
var floatModel = new FloatMlp(Path.Combine(dataDirectory, "mnist_mlp.safetensors"));
int first = MnistData.TrainingCount, count = data.Count - first;

// Inputs as the model was trained on them: pixel / 255, then quantized once with the model's own helper.
var floats = new float[count * MnistData.Pixels];
for (int i = 0; i < floats.Length; i++) floats[i] = data.Images[first * MnistData.Pixels + i] / 255f;
var quantized = new sbyte[floats.Length];
MnistMlp.QuantizeInput(floats, quantized);

Span<float> hidden = stackalloc float[128];
Span<float> logits = stackalloc float[MnistMlp.OutputSize];
Span<sbyte> output = stackalloc sbyte[MnistMlp.OutputSize];

int floatCorrect = 0, intCorrect = 0, agree = 0;
ulong checksum = 14695981039346656037; // FNV-1a over every INT8 output: compare JIT and NativeAOT runs
var predictions = new int[count];
var rowOutputs = new sbyte[count * MnistMlp.OutputSize];
for (int n = 0; n < count; n++)
{
    floatModel.Run(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), hidden, logits);
    int floatPrediction = SampleTiming.ArgMax(logits);
    MnistMlp.Run(quantized.AsSpan(n * MnistData.Pixels, MnistData.Pixels), output);
    output.CopyTo(rowOutputs.AsSpan(n * MnistMlp.OutputSize));
    int intPrediction = MnistMlp.ArgMax(output);
    predictions[n] = intPrediction;
    foreach (sbyte v in output) checksum = (checksum ^ (byte)v) * 1099511628211;
    int label = data.Labels[first + n];
    floatCorrect += floatPrediction == label ? 1 : 0;
    intCorrect += intPrediction == label ? 1 : 0;
    agree += floatPrediction == intPrediction ? 1 : 0;
}

// The batched overload runs blocks of four rows through other kernels; it must give the same bits.
var batchOutputs = new sbyte[count * MnistMlp.OutputSize];
MnistMlp.Run(quantized, batchOutputs, count);
bool batchAgrees = batchOutputs.AsSpan().SequenceEqual(rowOutputs);

double floatAccuracy = 100.0 * floatCorrect / count, intAccuracy = 100.0 * intCorrect / count;
double floatMicros = SampleTiming.Time(() =>
{
    Span<float> h = stackalloc float[128];
    Span<float> z = stackalloc float[MnistMlp.OutputSize];
    for (int n = 0; n < count; n++) floatModel.Run(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), h, z);
}, count);
double quantizeMicros = SampleTiming.Time(() =>
{
    Span<sbyte> q = stackalloc sbyte[MnistMlp.InputSize];
    for (int n = 0; n < count; n++) MnistMlp.QuantizeInput(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), q);
}, count);
double intMicros = SampleTiming.Time(() =>
{
    Span<sbyte> y = stackalloc sbyte[MnistMlp.OutputSize];
    for (int n = 0; n < count; n++) MnistMlp.Run(quantized.AsSpan(n * MnistData.Pixels, MnistData.Pixels), y);
}, count);

Console.WriteLine($"MNIST MLP {MnistMlp.InputSize}-128-{MnistMlp.OutputSize}, {count} held-out digits ({(System.Runtime.JitInfo.GetCompiledMethodCount() == 0 ? "NativeAOT" : "JIT")}, kernels {MnistMlp.ActivePath}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
Console.WriteLine($"  float32 accuracy:           {floatAccuracy:F2} %   {floatMicros,7:F2} us per inference");
Console.WriteLine($"  INT8 integer-only accuracy: {intAccuracy:F2} %   {intMicros,7:F2} us per inference (Run; QuantizeInput of the 784 floats adds {quantizeMicros:F2} us)");
Console.WriteLine($"  difference: {intAccuracy - floatAccuracy:+0.00;-0.00;0.00} points; the two agree on {agree} of {count} digits");
Console.WriteLine($"  first predictions: {string.Join(" ", predictions[..20])}");
Console.WriteLine($"  output checksum: {checksum:x16}");
Console.WriteLine($"  batched Run (blocks of 4 rows) equals one row at a time: {(batchAgrees ? "yes" : "NO")}");
return Math.Abs(intAccuracy - floatAccuracy) <= 0.5 && batchAgrees ? 0 : 1;
