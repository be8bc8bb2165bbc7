// Element-wise entry points: broadcasting binary ops and comparisons, unary
// ops, the boolean kernels and Select, reductions over any axes, softmax, the
// fused Adam update and fill, and the log-sum-exp and its gradient (the
// library's ZsLogSumExp kernels).
// Each splits its output over the pool (pool.h) and runs the kernel table's
// loop.
#include <algorithm>
#include <cmath>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {

namespace {

// The broadcast plan of the shapes at arguments 2 and 4 (Int32Arrays; the
// layout of binary and logical), and the two operands' element counts.
BroadcastPlan planOf(const Napi::CallbackInfo& info, const char* fn, int64_t* na, int64_t* nb) {
  size_t ar, br;
  const int32_t* as = i32(info, 2, fn, &ar);
  const int32_t* bs = i32(info, 4, fn, &br);
  BroadcastPlan p;
  if (!makeBroadcastPlan(as, static_cast<int>(ar), bs, static_cast<int>(br), &p)) {
    throwRange(info.Env(), fn, "shapes do not broadcast (or rank > 8)");
  }
  *na = 1;
  *nb = 1;
  for (size_t i = 0; i < ar; ++i) *na *= as[i];
  for (size_t i = 0; i < br; ++i) *nb *= bs[i];
  return p;
}

}  // namespace

// binary(op, a, aShape, b, bShape, out): out has the broadcast shape; for a
// comparison op out is a Uint8Array.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  int64_t na, nb;
  const BroadcastPlan p = planOf(info, "binary", &na, &nb);
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

namespace {

// Argument i as a Uint8Array (tfjs' bool) of at least minLength elements.
uint8_t* u8(const Napi::CallbackInfo& info, int i, const char* fn, int64_t minLength) {
  const View v = typed(info, i, fn);
  if (v.type != napi_uint8_array || static_cast<int64_t>(v.length) < minLength) {
    throwType(info.Env(), fn, i, "a Uint8Array (bool) of the size");
  }
  return static_cast<uint8_t*>(v.data);
}

// The element type of a float32, int32 or uint8 array (tfjs' float32, int32, bool).
Elem elemOf(const Napi::CallbackInfo& info, const View& v, int i, const char* fn) {
  switch (v.type) {
    case napi_float32_array:
      return Elem::kF32;
    case napi_int32_array:
      return Elem::kI32;
    case napi_uint8_array:
      return Elem::kU8;
    default:
      throwType(info.Env(), fn, i, "a Float32Array, Int32Array or Uint8Array");
  }
}

// Elements below which the byte kernels (logical, predicate, select) stay on
// one thread (8 × parallelMin, 262 144 by default): a pass over a byte or a
// few an element runs at memory speed, tens of µs for lntm_mcem's 50 000
// elements, while on a loaded machine a hand-off to the pool can cost a time
// slice (that model's pooled Equal took ~1.8 ms a call in such a profile).
int64_t byteParallelMin() { return parallelMin * 8; }

}  // namespace

// logical(op, a, aShape, b, bShape, out): LogicalAnd or LogicalOr of two
// Uint8Arrays with broadcasting; out (Uint8Array) has the broadcast shape.
Napi::Value Logical(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  if (op != kLogicalAnd && op != kLogicalOr) throwRange(info.Env(), "logical", "unknown op");
  int64_t na, nb;
  const BroadcastPlan p = planOf(info, "logical", &na, &nb);
  const uint8_t* a = u8(info, 1, "logical", na);
  const uint8_t* b = u8(info, 3, "logical", nb);
  uint8_t* out = u8(info, 5, "logical", p.size);
  parallelFor(p.size, byteParallelMin(),
              [&](int64_t b0, int64_t e0) { KT->logical(op, a, b, out, p, b0, e0); });
  return info.Env().Undefined();
}

// predicate(op, x, out): out[i] = f(x[i]) into a Uint8Array for every element
// of out; x is a Uint8Array for LogicalNot, a Float32Array for IsFinite,
// IsNan and IsInf.
Napi::Value Predicate(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  const View o = typed(info, 2, "predicate");
  if (o.type != napi_uint8_array) throwType(info.Env(), "predicate", 2, "a Uint8Array");
  const int64_t n = static_cast<int64_t>(o.length);
  const void* x;
  if (op == kLogicalNot) {
    x = u8(info, 1, "predicate", n);
  } else if (op == kIsFinite || op == kIsNan || op == kIsInf) {
    x = f32(info, 1, "predicate", n);
  } else {
    throwRange(info.Env(), "predicate", "unknown op");
  }
  uint8_t* out = static_cast<uint8_t*>(o.data);
  parallelFor(n, byteParallelMin(),
              [&](int64_t b0, int64_t e0) { KT->predicate(op, x, out, b0, e0); });
  return info.Env().Undefined();
}

