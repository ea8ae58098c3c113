using System;
using System.Collections.Generic;
using System.Globalization;
using Gen.Import.Onnx.Proto;
using Google.Protobuf;

namespace Gen.Import
{
    /// <summary>
    /// An ONNX model read from the bytes of a <c>.onnx</c> file with Google.Protobuf (over the subset of the ONNX schema
    /// in <c>src/Import/Onnx/Proto/onnx-subset.proto</c>), then checked: every tensor's data matches its type and shape and
    /// is inside the file, and the graph is well formed and acyclic (see <see cref="OnnxGraph"/>). <see cref="Read"/>
    /// never throws; a truncated, corrupted or hostile file is an error result whose message says what is wrong.
    /// </summary>
    public sealed class OnnxModel
    {
        private readonly Dictionary<string, long> _opsets;
        private readonly Dictionary<string, string> _metadata;

        private OnnxModel(long irVersion, string producerName, string producerVersion, Dictionary<string, long> opsets, Dictionary<string, string> metadata, OnnxGraph graph)
        {
            IrVersion = irVersion;
            ProducerName = producerName;
            ProducerVersion = producerVersion;
            _opsets = opsets;
            _metadata = metadata;
            Graph = graph;
        }

        /// <summary>The ONNX IR version of the file (e.g. 7 for files of ONNX 1.6 to 1.9).</summary>
        public long IrVersion { get; }

        /// <summary>The program that wrote the file, e.g. <c>pytorch</c>.</summary>
        public string ProducerName { get; }

        /// <summary>That program's version, e.g. <c>1.10</c>.</summary>
        public string ProducerVersion { get; }

        /// <summary>The operator set versions by domain (the standard operators under the empty domain).</summary>
        public IReadOnlyDictionary<string, long> Opsets => _opsets;

        /// <summary>The version of the standard operator set the graph uses (e.g. 13).</summary>
        public long OpsetVersion => _opsets.TryGetValue("", out long v) ? v : 0;

        /// <summary>The model's metadata properties.</summary>
        public IReadOnlyDictionary<string, string> Metadata => _metadata;

        /// <summary>The main graph.</summary>
        public OnnxGraph Graph { get; }

        /// <summary>Reads a model from the whole bytes of a <c>.onnx</c> file. Never throws.</summary>
        public static ImportResult<OnnxModel> Read(byte[] bytes)
        {
            try
            {
                return ReadChecked(bytes);
            }
            catch (Exception e)
            {
                // Nothing above is known to throw for any input; this keeps the promise if a library ever does.
                return ImportResult<OnnxModel>.Failure($"The ONNX file could not be read ({e.GetType().Name}: {e.Message}).");
            }
        }

        private static ImportResult<OnnxModel> ReadChecked(byte[] bytes)
        {
            if (bytes == null || bytes.Length == 0) return ImportResult<OnnxModel>.Failure("The ONNX file is empty.");
            if (IsGitLfsPointer(bytes))
            {
                return ImportResult<OnnxModel>.Failure("This is a Git LFS pointer file, not the model: the repository was cloned without its LFS objects. Run 'git lfs pull' (or download the real file) and rebuild.");
            }

            ModelProto proto;
            try
            {
                proto = ModelProto.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                return ImportResult<OnnxModel>.Failure($"The file is not a readable ONNX model: the protobuf data is truncated or corrupted ({e.Message}).");
            }

            if (!proto.HasIrVersion || proto.IrVersion <= 0)
            {
                return ImportResult<OnnxModel>.Failure(proto.HasIrVersion
                    ? $"The file gives the IR version {proto.IrVersion.ToString(CultureInfo.InvariantCulture)}; an ONNX model's is 1 or more."
                    : "The file has no IR version: it is not an ONNX model (or its start is corrupted).");
            }

            if (proto.Graph == null) return ImportResult<OnnxModel>.Failure("The ONNX model has no graph.");

            var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var opset in proto.OpsetImport)
            {
                string domain = opset.Domain == "ai.onnx" ? "" : opset.Domain;
                if (opsets.ContainsKey(domain))
                {
                    return ImportResult<OnnxModel>.Failure($"The model imports the operator set '{(domain.Length == 0 ? "ai.onnx" : domain)}' twice.");
                }

                opsets[domain] = opset.Version;
            }

            if (!opsets.ContainsKey("") && proto.IrVersion >= 3)
            {
                return ImportResult<OnnxModel>.Failure("The model imports no version of the standard operator set (opset_import is missing 'ai.onnx').");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in proto.MetadataProps) metadata[entry.Key] = entry.Value;

            var graph = OnnxGraph.Create(proto.Graph);
            if (!graph.Succeeded) return ImportResult<OnnxModel>.Failure(graph.Error!);
            return ImportResult<OnnxModel>.Success(new OnnxModel(proto.IrVersion, proto.ProducerName, proto.ProducerVersion, opsets, metadata, graph.Value!));
        }

        /// <summary>A Git LFS pointer is a small text file that starts with this line instead of the model.</summary>
        private static bool IsGitLfsPointer(byte[] bytes)
        {
            const string Pointer = "version https://git-lfs.github.com/spec/";
            if (bytes.Length < Pointer.Length || bytes.Length > 1024) return false;
            for (int i = 0; i < Pointer.Length; i++)
            {
                if (bytes[i] != Pointer[i]) return false;
            }

            return true;
        }

        /// <inheritdoc />
        public override string ToString() =>
            $"ONNX IR {IrVersion.ToString(CultureInfo.InvariantCulture)}, opset {OpsetVersion.ToString(CultureInfo.InvariantCulture)}, {ProducerName} {ProducerVersion}: {Graph.Nodes.Count.ToString(CultureInfo.InvariantCulture)} nodes, {Graph.InitializerList.Count.ToString(CultureInfo.InvariantCulture)} initializers";
    }
}
