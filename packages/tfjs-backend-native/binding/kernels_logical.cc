// Boolean and selection kernels on tfjs' bool storage (one uint8 an
// element): LogicalAnd/LogicalOr with broadcasting, LogicalNot, the float
// predicates IsFinite/IsNan/IsInf, and Select. Each writes what the cpu
// kernel's JavaScript writes, for any byte values, not only 0 and 1:
// `a && b` is a ? b : a, `a || b` is a ? a : b, `x ? 0 : 1`, and Select takes
// t only where the condition byte is exactly 1 (`values[i] === 1`).
#include "kernels_impl.h"

namespace ZSN_NS {

void logical(int op, const uint8_t* a, const uint8_t* b, uint8_t* out, const BroadcastPlan& p,
             int64_t begin, int64_t end) {
  switch (op) {
    case kLogicalAnd:
      return broadcastLoop<uint8_t>([](uint8_t x, uint8_t y) -> uint8_t { return x ? y : x; }, a, b,
                                    out, p, begin, end);
    case kLogicalOr:
      return broadcastLoop<uint8_t>([](uint8_t x, uint8_t y) -> uint8_t { return x ? x : y; }, a, b,
                                    out, p, begin, end);
    default:
      return;
  }
}

namespace {

template <class In, class F>
inline void test(F f, const In* __restrict x, uint8_t* __restrict out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = f(x[i]);
}

// The exponent bits of a float32 all set: ±Inf or NaN.
constexpr int32_t kExpMask = 0x7f800000;

}  // namespace

void predicate(int op, const void* x, uint8_t* out, int64_t begin, int64_t end) {
  const float* xf = static_cast<const float*>(x);
  switch (op) {
    case kLogicalNot:
      return test([](uint8_t v) -> uint8_t { return v ? 0 : 1; }, static_cast<const uint8_t*>(x),
                  out, begin, end);
    case kIsFinite:
      return test([](float v) -> uint8_t { return (asInt(v) & kExpMask) != kExpMask; }, xf, out,
                  begin, end);
    case kIsNan:
      return test([](float v) -> uint8_t { return v != v; }, xf, out, begin, end);
    case kIsInf:
      return test(
          [](float v) -> uint8_t { return std::fabs(v) == std::numeric_limits<float>::infinity(); },
          xf, out, begin, end);
    default:
      return;
  }
}

namespace {

// Select with the operands' and output's element types fixed.
template <class O, class T, class E>
void selectAs(const uint8_t* __restrict c, const T* __restrict t, const E* __restrict e,
              O* __restrict out, int64_t inner, int64_t begin, int64_t end) {
  if (inner == 1) {
    for (int64_t i = begin; i < end; ++i) {
      out[i] = c[i] == 1 ? static_cast<O>(t[i]) : static_cast<O>(e[i]);
    }
    return;
  }
  // One condition byte per row of `inner` elements: copy the row's run from t or e.
  for (int64_t i = begin; i < end;) {
    const int64_t row = i / inner;
    const int64_t stop = std::min(end, (row + 1) * inner);
    if (c[row] == 1) {
      for (; i < stop; ++i) out[i] = static_cast<O>(t[i]);
    } else {
      for (; i < stop; ++i) out[i] = static_cast<O>(e[i]);
    }
  }
}

template <class O, class T>
void selectE(const uint8_t* c, const T* t, const void* e, Elem eType, O* out, int64_t inner,
             int64_t begin, int64_t end) {
  switch (eType) {
    case Elem::kF32:
      return selectAs(c, t, static_cast<const float*>(e), out, inner, begin, end);
    case Elem::kI32:
      return selectAs(c, t, static_cast<const int32_t*>(e), out, inner, begin, end);
    case Elem::kU8:
      return selectAs(c, t, static_cast<const uint8_t*>(e), out, inner, begin, end);
  }
}

template <class O>
void selectT(const uint8_t* c, const void* t, Elem tType, const void* e, Elem eType, O* out,
             int64_t inner, int64_t begin, int64_t end) {
  switch (tType) {
    case Elem::kF32:
      return selectE(c, static_cast<const float*>(t), e, eType, out, inner, begin, end);
    case Elem::kI32:
      return selectE(c, static_cast<const int32_t*>(t), e, eType, out, inner, begin, end);
    case Elem::kU8:
      return selectE(c, static_cast<const uint8_t*>(t), e, eType, out, inner, begin, end);
  }
}

}  // namespace

void select(const uint8_t* cond, const void* t, Elem tType, const void* e, Elem eType, void* out,
            Elem outType, int64_t inner, int64_t begin, int64_t end) {
  switch (outType) {
    case Elem::kF32:
      return selectT(cond, t, tType, e, eType, static_cast<float*>(out), inner, begin, end);
    case Elem::kI32:
      return selectT(cond, t, tType, e, eType, static_cast<int32_t*>(out), inner, begin, end);
    case Elem::kU8:
      return selectT(cond, t, tType, e, eType, static_cast<uint8_t*>(out), inner, begin, end);
  }
}

}  // namespace ZSN_NS
