#!/usr/bin/env bash
# Runs the benchmark suite twice, under the JIT and under NativeAOT, and rewrites benchmarks/RESULTS.md.
#   bash benchmarks/run.sh            all shapes
#   bash benchmarks/run.sh --quick    three small shapes
#   bash benchmarks/run.sh --bdn-aot  also try BenchmarkDotNet's NativeAOT toolchain first (it fails here: see RESULTS.md)
# JIT: the BenchmarkDotNet suite (one process per benchmark, built by BenchmarkDotNet).
# NativeAOT: the program itself is published with PublishAot (ILCompiler for net9.0) and IlcInstructionSet x86-x64-v4,
# and runs its Stopwatch harness on the same kernels.
set -uo pipefail
cd "$(dirname "$0")"
here=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

quick=""
bdn_aot=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick="--quick" ;;
    --bdn-aot) bdn_aot=1 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
isa=x86-x64-v4
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== build"
start=$(date +%s)
dotnet build Gen.Benchmarks/Gen.Benchmarks.csproj -c Release -v q -nologo || exit 1
build_seconds=$(( $(date +%s) - start ))

echo "== JIT (BenchmarkDotNet)"
start=$(date +%s)
(cd Gen.Benchmarks && dotnet run -c Release --no-build -- $quick --filter '*' --summary-out "$work/jit.md") | tee "$work/jit.log"
jit_seconds=$(( $(date +%s) - start ))
[ -s "$work/jit.md" ] || { echo "the JIT suite produced no results" >&2; exit 1; }

start=$(date +%s)
if [ "$bdn_aot" = 1 ]; then
  echo "== NativeAOT (BenchmarkDotNet NativeAOT toolchain)"
  (cd Gen.Benchmarks && dotnet run -c Release --no-build -- --nativeaot $quick --filter '*' --summary-out "$work/aot.md") | tee "$work/aot.log"
fi
if [ -s "$work/aot.md" ] && ! grep -q '| - | - ' "$work/aot.md"; then
  aot_mode="BenchmarkDotNet NativeAotToolchain (ILCompiler $(grep -o 'IlCompilerVersion = "[^"]*"' Gen.Benchmarks/Benchmarks.cs | cut -d'"' -f2), net9.0, linux-x64, IlcInstructionSet $isa), same job as the JIT run"
else
  echo "== NativeAOT: publishing the program with PublishAot and running its Stopwatch harness"
  dotnet publish Gen.Benchmarks/Gen.Benchmarks.csproj -c Release -r linux-x64 -o "$work/native" -v q -nologo || exit 1
  "$work/native/Gen.Benchmarks" $quick --summary-out "$work/aot.md" | tee "$work/aot.log"
  aot_mode="dotnet publish -r linux-x64 (PublishAot, ILCompiler for net9.0, IlcInstructionSet $isa), the program's Stopwatch harness (median of 15 samples of >= 20 ms)"
fi
aot_seconds=$(( $(date +%s) - start ))

runtimes=$(dotnet --list-runtimes | grep Microsoft.NETCore.App | awk '{print $2}' | paste -sd, -)
jit_runtime=$(grep -m1 -o 'JIT *: \.NET [0-9.]* ([^)]*)' "$work/jit.log" | sed 's/^JIT *: //')
aot_runtime=$(grep -m1 -o 'NativeAOT *: \.NET [0-9.]* ([^)]*)' "$work/aot.log" | sed 's/^NativeAOT *: //')
[ -n "$aot_runtime" ] || aot_runtime=$(grep -m1 ', NativeAOT, X64' "$work/aot.log")
{
  cat <<HEADER
# Benchmark results

Single-thread time per call of one dense layer, M rows of K INT8 inputs times a K x N layer (random weights,
w ~ N(0, 1/sqrt(K)), quantized per channel), and GMAC/s = M*K*N / time. **Generated** is Gen's generated
\`Run(inputs, outputs, M)\`; **NaiveScalar** is a plain triple loop with the same INT8 numerics (int accumulators,
TFLite requantization); **Float32** is the same layer in float32, a register-blocked AVX-512 FMA GEMM (4x32 tiles,
packed weight panels). The peak probes are register-only loops of independent chains: the ceiling for each
instruction mix on this core. Before timing, the program checks that Generated and NaiveScalar agree bit for bit and
that Float32 matches a plain loop. Regenerate this file with \`bash benchmarks/run.sh\` (about 10 to 20 minutes).

- Machine: $(lscpu | sed -n 's/^Model name: *//p') (CPU family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores; load average at start: $load_start
- .NET SDK $(dotnet --version); runtimes installed: $runtimes
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- JIT run: BenchmarkDotNet 0.14.0, ${jit_runtime:-.NET runtime}, RyuJIT, net9.0 build rolled forward to the installed runtime; 3 warmup + 15 iterations of 250 ms (mean shown); ${jit_seconds}s
- NativeAOT run: $aot_mode; ${aot_runtime:+$aot_runtime; }${aot_seconds}s (publish included). BenchmarkDotNet's own
  NativeAOT toolchain (\`--nativeaot\`: ILCompiler 9.0.20 from NuGet, net9.0, x86-x64-v4) does not run here: with
  \`NativeAotRuntime.Net90\` its validator wants a .NET 9 SDK (only the .NET 10 SDK is installed), and without it
  the generated project's ILC step fails with "Specified cast is not valid".
- Build of the benchmark projects (generator on 5.6 M weights included when they are not up to date): ${build_seconds}s

## JIT

HEADER
  cat "$work/jit.md"
  printf '\n## NativeAOT\n\n'
  cat "$work/aot.md"
} > "$here/RESULTS.md"
echo "wrote $here/RESULTS.md"
