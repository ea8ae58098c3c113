#!/usr/bin/env bash
# Runs the benchmark suite three times, under .NET 10's JIT, .NET 10's NativeAOT and .NET 11's JIT, and rewrites
# benchmarks/RESULTS.md.
#   bash benchmarks/run.sh                all shapes and both transformers; rewrites the whole file
#   bash benchmarks/run.sh --quick        three small shapes and the MNIST ViT
#   bash benchmarks/run.sh --transformer  the transformer benchmarks only; rewrites the "Transformer" section (from
#                                         its heading to the end of the file) and keeps the rest
#   bash benchmarks/run.sh --bdn-aot      also try BenchmarkDotNet's NativeAOT toolchain first (it fails here: see RESULTS.md)
# JIT: the BenchmarkDotNet suite (one process per benchmark, built by BenchmarkDotNet).
# NativeAOT: the program itself is published with PublishAot (ILCompiler for net10.0) and IlcInstructionSet x86-64-v4,
# and runs its Stopwatch harness on the same kernels.
# .NET 11 JIT: the program built for net11.0 (-p:GenNet11=true: self-contained, through tests/Net11/Net11.props, since
# only the .NET 10 SDK is installed), whose generated kernels include the vpdpbusd zmm path; its Stopwatch harness.
set -uo pipefail
cd "$(dirname "$0")"
here=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

quick=""
bdn_aot=0
transformer=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick="--quick" ;;
    --bdn-aot) bdn_aot=1 ;;
    --transformer) transformer=1 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ "$transformer" = 1 ] && [ "$bdn_aot" = 1 ]; then echo "--transformer and --bdn-aot do not combine" >&2; exit 2; fi
command="bash benchmarks/run.sh${*:+ $*}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
isa=x86-64-v4
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$here" status --porcelain -- .. 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi
if [ "$transformer" = 1 ]; then
  only="--transformer"
  bdn_filter=()
else
  only=""
  bdn_filter=(--filter '*')
fi

echo "== build"
start=$(date +%s)
dotnet build Gen.Benchmarks/Gen.Benchmarks.csproj -c Release -v q -nologo || exit 1
build_seconds=$(( $(date +%s) - start ))

echo "== JIT (BenchmarkDotNet)"
start=$(date +%s)
(cd Gen.Benchmarks && dotnet run -c Release --no-build -- $quick $only "${bdn_filter[@]}" \
  --summary-out "$work/jit.md" --raw-out "$work/jit.tsv" --transformer-out "$work/jit-transformer.md") | tee "$work/jit.log"
jit_seconds=$(( $(date +%s) - start ))
if [ "$transformer" = 0 ]; then
  [ -s "$work/jit.md" ] || { echo "the JIT suite produced no results" >&2; exit 1; }
fi
[ -s "$work/jit-transformer.md" ] || { echo "the JIT transformer benchmarks produced no results" >&2; exit 1; }

start=$(date +%s)
if [ "$bdn_aot" = 1 ]; then
  echo "== NativeAOT (BenchmarkDotNet NativeAOT toolchain)"
  (cd Gen.Benchmarks && dotnet run -c Release --no-build -- --nativeaot $quick --filter '*' --summary-out "$work/aot.md" \
    --transformer-out "$work/aot-transformer.md") | tee "$work/aot.log"