// select(cond, t, e, out, inner): out[i] = cond[i / inner] == 1 ? t[i] : e[i]
// for every element of out, converted to out's type; cond a Uint8Array of
// out's size / inner, t, e and out Float32Arrays, Int32Arrays or Uint8Arrays
// of out's size (out the widest type of t and e: tfjs' upcast).
Napi::Value Select(const Napi::CallbackInfo& info) {
  const View tv = typed(info, 1, "select");
  const View ev = typed(info, 2, "select");
  const View ov = typed(info, 3, "select");
  const Elem tt = elemOf(info, tv, 1, "select"), et = elemOf(info, ev, 2, "select");
  const Elem ot = elemOf(info, ov, 3, "select");
  const Elem widest = (tt == Elem::kF32 || et == Elem::kF32)   ? Elem::kF32
                      : (tt == Elem::kI32 || et == Elem::kI32) ? Elem::kI32
                                                               : Elem::kU8;
  if (ot != widest) throwType(info.Env(), "select", 3, "an array of t's and e's upcast type");
  const int64_t n = static_cast<int64_t>(ov.length);
  const int64_t inner = inum(info, 4);
  if (inner < 1 || n % inner != 0 || static_cast<int64_t>(tv.length) < n ||
      static_cast<int64_t>(ev.length) < n) {
    throwRange(info.Env(), "select", "t and e need out's size, a multiple of inner >= 1");
  }
  const uint8_t* c = u8(info, 0, "select", n / inner);
  parallelFor(n, byteParallelMin(), [&](int64_t b0, int64_t e0) {
    KT->select(c, tv.data, tt, ev.data, et, ov.data, ot, inner, b0, e0);
  });
  return info.Env().Undefined();
}

namespace {

// A reduction's operand shape and axes (a Reduce-layout shape and axis mask:
// Int32Arrays at arguments si and si + 1, 1 for each reduced axis), with
// x's and the reduced output's element counts and the output's shape with
// its reduced axes kept as 1 (the keepDims shape, for broadcasting).
struct ReduceShape {
  int rank = 0;
  int64_t dims[kMaxRank];
  uint8_t red[kMaxRank];
  int32_t shape[kMaxRank];
  int32_t kept[kMaxRank];
  int64_t total = 1;
  int64_t outSize = 1;
};

ReduceShape reduceShapeOf(const Napi::CallbackInfo& info, int si, const char* fn) {
  size_t rank, mrank;
  const int32_t* shape = i32(info, si, fn, &rank);
  const int32_t* mask = i32(info, si + 1, fn, &mrank);
  if (rank != mrank || rank > static_cast<size_t>(kMaxRank)) {
    throwRange(info.Env(), fn, "shape and axis mask differ or rank > 8");
  }
  ReduceShape r;
  r.rank = static_cast<int>(rank);
  for (size_t i = 0; i < rank; ++i) {
    r.dims[i] = shape[i];
    r.shape[i] = shape[i];
    r.red[i] = mask[i] != 0;
    r.kept[i] = r.red[i] ? 1 : shape[i];
    r.total *= r.dims[i];
    if (!r.red[i]) r.outSize *= r.dims[i];
  }
  return r;
}

// The row length when a reduction sums whole rows of contiguous elements:
// the reduced axes are the trailing ones (size-1 axes aside), with more
// than one element per row (a sum over size-1 axes alone copies, keeping
// −0) and at least one row; else 0.
int64_t lastAxisRows(const ReduceShape& r) {
  if (r.total == 0) return 0;
  int64_t inner = 1;
  bool keptSeen = false;
  for (int d = r.rank - 1; d >= 0; --d) {
    if (r.dims[d] == 1) continue;
    if (r.red[d]) {
      if (keptSeen) return 0;  // a reduced axis before a kept one
      inner *= r.dims[d];
    } else {
      keptSeen = true;
    }
  }
  return inner > 1 ? inner : 0;
}

// A scratch array of more than n elements of T, kept per thread (one per T):
// doubles for KT->reduce's accumulators, floats for the log-sum-exp's shifts.
template <class T>
T* threadScratch(int64_t n) {
  static thread_local std::vector<T> scratch;
  if (scratch.size() <= static_cast<size_t>(n)) scratch.resize(n + 1);
  return scratch.data();
}

}  // namespace

// reduce(op, x, out, shape, axesMask): axesMask is an Int32Array with 1 for
// each reduced axis.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  const ReduceShape r = reduceShapeOf(info, 3, "reduce");
  const float* x = f32(info, 1, "reduce", r.total);
  float* out = f32(info, 2, "reduce", r.outSize);
  const int64_t inner = lastAxisRows(r);
  if (op == kReduceSum && inner > 0) {
    // Rows of `inner` contiguous elements, each summed as KT->reduce sums
    // it (rowSum, then rounded to float): the rows split over the pool.
    const int64_t rows = r.total / inner;
    parallelForUnits(rows, std::max<int64_t>(1, parallelMin / inner), [&](int64_t r0, int64_t r1) {
      KT->rowSums(x + r0 * inner, r1 - r0, inner, out + r0);
    });
    return info.Env().Undefined();
  }
  KT->reduce(op, x, out, r.dims, r.red, r.rank, threadScratch<double>(r.outSize));
  return info.Env().Undefined();
}

