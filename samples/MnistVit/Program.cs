using System;
using System.Collections.Generic;
using System.IO;
using Gen.Runtime;
using Gen.Runtime.Graph;
using Gen.Runtime.Interpreter;
using Gen.Samples.Mnist;
using Gen.Samples.MnistVit;

// The MNIST vision transformer end to end: float32 accuracy and latency, then the generated integer-only model's,
// on the 2,000 held-out digits; then, activation by activation, how far the integers are from the floats.
string dataDirectory = Path.Combine(AppContext.BaseDirectory, "Data");
var data = MnistData.Load(dataDirectory);
var shape = new TransformerShape(28, 28, 1, 7, 64, "embed",
    new[] { new EncoderLayerShape("blocks.0", 4, 128), new EncoderLayerShape("blocks.1", 4, 128) }, "norm",
    new[] { new HeadLayerShape("head", 10) });
var weights = SafeTensorsFile.Parse(File.ReadAllBytes(Path.Combine(dataDirectory, "mnist_vit.safetensors")));
var floatModel = FloatModel.VisionTransformer(weights, shape);
int first = MnistData.TrainingCount, count = data.Count - first;

// Inputs as the model was trained on them: pixel / 255, quantized once with the model's own helper.
var floats = new float[count * MnistData.Pixels];
for (int i = 0; i < floats.Length; i++) floats[i] = data.Images[first * MnistData.Pixels + i] / 255f;
var quantized = new sbyte[floats.Length];
MnistVit.QuantizeInput(floats, quantized);

var logits = new float[MnistVit.OutputSize];
var output = new sbyte[MnistVit.OutputSize];
int floatCorrect = 0, intCorrect = 0, agree = 0;
ulong checksum = 14695981039346656037; // FNV-1a over every INT8 output: compare JIT and NativeAOT runs
var rowOutputs = new sbyte[count * MnistVit.OutputSize];
for (int n = 0; n < count; n++)
{
    floatModel.Run(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), logits);
    int floatPrediction = SampleTiming.ArgMax(logits);
    MnistVit.Run(quantized.AsSpan(n * MnistData.Pixels, MnistData.Pixels), output);
    output.CopyTo(rowOutputs.AsSpan(n * MnistVit.OutputSize));
    int intPrediction = MnistVit.ArgMax(output);
    foreach (sbyte v in output) checksum = (checksum ^ (byte)v) * 1099511628211;
    int label = data.Labels[first + n];
    floatCorrect += floatPrediction == label ? 1 : 0;
    intCorrect += intPrediction == label ? 1 : 0;
    agree += floatPrediction == intPrediction ? 1 : 0;
}

var batchOutputs = new sbyte[rowOutputs.Length];
MnistVit.Run(quantized, batchOutputs, count);
bool batchAgrees = batchOutputs.AsSpan().SequenceEqual(rowOutputs);

double floatMicros = SampleTiming.Time(() =>
{
    var z = new float[MnistVit.OutputSize];
    for (int n = 0; n < count; n++) floatModel.Run(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), z);
}, count);
double intMicros = SampleTiming.Time(() =>
{
    Span<sbyte> y = stackalloc sbyte[MnistVit.OutputSize];
    for (int n = 0; n < count; n++) MnistVit.Run(quantized.AsSpan(n * MnistData.Pixels, MnistData.Pixels), y);
}, count);

double floatAccuracy = 100.0 * floatCorrect / count, intAccuracy = 100.0 * intCorrect / count;
Console.WriteLine($"MNIST vision transformer ({shape}), {count} held-out digits");
Console.WriteLine($"  {(System.Runtime.JitInfo.GetCompiledMethodCount() == 0 ? "NativeAOT" : "JIT")}, kernels {MnistVit.ActivePath}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, one thread");
Console.WriteLine($"  float32 accuracy:           {floatAccuracy:F2} %   {floatMicros,7:F2} us per inference (FloatModel, SIMD)");
Console.WriteLine($"  INT8 integer-only accuracy: {intAccuracy:F2} %   {intMicros,7:F2} us per inference (generated MnistVit.Run)");
Console.WriteLine($"  difference: {intAccuracy - floatAccuracy:+0.00;-0.00;0.00} points; the two agree on {agree} of {count} digits; float / INT8 time: {floatMicros / intMicros:F2}x");
Console.WriteLine($"  output checksum: {checksum:x16}; batched Run equals one image at a time: {(batchAgrees ? "yes" : "NO")}");

// Where precision is lost: every activation of the integer model (the reference interpreter, which the generated
// code matches bit for bit) dequantized and compared with the float model's, over the first digits.
var parameters = QuantizationParameterFile.Parse(File.ReadAllText(Path.Combine(dataDirectory, "mnist_vit.calibration.txt")));
var interpreter = new ReferenceInterpreter(QuantizedGraph.Create(VisionTransformerFrontend.Build(shape), weights, name => parameters[name]));
const int tableDigits = 200;
var stats = new Dictionary<string, (double Dot, double FloatSquares, double IntSquares, double ErrorSquares)>();
var order = new List<string>();
var floatActivations = new Dictionary<string, float[]>();
int identical = 0;
var interpreted = new sbyte[MnistVit.OutputSize];
for (int n = 0; n < tableDigits; n++)
{
    floatModel.Run(floats.AsSpan(n * MnistData.Pixels, MnistData.Pixels), logits, (name, values) => floatActivations[name] = values.ToArray());
    interpreter.Run(quantized.AsSpan(n * MnistData.Pixels, MnistData.Pixels), interpreted, (name, values, q) =>
    {
        var f = floatActivations[name];
        stats.TryGetValue(name, out var s);
        if (s == default) order.Add(name);
        for (int i = 0; i < values.Length; i++)
        {
            double a = q.Scale * (values[i] - q.ZeroPoint), e = f[i];
            s.Dot += a * e;
            s.FloatSquares += e * e;
            s.IntSquares += a * a;
            s.ErrorSquares += (a - e) * (a - e);
        }

        stats[name] = s;
    });
    identical += interpreted.AsSpan().SequenceEqual(rowOutputs.AsSpan(n * MnistVit.OutputSize, MnistVit.OutputSize)) ? 1 : 0;
}

Console.WriteLine();
Console.WriteLine($"Integer activations against float32, over the first {tableDigits} held-out digits (cosine similarity; SQNR = signal / quantization noise):");
Console.WriteLine($"  {"activation",-24} {"cosine",8} {"SQNR dB",8}");
foreach (var name in order)
{
    var s = stats[name];
    Console.WriteLine($"  {name,-24} {s.Dot / Math.Sqrt(s.FloatSquares * s.IntSquares),8:F4} {10 * Math.Log10(s.FloatSquares / s.ErrorSquares),8:F1}");
}

Console.WriteLine($"  (the reference interpreter and the generated code give identical outputs on {identical} of {tableDigits} digits)");
return Math.Abs(intAccuracy - floatAccuracy) <= 1.0 && batchAgrees && identical == tableDigits ? 0 : 1;
