// Element-wise entry points: broadcasting binary ops and comparisons, unary
// ops, reductions over any axes, softmax, the fused Adam update and fill.
// Each splits its output over the pool (pool.h) and runs the kernel table's
// loop.
#include <algorithm>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {

// binary(op, a, aShape, b, bShape, out): out has the broadcast shape; for a
// comparison op out is a Uint8Array.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  size_t ar, br;
  const int32_t* as = i32(info, 2, "binary", &ar);
  const int32_t* bs = i32(info, 4, "binary", &br);
  BroadcastPlan p;
  if (!makeBroadcastPlan(as, static_cast<int>(ar), bs, static_cast<int>(br), &p)) {
    throwRange(info.Env(), "binary", "shapes do not broadcast (or rank > 8)");
  }
  int64_t na = 1, nb = 1;
  for (size_t i = 0; i < ar; ++i) na *= as[i];
  for (size_t i = 0; i < br; ++i) nb *= bs[i];
  const float* a = f32(info, 1, "binary", na);
  const float* b = f32(info, 3, "binary", nb);
  if (op >= kEqual) {  // a comparison
    View o = typed(info, 5, "binary");
    if (o.type != napi_uint8_array || static_cast<int64_t>(o.length) < p.size) {
      throwType(info.Env(), "binary", 5, "a Uint8Array of the output size");
    }
    uint8_t* out = static_cast<uint8_t*>(o.data);
    parallelFor(p.size, parallelMin,
                [&](int64_t b0, int64_t e0) { KT->compare(op, a, b, out, p, b0, e0); });
  } else {
    float* out = f32(info, 5, "binary", p.size);
    const bool heavy = op == kPow || op == kAtan2 || op == kBernoulliLogProb;
    const int64_t minPar = heavy ? 4096 : parallelMin;
    parallelFor(p.size, minPar, [&](int64_t b0, int64_t e0) {
      FlushDenormals ftz;
      KT->binary(op, a, b, out, p, b0, e0);
    });
  }
  return info.Env().Undefined();
}

// unary(op, x, out, alpha, beta): out[i] = f(x[i]) for every element of out.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  const View o = f32View(info, 2, "unary");
  const int64_t n = static_cast<int64_t>(o.length);
  const float* x = f32(info, 1, "unary", n);
  float* out = static_cast<float*>(o.data);
  const float alpha = static_cast<float>(num(info, 3));
  const float beta = static_cast<float>(num(info, 4));
  // Transcendentals are compute-bound: worth a second thread much earlier.
  const bool heavy =
      op == kExp || op == kLog || op == kLog1p || op == kSigmoid || op == kSoftplus || op >= kTanh;
  parallelFor(n, heavy ? 8192 : parallelMin, [&](int64_t b0, int64_t e0) {
    FlushDenormals ftz;
    KT->unary(op, x, out, b0, e0, alpha, beta);
  });
  return info.Env().Undefined();
}

// reduce(op, x, out, shape, axesMask): axesMask is an Int32Array with 1 for
// each reduced axis.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  size_t rank, mrank;
  const int32_t* shape = i32(info, 3, "reduce", &rank);
  const int32_t* mask = i32(info, 4, "reduce", &mrank);
  if (rank != mrank || rank > static_cast<size_t>(kMaxRank)) {
    throwRange(info.Env(), "reduce", "shape and axis mask differ or rank > 8");
  }
  int64_t dims[kMaxRank];
  uint8_t red[kMaxRank];
  int64_t total = 1, outSize = 1;
  for (size_t i = 0; i < rank; ++i) {
    dims[i] = shape[i];
    red[i] = mask[i] != 0;
    total *= dims[i];
    if (!red[i]) outSize *= dims[i];
  }
  const float* x = f32(info, 1, "reduce", total);
  float* out = f32(info, 2, "reduce", outSize);
  static thread_local std::vector<double> scratch;
  if (scratch.size() < static_cast<size_t>(outSize)) scratch.resize(outSize);
  KT->reduce(op, x, out, dims, red, static_cast<int>(rank), scratch.data());
  return info.Env().Undefined();
}

// adam(p, m, v, g, b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, eps, -lr): in place on p, m, v.
Napi::Value Adam(const Napi::CallbackInfo& info) {
  const View pv = f32View(info, 0, "adam");
  const int64_t n = static_cast<int64_t>(pv.length);
  float* p = static_cast<float*>(pv.data);
  float* m = f32(info, 1, "adam", n);
  float* v = f32(info, 2, "adam", n);
  const float* g = f32(info, 3, "adam", n);
  const float b1 = static_cast<float>(num(info, 4)), omb1 = static_cast<float>(num(info, 5));
  const float b2 = static_cast<float>(num(info, 6)), omb2 = static_cast<float>(num(info, 7));
  const float bc1 = static_cast<float>(num(info, 8)), bc2 = static_cast<float>(num(info, 9));
  const float eps = static_cast<float>(num(info, 10)), negLr = static_cast<float>(num(info, 11));
  parallelFor(
      n, parallelMin,
      [&](int64_t b0, int64_t e0) {
        KT->adam(p, m, v, g, b0, e0, b1, omb1, b2, omb2, bc1, bc2, eps, negLr);
      },
      adamParallel);
  return info.Env().Undefined();
}

// fill(out, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  const View o = f32View(info, 0, "fill");
  const float v = static_cast<float>(num(info, 1));
  float* out = static_cast<float*>(o.data);
  std::fill(out, out + o.length, v);
  return info.Env().Undefined();
}

// softmax(x, out, cols): softmax over rows of `cols` elements, in the cpu
// kernel's steps and roundings: m = max (NaN if any element is NaN), d =
// x − m in float32, e = exp(d), s = Σ e in double rounded to float32, e / s
// in float32.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const View o = f32View(info, 1, "softmax");
  const int64_t n = static_cast<int64_t>(o.length), cols = inum(info, 2);
  if (cols < 1 || n % cols != 0) throwRange(info.Env(), "softmax", "rows of cols elements");
  const float* x = f32(info, 0, "softmax", n);
  float* out = static_cast<float*>(o.data);
  // Rows over the pool from parallelMin elements (a softmax of 20000 took
  // 1.2 ms on two threads of a loaded machine, 0.1 ms on one).
  parallelFor(n / cols, std::max<int64_t>(1, parallelMin / cols), [&](int64_t r0, int64_t r1) {
    FlushDenormals ftz;
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* orow = out + r * cols;
      float m = xr[0];
      for (int64_t j = 0; j < cols; ++j) m = (xr[j] != xr[j] || xr[j] > m) ? xr[j] : m;
      for (int64_t j = 0; j < cols; ++j) orow[j] = xr[j] - m;
      KT->unary(kExp, orow, orow, 0, cols, 0.0f, 0.0f);
      const float s = static_cast<float>(KT->sum(orow, cols));
      for (int64_t j = 0; j < cols; ++j) orow[j] = orow[j] / s;
    }
  });
  return info.Env().Undefined();
}

}  // namespace zsn