namespace {

// The steps of the library's logSumExp composite up to the sum, each through
// the kernel-table routine its tfjs kernel runs (Max, IsFinite and Select,
// Sub, Exp, Sum): shift = max of x over the axes, or 0 where that max is not
// finite (outSize elements), e = exp(x − shift) (x's size), s = Σ e over the
// axes (outSize). Reductions run as Reduce runs them (no denormal flush),
// the element-wise steps as Binary and Unary do (flushed).
void shiftedExp(const ReduceShape& r, const float* x, float* shift, float* e, float* s) {
  KT->reduce(kReduceMax, x, shift, r.dims, r.red, r.rank, threadScratch<double>(r.outSize));
  for (int64_t i = 0; i < r.outSize; ++i) shift[i] = std::isfinite(shift[i]) ? shift[i] : 0.0f;
  if (r.total > 0) {
    BroadcastPlan p;
    makeBroadcastPlan(r.shape, r.rank, r.kept, r.rank, &p);
    parallelFor(r.total, 8192, [&](int64_t b0, int64_t e0) {
      FlushDenormals ftz;
      KT->binary(kSub, x, shift, e, p, b0, e0);
      KT->unary(kExp, e, e, b0, e0, 0.0f, 0.0f);
    });
  }
  KT->reduce(kReduceSum, e, s, r.dims, r.red, r.rank, threadScratch<double>(r.outSize));
}

// The plan of an element-wise op on two operands of n elements.
BroadcastPlan flatPlan(int64_t n) {
  const int32_t len = static_cast<int32_t>(n);
  BroadcastPlan p;
  makeBroadcastPlan(&len, 1, &len, 1, &p);
  return p;
}

}  // namespace

// logSumExp(x, e, out, shape, axesMask): out = log(Σ exp(x − shift)) + shift
// over the masked axes of x (shape), shift = the max there or 0 where it is
// not finite, in the composite's kernels' steps and roundings (Max, Select,
// Sub, Exp, Sum, Log, Add); e (x's size) is scratch for the exponentials.
Napi::Value LogSumExp(const Napi::CallbackInfo& info) {
  const ReduceShape r = reduceShapeOf(info, 3, "logSumExp");
  const float* x = f32(info, 0, "logSumExp", r.total);
  float* e = f32(info, 1, "logSumExp", r.total);
  float* out = f32(info, 2, "logSumExp", r.outSize);
  float* shift = threadScratch<float>(r.outSize);
  shiftedExp(r, x, shift, e, out);
  if (r.outSize > 0) {
    const BroadcastPlan p = flatPlan(r.outSize);
    FlushDenormals ftz;
    KT->unary(kLog, out, out, 0, r.outSize, 0.0f, 0.0f);
    KT->binary(kAdd, out, shift, out, p, 0, r.outSize);
  }
  return info.Env().Undefined();
}

// logSumExpGrad(x, dy, dx, shape, axesMask): dx = (dy / s)·e, the gradient of
// logSumExp for upstream dy (one value per output element), with e and s
// recomputed from x as logSumExp computes them, rounded as RealDiv and
// Multiply round.
Napi::Value LogSumExpGrad(const Napi::CallbackInfo& info) {
  const ReduceShape r = reduceShapeOf(info, 3, "logSumExpGrad");
  const float* x = f32(info, 0, "logSumExpGrad", r.total);
  const float* dy = f32(info, 1, "logSumExpGrad", r.outSize);
  float* dx = f32(info, 2, "logSumExpGrad", r.total);
  float* shift = threadScratch<float>(2 * r.outSize);
  float* q = shift + r.outSize;
  shiftedExp(r, x, shift, dx, q);
  if (r.total > 0) {
    const BroadcastPlan pq = flatPlan(r.outSize);
    BroadcastPlan p;
    makeBroadcastPlan(r.kept, r.rank, r.shape, r.rank, &p);
    FlushDenormals ftz;
    KT->binary(kDiv, dy, q, q, pq, 0, r.outSize);
    parallelFor(r.total, parallelMin, [&](int64_t b0, int64_t e0) {
      FlushDenormals ftzWorker;
      KT->binary(kMul, q, dx, dx, p, b0, e0);
    });
  }
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

// addScaled(a, b, out, s): out = a + b·s element-wise (a, b and out of one
// length), the product rounded to float first, denormals flushed as the
// Multiply and Add kernels flush them.
Napi::Value AddScaled(const Napi::CallbackInfo& info) {
  const char* fn = "addScaled";
  const View av = f32View(info, 0, fn);
  const int64_t n = static_cast<int64_t>(av.length);
  const float* a = static_cast<const float*>(av.data);
  const float* b = f32(info, 1, fn, static_cast<size_t>(n));
  float* out = f32(info, 2, fn, static_cast<size_t>(n));
  const float sc = static_cast<float>(num(info, 3));
  parallelFor(n, parallelMin, [&](int64_t b0, int64_t e0) {
    FlushDenormals ftz;
    KT->addScaled(a, b, sc, out, b0, e0);
  });
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
  parallelForUnits(n / cols, std::max<int64_t>(1, parallelMin / cols), [&](int64_t r0, int64_t r1) {
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
