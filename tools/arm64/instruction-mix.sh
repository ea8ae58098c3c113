#!/usr/bin/env bash
# The instruction mix of the ARM64 GEMM hot loops, read from the JIT's own disassembly under emulation (qemu cannot
# time anything meaningfully, but it runs the real ARM64 JIT). Publishes the MNIST sample for linux-arm64 on the JIT,
# runs it under qemu-aarch64 -cpu max with DOTNET_JitDisasm for the sdot kernels (full opts, no tiering), and counts
# the instructions between each kernel's loop label and its backward branch. Needs qemu-user and
# libc6-dev-arm64-cross (see README.md, "ARM64"). Usage: bash tools/arm64/instruction-mix.sh [kernel patterns]
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
patterns="${1:-*DpR4P1 *DpR1P2 *DpR1P1 *AdvSimdR1P1}"
dotnet publish samples/Mnist -c Release -r linux-arm64 --self-contained -p:PublishAot=false -p:InvariantGlobalization=true -o "$work/out" >/dev/null
for path in AdvSimdDp AdvSimd; do
  (cd "$work/out" && GEN_KERNEL_PATH=$path DOTNET_TieredCompilation=0 DOTNET_JitDisasm="$patterns" DOTNET_JitStdOutFile="$work/$path.asm" \
    qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu ./Mnist >/dev/null)
done
cat "$work"/*.asm > "$work/all.asm"
python3 - "$work/all.asm" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split('\n')
starts = [i for i, l in enumerate(lines) if l.startswith('; Assembly listing for method')]
for s in starts:
    name = lines[s].split('method ')[1].split('(')[0].split(':')[-1]
    end = next(i for i in range(s, len(lines)) if lines[i].startswith('; Total bytes'))
    body = lines[s:end]
    labels = {m.group(1): i for i, l in enumerate(body) if (m := re.match(r'(G_M\d+_IG\d+):', l))}
    best = None  # the longest loop is the kernel's main loop (the store's tail loop is short)
    for i, l in enumerate(body):
        m = re.match(r'\s+(b\.?\w*|cbn?z|tbn?z)\s+(G_M\d+_IG\d+)', l)
        if m and labels.get(m.group(2), 1 << 30) < i:
            ins = [x.split()[0] for x in body[labels[m.group(2)] + 1:i + 1]
                   if x.startswith('            ') and x.split() and not x.split()[0].startswith(('align', ';'))]
            if best is None or len(ins) > len(best): best = ins
    if best:
            ins = best
            mix = {}
            for x in ins: mix[x] = mix.get(x, 0) + 1
            # MACs per iteration: 16 per sdot; smull/smull2 do 8 each (their sadalp adds are part of the same MACs).
            macs = 16 * mix.get('sdot', 0) + 8 * (mix.get('smull', 0) + mix.get('smull2', 0))
            print(f"{name}: {len(ins)} instructions per loop iteration: " +
                  ", ".join(f"{v} {k}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])) +
                  f"; {macs} MACs, {macs / len(ins):.1f} MACs per instruction (sdot alone: 16)")
PY
