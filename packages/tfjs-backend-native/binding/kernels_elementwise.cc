// Element-wise kernels: broadcasting binary ops and comparisons, unary ops,
// and the matmul epilogue (bias and activation) with its gradient.
#include "kernels_impl.h"

namespace ZSN_NS {

void binary(int op, const float* a, const float* b, float* out, const BroadcastPlan& p,
            int64_t begin, int64_t end) {
  switch (op) {
    case kAdd:
      return broadcastLoop<float>([](float x, float y) { return x + y; }, a, b, out, p, begin, end);
    case kSub:
      return broadcastLoop<float>([](float x, float y) { return x - y; }, a, b, out, p, begin, end);
    case kMul:
      return broadcastLoop<float>([](float x, float y) { return x * y; }, a, b, out, p, begin, end);
    case kDiv:
      return broadcastLoop<float>([](float x, float y) { return x / y; }, a, b, out, p, begin, end);
    case kMax:
      return broadcastLoop<float>(fmaxNaN, a, b, out, p, begin, end);
    case kMin:
      return broadcastLoop<float>(fminNaN, a, b, out, p, begin, end);
    case kSquaredDifference:
      return broadcastLoop<float>(
          [](float x, float y) {
            const float d = x - y;
            return d * d;
          },
          a, b, out, p, begin, end);
    case kPow:
      return broadcastLoop<float>([](float x, float y) { return std::pow(x, y); }, a, b, out, p,
                                  begin, end);
    case kPrelu:
      return broadcastLoop<float>([](float x, float al) { return x < 0.0f ? al * x : x; }, a, b,
                                  out, p, begin, end);
    case kAtan2:
      return broadcastLoop<float>([](float x, float y) { return std::atan2(x, y); }, a, b, out, p,
                                  begin, end);
    case kBernoulliLogProb:
      // Rounded like Multiply, Softplus and Sub one after another.
      return broadcastLoop<float>([](float l, float x) { return x * l - fsoftplus(l); }, a, b, out,
                                  p, begin, end);
    default:
      return;
  }
}

void compare(int op, const float* a, const float* b, uint8_t* out, const BroadcastPlan& p,
             int64_t begin, int64_t end) {
  switch (op) {
    case kEqual:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x == y; }, a, b, out,
                                    p, begin, end);
    case kNotEqual:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x != y; }, a, b, out,
                                    p, begin, end);
    case kLess:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x < y; }, a, b, out, p,
                                    begin, end);
    case kLessEqual:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x <= y; }, a, b, out,
                                    p, begin, end);
    case kGreater:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x > y; }, a, b, out, p,
                                    begin, end);
    case kGreaterEqual:
      return broadcastLoop<uint8_t>([](float x, float y) -> uint8_t { return x >= y; }, a, b, out,
                                    p, begin, end);
    default:
      return;
  }
}

// ---- unary ---------------------------------------------------------------

namespace {

template <class F>
inline void map(F f, const float* __restrict x, float* __restrict out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = f(x[i]);
}
// In-place variant (x == out): no restrict.
template <class F>
inline void mapAlias(F f, const float* x, float* out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = f(x[i]);
}

template <class F>
inline void apply(F f, const float* x, float* out, int64_t begin, int64_t end) {
  if (x == out) {
    mapAlias(f, x, out, begin, end);
  } else {
    map(f, x, out, begin, end);
  }
}

constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;

}  // namespace

