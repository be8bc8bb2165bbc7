// Element-wise entry points: broadcasting binary ops and comparisons, unary
// ops, the boolean kernels and Select, reductions over any axes, softmax, the
// fused Adam update and fill.
// Each splits its output over the pool (pool.h) and runs the kernel table's
// loop.
#include <algorithm>
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
