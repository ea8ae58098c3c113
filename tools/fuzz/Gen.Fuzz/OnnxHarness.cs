extern alias generator;

using generator::Gen.Import;

namespace Gen.Fuzz
{
    /// <summary>
    /// The ONNX reader and the BERT import on arbitrary bytes, through the generator's copy of them (the instrumented
    /// Gen.Generators.dll compiles src/Import). Both return a value or an error and never throw; their last-resort
    /// handler, whose message says "could not be read (ExceptionType: ...)", must never be reached. An accepted model's
    /// tensors read to exactly their element count.
    /// </summary>
    public static class OnnxHarness
    {
        private const string LastResort = "could not be read (";

        public static void Run(byte[] bytes)
        {
            var model = OnnxModel.Read(bytes);
            if (!model.Succeeded)
            {
                if (string.IsNullOrEmpty(model.Error) || model.Error!.Contains(LastResort)) throw new FuzzFailure("the ONNX reader failed inside: " + model.Error);
                return;
            }

            foreach (var tensor in model.Value!.Graph.InitializerList)
            {
                var floats = tensor.ReadFloat32();
                if (floats.Succeeded && floats.Value!.Length != tensor.ElementCount) throw new FuzzFailure($"{tensor} read {floats.Value.Length} floats");
                var ints = tensor.ReadInt64();
                if (ints.Succeeded && ints.Value!.Length != tensor.ElementCount) throw new FuzzFailure($"{tensor} read {ints.Value.Length} integers");
            }

            var checkpoint = BertCheckpoint.FromOnnx(model.Value);
            if (!checkpoint.Succeeded && (string.IsNullOrEmpty(checkpoint.Error) || checkpoint.Error!.Contains(LastResort)))
            {
                throw new FuzzFailure("the BERT import failed inside: " + checkpoint.Error);
            }

            if (checkpoint.Succeeded)
            {
                foreach (var tensor in checkpoint.Value!.Tensors.Values)
                {
                    long count = 1;
                    foreach (int d in tensor.Shape) count *= d;
                    if (count != tensor.Data.Length) throw new FuzzFailure($"{tensor} has {tensor.Data.Length} values");
                }
            }
        }
    }
}