void unary(int op, const float* x, float* out, int64_t begin, int64_t end, float alpha,
           float beta) {
  switch (op) {
    case kNeg:
      return apply([](float v) { return -v; }, x, out, begin, end);
    case kAbs:
      return apply([](float v) { return std::fabs(v); }, x, out, begin, end);
    case kExp:
      return apply(fexp, x, out, begin, end);
    case kLog:
      return apply(flog, x, out, begin, end);
    case kLog1p:
      return apply(flog1p, x, out, begin, end);
    case kSqrt:
      return apply([](float v) { return std::sqrt(v); }, x, out, begin, end);
    case kRsqrt:
      return apply([](float v) { return 1.0f / std::sqrt(v); }, x, out, begin, end);
    case kSquare:
      return apply([](float v) { return v * v; }, x, out, begin, end);
    case kReciprocal:
      return apply([](float v) { return 1.0f / v; }, x, out, begin, end);
    case kSigmoid:
      return apply(fsigmoid, x, out, begin, end);
    case kSoftplus:
      return apply(fsoftplus, x, out, begin, end);
    case kRelu:
      return apply([](float v) { return v < 0.0f ? 0.0f : v; }, x, out, begin, end);
    case kRelu6:
      return apply([](float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }, x, out, begin,
                   end);
    case kStep:
      return apply([alpha](float v) { return v != v ? v : (v > 0.0f ? 1.0f : alpha); }, x, out,
                   begin, end);
    case kSign:
      return apply([](float v) { return v < 0.0f ? -1.0f : (v > 0.0f ? 1.0f : 0.0f); }, x, out,
                   begin, end);
    case kTanh:
      return apply([](float v) { return std::tanh(v); }, x, out, begin, end);
    case kElu:
      return apply([](float v) { return v >= 0.0f ? v : std::expm1(v); }, x, out, begin, end);
    case kLeakyRelu:
      return apply([alpha](float v) { return v < 0.0f ? alpha * v : v; }, x, out, begin, end);
    case kExpm1:
      return apply([](float v) { return std::expm1(v); }, x, out, begin, end);
    case kSin:
      return apply([](float v) { return std::sin(v); }, x, out, begin, end);
    case kCos:
      return apply([](float v) { return std::cos(v); }, x, out, begin, end);
    case kFloor:
      return apply([](float v) { return std::floor(v); }, x, out, begin, end);
    case kCeil:
      return apply([](float v) { return std::ceil(v); }, x, out, begin, end);
    case kClip:
      return apply(
          [alpha, beta](float v) { return v != v ? v : std::min(std::max(v, alpha), beta); }, x,
          out, begin, end);
    case kSelu:
      return apply(
          [](float v) {
            return v >= 0.0f ? kSeluScale * v : kSeluScale * kSeluAlpha * std::expm1(v);
          },
          x, out, begin, end);
    case kRound:
      return apply([](float v) { return std::nearbyint(v); }, x, out, begin, end);
    case kErf:
      return apply([](float v) { return std::erf(v); }, x, out, begin, end);
    case kLinear:
      if (x != out) std::memcpy(out + begin, x + begin, (end - begin) * sizeof(float));
      return;
    default:
      return;
  }
}

// ---- matmul epilogue and dense backward helpers ---------------------------

namespace {

template <class F>
inline void rowsBias(F f, float* __restrict out, const float* __restrict bias, int64_t rows,
                     int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * cols;
    if (bias != nullptr) {
      for (int64_t c = 0; c < cols; ++c) o[c] = f(o[c] + bias[c]);
    } else {
      for (int64_t c = 0; c < cols; ++c) o[c] = f(o[c]);
    }
  }
}

}  // namespace

void biasAct(float* out, const float* bias, int64_t rows, int64_t cols, int act, float alpha) {
  switch (act) {
    case kActLinear:
      if (bias != nullptr) rowsBias([](float v) { return v; }, out, bias, rows, cols);
      return;
    case kActRelu:
      return rowsBias([](float v) { return v < 0.0f ? 0.0f : v; }, out, bias, rows, cols);
    case kActRelu6:
      return rowsBias([](float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }, out, bias,
                      rows, cols);
    case kActElu:
      return rowsBias([](float v) { return v >= 0.0f ? v : std::expm1(v); }, out, bias, rows, cols);
    case kActLeakyRelu:
      return rowsBias([alpha](float v) { return v < 0.0f ? alpha * v : v; }, out, bias, rows, cols);
    case kActSigmoid:
      return rowsBias(fsigmoid, out, bias, rows, cols);
    default:
      return;
  }
}

namespace {

template <class F>
inline void zip(F f, const float* __restrict dy, const float* __restrict y, float* out,
                int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = f(dy[i], y[i]);
}

}  // namespace

void actGrad(int act, const float* dy, const float* y, float* out, int64_t begin, int64_t end,
             float alpha) {
  switch (act) {
    case kActRelu:
      return zip([](float g, float v) { return v > 0.0f ? g : 0.0f; }, dy, y, out, begin, end);
    case kActRelu6:
      return zip([](float g, float v) { return (v > 0.0f && v < 6.0f) ? g : 0.0f; }, dy, y, out,
                 begin, end);
    case kActElu:
      return zip([](float g, float v) { return v < 0.0f ? g * (v + 1.0f) : g; }, dy, y, out, begin,
                 end);
    case kActLeakyRelu:
      return zip([alpha](float g, float v) { return v > 0.0f ? g : alpha * g; }, dy, y, out, begin,
                 end);
    case kActSigmoid:
      return zip([](float g, float v) { return g * (v * (1.0f - v)); }, dy, y, out, begin, end);
    default:
      if (dy != out) std::memcpy(out + begin, dy + begin, (end - begin) * sizeof(float));
      return;
  }
}

}  // namespace ZSN_NS
