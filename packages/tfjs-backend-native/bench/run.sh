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
g++ -O3 -std=c++20 -ffp-contract=off "${isa[@]}" -pthread \
  -I/usr/include/openblas -I/usr/include/x86_64-linux-gnu/openblas-pthread \
  "$here/gemm_shapes.cc" -lopenblas -o "$out/gemm_shapes"
OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" "$out/gemm_shapes"
