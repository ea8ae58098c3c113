#!/usr/bin/env bash
# Regenerates src/Import/Onnx/Proto/Onnx.g.cs from src/Import/Onnx/Proto/onnx-subset.proto with the protoc of the
# Google.Protobuf.Tools NuGet package (restored by the Gen.Import project's PackageDownload). The generated types are
# internal: the public surface is Gen.Import.OnnxModel.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(sed -n 's:.*<GenProtobufVersion>\(.*\)</GenProtobufVersion>.*:\1:p' "$root/src/Directory.Build.props")"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
tools="$packages/google.protobuf.tools/$version/tools"
if [ ! -d "$tools" ]; then
  dotnet restore "$root/src/Import/Gen.Import.csproj" >/dev/null
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) protoc="$tools/linux_x64/protoc" ;;
  Linux-aarch64) protoc="$tools/linux_aarch64/protoc" ;;
  Darwin-*) protoc="$tools/macosx_x64/protoc" ;;
  *) protoc="$tools/windows_x64/protoc.exe" ;;
esac
chmod +x "$protoc" 2>/dev/null || true
cd "$root/src/Import/Onnx/Proto"
"$protoc" --proto_path=. --csharp_out=. --csharp_opt=internal_access,file_extension=.g.cs onnx-subset.proto
echo "wrote src/Import/Onnx/Proto/$(ls *.g.cs)"
