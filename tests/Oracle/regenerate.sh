#!/usr/bin/env bash
# Rebuilds the fixed-point oracle and regenerates the CSV test vectors in
# tests/Gen.Tests/Vectors/. Works from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/tests/Gen.Tests/Vectors"

# The oracle uses gemmlowp's own header (Debian/Ubuntu package libgemmlowp-dev).
if [ ! -f /usr/include/gemmlowp/fixedpoint/fixedpoint.h ]; then
  echo "Installing libgemmlowp-dev..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y libgemmlowp-dev
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

g++ -O2 -std=c++17 -Wall -Wextra -o "$build/fixedpoint_oracle" "$here/fixedpoint_oracle.cc"
mkdir -p "$out"
"$build/fixedpoint_oracle" "$out"
