// The fused SG-MCMC update (the library's ZsSgmcmcUpdate): one sampler step
// of one latent after its gradient, and the scalars the step reads back.
#include <cmath>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {

namespace {

// The mean of n floats as the Mean kernel rounds it: the Sum reduction's
// double sum times 1/n in double, then to float (outside the denormal flush,
// as Reduce runs).
float meanOf(const float* x, int64_t n) {
  return static_cast<float>(KT->sum(x, n) * (1.0 / static_cast<double>(n)));
}

}  // namespace

// sgmcmcUpdate(kind, secondOrder, q, g, noise, v, alpha, qOut, vOut, alphaOut,
// check, consts): the update of SgmcmcArgs (kernels.h) over every element,
// then check[0] = 1 when every element of qOut is finite, else 0, and for
// SGHMC and SGNHT check[1] = mean(vOut²), for SGNHT check[2] = mean(alphaOut),
// each rounded as the Square and Mean kernels round. v, alpha, vOut and
// alphaOut are null where the kind has none; alpha holds 1 or n elements. A
// scalar SGNHT friction is updated here from mean(vOut²):
// alphaOut = alpha + (mean − η)·tuneScale.
Napi::Value SgmcmcUpdate(const Napi::CallbackInfo& info) {
  const char* fn = "sgmcmcUpdate";
  SgmcmcArgs a;
  a.kind = static_cast<int>(inum(info, 0));
  if (a.kind < kSgld || a.kind > kSgnht) throwRange(info.Env(), fn, "unknown sampler kind");
  a.secondOrder = flag(info, 1);
  const View qv = f32View(info, 2, fn);
  const int64_t n = static_cast<int64_t>(qv.length);
  const size_t un = static_cast<size_t>(n);
  a.q = static_cast<const float*>(qv.data);
  a.g = f32(info, 3, fn, un);
  a.noise = f32(info, 4, fn, un);
  const bool hasV = a.kind != kSgld;
  const bool hasAlpha = a.kind == kSgnht;
  a.v = hasV ? f32(info, 5, fn, un) : nullptr;
  if (hasAlpha) {
    const View al = f32View(info, 6, fn);
    a.alphaLength = static_cast<int64_t>(al.length);
    if (a.alphaLength != 1 && a.alphaLength != n) {
      throwRange(info.Env(), fn, "alpha must hold one element or one per element of q");
    }
    a.alpha = static_cast<const float*>(al.data);
    a.alphaOut = f32(info, 9, fn, al.length);
  }
  a.qOut = f32(info, 7, fn, un);
  a.vOut = hasV ? f32(info, 8, fn, un) : nullptr;
  const size_t nCheck = a.kind == kSgnht ? 3 : a.kind == kSghmc ? 2 : 1;
  float* check = f32(info, 10, fn, nCheck);
  const float* consts = f32(info, 11, fn, 5);
  for (int j = 0; j < 5; ++j) a.c[j] = consts[j];

  parallelFor(n, parallelMin, [&](int64_t b, int64_t e) {
    FlushDenormals ftz;
    KT->sgmcmc(a, b, e);
  });
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) finite = finite && std::isfinite(a.qOut[i]);
  check[0] = finite ? 1.0f : 0.0f;
  if (a.kind == kSghmc || a.kind == kSgnht) {
    thread_local std::vector<float> sq;
    if (sq.size() < un) sq.resize(un);
    {
      FlushDenormals ftz;
      for (int64_t i = 0; i < n; ++i) sq[i] = a.vOut[i] * a.vOut[i];
    }
    check[1] = meanOf(sq.data(), n);
  }
  if (a.kind == kSgnht) {
    if (a.alphaLength == 1) {
      FlushDenormals ftz;
      const float lr = a.c[0], tune = a.c[1];
      a.alphaOut[0] = a.alpha[0] + (check[1] - lr) * tune;
    }
    check[2] = a.alphaLength == 1 ? a.alphaOut[0] : meanOf(a.alphaOut, a.alphaLength);
  }
  return info.Env().Undefined();
}

}  // namespace zsn