fi
if [ -s "$work/aot.md" ] && ! grep -q '| - | - ' "$work/aot.md"; then
  aot_mode="BenchmarkDotNet NativeAotToolchain (ILCompiler $(grep -o 'IlCompilerVersion = "[^"]*"' Gen.Benchmarks/Benchmarks.cs | cut -d'"' -f2), net10.0, linux-x64, IlcInstructionSet $isa), same job as the JIT run"
else
  echo "== NativeAOT: publishing the program with PublishAot and running its Stopwatch harness"
  dotnet publish Gen.Benchmarks/Gen.Benchmarks.csproj -c Release -r linux-x64 -o "$work/native" -v q -nologo || exit 1
  "$work/native/Gen.Benchmarks" $quick $only --summary-out "$work/aot.md" --raw-out "$work/aot.tsv" --transformer-out "$work/aot-transformer.md" | tee "$work/aot.log"
  aot_mode="dotnet publish -r linux-x64 (PublishAot, ILCompiler for net10.0, IlcInstructionSet $isa), the program's Stopwatch harness (median of 15 samples of >= 20 ms)"
fi
aot_seconds=$(( $(date +%s) - start ))
[ -s "$work/aot-transformer.md" ] || { echo "the NativeAOT transformer run produced no results" >&2; exit 1; }

echo "== .NET 11 JIT: the program built for net11.0, its Stopwatch harness"
start=$(date +%s)
dotnet build Gen.Benchmarks/Gen.Benchmarks.csproj -c Release -p:GenNet11=true -v q -nologo || exit 1
net11=Gen.Benchmarks/bin/Release/net11.0/linux-x64/Gen.Benchmarks
"$net11" --stopwatch $quick $only --summary-out "$work/net11.md" --raw-out "$work/net11.tsv" --transformer-out "$work/net11-transformer.md" | tee "$work/net11.log"
net11_seconds=$(( $(date +%s) - start ))
[ -s "$work/net11-transformer.md" ] || { echo "the .NET 11 transformer run produced no results" >&2; exit 1; }
net11_runtime=$(grep -m1 ', JIT, X64' "$work/net11.log")
net11_mode="self-contained net11.0 build (\`-p:GenNet11=true\`: Microsoft.NETCore.App 11.0.0 packs through tests/Net11/Net11.props), the program's Stopwatch harness (median of 15 samples of >= 20 ms); $net11_runtime; ${net11_seconds}s (build and transformers included)"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

runtimes=$(dotnet --list-runtimes | grep Microsoft.NETCore.App | awk '{print $2}' | paste -sd, -)
jit_runtime=$(grep -m1 -o 'JIT *: \.NET [0-9.]* ([^)]*)' "$work/jit.log" | sed 's/^JIT *: //')
aot_runtime=$(grep -m1 -o 'NativeAOT *: \.NET [0-9.]* ([^)]*)' "$work/aot.log" | sed 's/^NativeAOT *: //')
[ -n "$aot_runtime" ] || aot_runtime=$(grep -m1 ', NativeAOT, X64' "$work/aot.log")
machine="$(lscpu | sed -n 's/^Model name: *//p') (CPU family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores"
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
sdk=$(dotnet --version)

# The "Transformer" section: it always ends the file, so that a --transformer run can replace it alone.
transformer_section() {
  cat <<SECTION
## Transformer

One image through a whole vision transformer, single thread: **Int8** is Gen's generated integer-only
\`Run(image, logits)\` on the INT8 image; **Int8 + QuantizeInput** adds the generated \`QuantizeInput\` of the float
image; **Float32** is \`Gen.Runtime.Interpreter.FloatModel.Run\` on the same image, the SIMD float32 forward
pass of the same float weights (AVX-512 FMA matrix products, weights packed once, no allocation). Speed-up =
Float32 time / Int8 time, both measured in the same run; GMAC/s counts the multiply-accumulates of the matrix products
only (patch projection, Q, K, V, Q K^T, attention x V, output projection, feed-forward, head), not LayerNorm,
Softmax, GELU or the residual adds.

- **MnistVit**: the trained MNIST ViT of samples/MnistVit (\`mnist_vit.safetensors\` and its calibration file), timed
  on the first held-out digit (image 8000).
- **Vit256**: a random ViT written by the build (\`Gen.Benchmarks.Models/GenerateTransformer.targets\`: weights
  N(0, 1/sqrt(fan_in)), LayerNorm gamma about 1, small betas and biases, position embedding N(0, 0.3)) and calibrated
  by \`gen-calibrate transformer\` (percentile 99.99) over 512 random images; timed on another random image. Its
  activations take 64 x (6 x 256 + 1024 + 48) = 166,912 bytes of stack per image, under the generator's 256 KiB limit.
- Before timing, the program checks each model against FloatModel (lines below) and refuses to time one that
  fails: at least 95 % arg-max agreement on 200 held-out digits for MnistVit; for Vit256, whose arg-max hardly moves
  on random images, a correlation of at least 0.9 between the image-to-image variation of the INT8 and float32 logits.
- The speed-up of the matrix products is bounded by the INT8 / FP32 peak ratio reachable from C# on this core
  (the peak probes above: about 2); the rest of a transformer (LayerNorm, Softmax, GELU, requantization, residual
  adds) is integer arithmetic against float SIMD and can be slower or faster. Where the speed-up exceeds that ratio,
  the float model runs further below its peak than the INT8 model below its own (compare each GMAC/s with the
  probes): the whole model counts, with its small matrices and everything between them.

- Machine: $machine; load average at start: $load_start, at end: $load_end (a shared machine: other jobs may run)
- .NET SDK $sdk; runtimes installed: $runtimes
- Date: $date_utc; commit $commit
- Command: \`$command\`; ${jit_seconds}s JIT, ${aot_seconds}s NativeAOT (publish included). \`bash benchmarks/run.sh --transformer\`
  runs the transformer benchmarks alone and rewrites this section only.
- JIT run: BenchmarkDotNet 0.14.0, ${jit_runtime:-.NET runtime}, RyuJIT, net10.0 build; 3 warmup + 15 iterations of 250 ms (mean shown; \`dotnet run -c Release --project benchmarks/Gen.Benchmarks -- --transformer\`)
- NativeAOT run: $aot_mode; ${aot_runtime}
- .NET 11 JIT run: $net11_mode

Times are the mean (.NET 10 JIT) or the median (NativeAOT, .NET 11) per image, ± the standard deviation over the 15 iterations or
samples.

### JIT (BenchmarkDotNet)

SECTION
  cat "$work/jit-transformer.md"
  printf '\nBenchmarkDotNet'"'"'s own summary of the same run (Ratio: time over the Float32 baseline; Allocated "-": nothing allocated):\n\n'
  awk '/^\| *Method *\| *Model /{p=1} p&&/^$/{exit} p' "$work/jit.log"
  printf '\n### NativeAOT\n\n'
  cat "$work/aot-transformer.md"
  printf '\n### .NET 11 JIT\n\n'
  cat "$work/net11-transformer.md"
}

# The "Throughput at 1 and 2 threads" section (Gen.Benchmarks --throughput --results RESULTS.md) is not rerun here;
# a full rewrite keeps it as it is, and a --transformer run keeps everything before "## Transformer" anyway.
if [ -f "$here/RESULTS.md" ]; then
  awk '/^## Throughput at 1 and 2 threads$/{p=1} p&&/^## Transformer$/{exit} p' "$here/RESULTS.md" > "$work/throughput.md"
else
  : > "$work/throughput.md"
fi

if [ "$transformer" = 1 ]; then
  if [ -f "$here/RESULTS.md" ]; then
    sed '/^## Transformer$/,$d' "$here/RESULTS.md" > "$work/RESULTS.md"
    # Keep exactly one blank line before the section.
    sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$work/RESULTS.md"
    printf '\n' >> "$work/RESULTS.md"
  else
    : > "$work/RESULTS.md"
  fi
  transformer_section >> "$work/RESULTS.md"
  cp "$work/RESULTS.md" "$here/RESULTS.md"
  echo "wrote the Transformer section of $here/RESULTS.md"
  exit 0
fi

{
  cat <<HEADER
# Benchmark results

Single-thread time per call of one dense layer, M rows of K INT8 inputs times a K x N layer (random weights,
w ~ N(0, 1/sqrt(K)), quantized per channel), and GMAC/s = M*K*N / time. **Generated** is Gen's generated
\`Run(inputs, outputs, M)\`; **NaiveScalar** is a plain triple loop with the same INT8 numerics (int accumulators,
TFLite requantization); **Float32** is the same layer in float32, a register-blocked AVX-512 FMA GEMM (4x32 tiles,
packed weight panels). The peak probes are register-only loops of independent chains: the ceiling for each
instruction mix on this core. Before timing, the program checks that Generated and NaiveScalar agree bit for bit and
that Float32 matches a plain loop. Whole vision transformers are in the last section, [Transformer](#transformer).
Regenerate this file with \`bash benchmarks/run.sh\` (about 25 to 35 minutes).

- Machine: $machine; load average at start: $load_start, at end: $load_end (a shared machine: other jobs may run)
- .NET SDK $sdk; runtimes installed: $runtimes
- Date: $date_utc; commit $commit; command: \`$command\`
- JIT run: BenchmarkDotNet 0.14.0, ${jit_runtime:-.NET runtime}, RyuJIT, net10.0 build; 3 warmup + 15 iterations of 250 ms (mean shown); ${jit_seconds}s (transformers included)
- NativeAOT run: $aot_mode; ${aot_runtime:+$aot_runtime; }${aot_seconds}s (publish and transformers included). BenchmarkDotNet's own
  NativeAOT toolchain (\`--bdn-aot\`: ILCompiler $(grep -o 'IlCompilerVersion = "[^"]*"' Gen.Benchmarks/Benchmarks.cs | cut -d'"' -f2) from NuGet, net10.0, x86-64-v4) is opt-in; with
  ILCompiler 9 (net9.0) it did not run here (its validator wanted a .NET 9 SDK, and without it the generated project's
  ILC step failed with "Specified cast is not valid").
- .NET 11 JIT run: $net11_mode
- Build of the benchmark projects (generator on about 8.8 M weights included when they are not up to date): ${build_seconds}s

## Side by side

The generated dense layers of the three runs below: time per call, GMAC/s, and that as a share of the fastest INT8
peak probe of the same run (the ceiling of the best instruction route that runtime offers: \`vpdpbusd ymm\` or
\`vpmaddubsw\` zmm on .NET 10, \`vpdpbusd zmm\` on .NET 11). The .NET 10 JIT times are BenchmarkDotNet means, the
others Stopwatch medians.

HEADER
  "$net11" --side-by-side ".NET 10 JIT=$work/jit.tsv" ".NET 10 NativeAOT=$work/aot.tsv" ".NET 11 JIT=$work/net11.tsv"
  printf '\n## JIT (.NET 10)\n\n'
  cat "$work/jit.md"
  printf '\n## NativeAOT (.NET 10)\n\n'
  cat "$work/aot.md"
  printf '\n## JIT (.NET 11)\n\n'
  cat "$work/net11.md"
  printf '\n'
  cat "$work/throughput.md"
  transformer_section
} > "$here/RESULTS.md"
echo "wrote $here/RESULTS.md"
