#!/usr/bin/env bash
# Builds and runs bench/gemm_shapes.cc against the system OpenBLAS (the
# addon's own settings: OPENBLAS_CORETYPE=Haswell where unset, one OpenBLAS
# thread). About a minute. Nothing else should run meanwhile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
isa=(-mavx2 -mfma)
if grep -qw avx512f /proc/cpuinfo; then isa=(-mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma); fi
# OpenBLAS' include directories, found as binding.gyp finds them.
mapfile -t inc < <(node "$here/../scripts/openblas-include.mjs" | sed 's/^/-I/')
g++ -O3 -std=c++20 -ffp-contract=off "${isa[@]}" -pthread "${inc[@]}" \
  "$here/gemm_shapes.cc" -lopenblas -o "$out/gemm_shapes"
OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" "$out/gemm_shapes"
