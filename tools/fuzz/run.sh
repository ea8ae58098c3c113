#!/usr/bin/env bash
# Fuzzes Gen's readers and its generator with SharpFuzz and AFL++ for a bounded time (docs/fuzzing.md).
#
#   tools/fuzz/run.sh [SECONDS] [HARNESS...]     SECONDS per harness (default 60); harnesses: safetensors calibration onnx generator
#
# Installs what it needs (Debian's afl++, the SharpFuzz instrumentation tool from tools/fuzz/dotnet-tools.json),
# builds tools/fuzz/Gen.Fuzz, instruments Gen.Runtime.dll and Gen.Generators.dll, runs afl-fuzz on each harness from
# its seed corpus (tools/fuzz/corpus/HARNESS), and replays whatever crashed with an uninstrumented build to print the
# exception. Prints one "fuzz HARNESS: passed|failed ..." line per harness, then "fuzzing: N passed, N failed".
# Exits 1 if any harness found a crash or a hang, or afl-fuzz stopped early. Set FUZZ_WORK to keep the findings
# somewhere of your choice (default: a new temporary folder, kept when something failed).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(safetensors calibration onnx generator)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() {
  echo "fuzz: $*" >&2
  echo "fuzzing: 0 passed, ${#harnesses[@]} failed"
  exit 1
}

# --- what it needs -------------------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "fuzz: installing afl++ (Debian package)"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null ||
    fail "could not install afl++"
fi
(cd "$here" && dotnet tool restore >/dev/null) || fail "dotnet tool restore failed"

work="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gen-fuzz.XXXXXX")}"
mkdir -p "$work"
echo "fuzz: building and instrumenting in $work"
dotnet build "$here/Gen.Fuzz/Gen.Fuzz.csproj" -c Release -o "$work/plain" -nologo -v quiet >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "the harness project does not build"; }
rm -rf "$work/instrumented" && cp -r "$work/plain" "$work/instrumented"
for assembly in Gen.Runtime.dll Gen.Generators.dll; do
  (cd "$here" && dotnet tool run sharpfuzz "$work/instrumented/$assembly") >"$work/instrument.log" 2>&1 ||
    { cat "$work/instrument.log"; fail "sharpfuzz could not instrument $assembly"; }
done

# --- one bounded afl-fuzz run per harness --------------------------------------------------------------------------
# No UI, no CPU binding (the machine is shared), no core_pattern or CPU-governor checks (not root's business in CI);
# the target is 'dotnet', which carries no AFL instrumentation of its own: SharpFuzz talks to afl-fuzz itself.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_FAST_CAL=1
passed=0 failed=0 kept=0
for harness in "${harnesses[@]}"; do
  seeds="$here/corpus/$harness"
  out="$work/findings/$harness"
  if [ ! -d "$seeds" ]; then
    echo "fuzz $harness: failed (no seed corpus at tools/fuzz/corpus/$harness)"
    failed=$((failed + 1))
    continue
  fi

  rm -rf "$out" && mkdir -p "$out"
  dictionary=()
  [ -f "$here/dictionaries/$harness.dict" ] && dictionary=(-x "$here/dictionaries/$harness.dict")
  # -t: a fixed limit (the first input loads Roslyn and takes seconds; '-t N+' would auto-scale it down to 1 s, and a
  # timeout ends SharpFuzz's in-process run); an input taking 20 s is a hang. -V: stop after SECONDS of fuzzing.
  afl-fuzz -i "$seeds" -o "$out" -t 20000 -m none -V "$seconds" "${dictionary[@]}" \
    -- "$(command -v dotnet)" "$work/instrumented/Gen.Fuzz.dll" "$harness" >"$out/afl.log" 2>&1
  status=$?
  stats="$out/default/fuzzer_stats"
  value() { sed -n "s/^$1 *: *//p" "$stats" 2>/dev/null; }
  crashes=$(find "$out/default/crashes" -type f ! -name README.txt 2>/dev/null | wc -l)
  hangs=$(find "$out/default/hangs" -type f 2>/dev/null | wc -l)
  summary="$(value execs_done) inputs run, $(value corpus_count) in the corpus, $crashes crashes, $hangs hangs"
  if [ "$status" -eq 0 ] && [ -f "$stats" ] && [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ]; then
    echo "fuzz $harness: passed ($summary, ${seconds} s)"
    passed=$((passed + 1))
    continue
  fi

  failed=$((failed + 1))
  kept=1
  echo "fuzz $harness: failed ($summary; afl-fuzz exit $status); findings in $out/default"
  if [ "$status" -ne 0 ] || [ ! -f "$stats" ]; then
    sed 's/\x1b\[[0-9;]*m//g' "$out/afl.log" | tail -n 25
    [ -f "$out/default/.cur_input" ] && echo "the input being run when afl-fuzz stopped: $out/default/.cur_input"
  fi
  # The exceptions, from the uninstrumented build (afl-fuzz only knows that something crashed).
  if [ "$crashes" -gt 0 ]; then
    dotnet "$work/plain/Gen.Fuzz.dll" "$harness" "$out/default/crashes" 2>&1 | head -n 60
  fi
done

[ "$kept" -eq 1 ] || [ -n "${FUZZ_WORK:-}" ] || rm -rf "$work"
echo "fuzzing: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
