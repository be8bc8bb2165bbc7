// Kernels on float32 buffers. Compiled twice (see binding.gyp): with
// ZSN_NS=zsn_avx2 and -mavx2 -mfma, and with ZSN_NS=zsn_base for any x86-64 /
// other CPU. Loops are written so that GCC vectorises them (-O3): branch-free
// selects, and exp/log as polynomials instead of libm calls (libm's scalar
// expf would cost ~10 ns an element). -ffp-contract=off keeps every float
// operation rounded the way tfjs' cpu kernels round (JS double, then fround),
// so +,-,*,/,sqrt and Adam match the cpu backend bit for bit.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#ifndef ZSN_NS
#error "ZSN_NS must name the namespace of this build"
#endif

#if defined(__FMA__)
#define ZSN_MADD(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define ZSN_MADD(a, b, c) ((a) * (b) + (c))
#endif

namespace ZSN_NS {
using namespace zsn;

namespace {

inline float asFloat(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline int32_t asInt(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// exp(x), ~1 ulp (Cephes' expf polynomial, Cody-Waite reduction); the
// power of two is applied as two factors so that denormal results survive.
inline float fexp(float x) {
  const float xc = std::min(std::max(x, -104.0f), 89.0f);
  const float t = xc * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = ZSN_MADD(p, r, 1.3981999507e-3f);
  p = ZSN_MADD(p, r, 8.3334519073e-3f);
  p = ZSN_MADD(p, r, 4.1665795894e-2f);
  p = ZSN_MADD(p, r, 1.6666665459e-1f);
  p = ZSN_MADD(p, r, 5.0000001201e-1f);
  const float r2 = r * r;
  p = ZSN_MADD(p, r2, r) + 1.0f;
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1;
  const int32_t n2 = ni - n1;
  const float res = p * asFloat((n1 + 127) << 23) * asFloat((n2 + 127) << 23);
  return x != x ? x : res;
}

// log(x), ~1 ulp (Cephes' logf); handles denormals, 0, negatives, inf, NaN.
inline float flog(float x) {
  const bool tiny = x < 1.17549435e-38f;
  const float xs = tiny ? x * 33554432.0f : x;  // 2^25
  const int32_t bits = asInt(xs);
  int32_t e = ((bits >> 23) & 0xff) - 126 - (tiny ? 25 : 0);
  float m = asFloat((bits & 0x807fffff) | 0x3f000000);  // [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e -= small ? 1 : 0;
  m = small ? (m + m) - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = ZSN_MADD(y, m, -1.1514610310e-1f);
  y = ZSN_MADD(y, m, 1.1676998740e-1f);
  y = ZSN_MADD(y, m, -1.2420140846e-1f);
  y = ZSN_MADD(y, m, 1.4249322787e-1f);
  y = ZSN_MADD(y, m, -1.6668057665e-1f);
  y = ZSN_MADD(y, m, 2.0000714765e-1f);
  y = ZSN_MADD(y, m, -2.4999993993e-1f);
  y = ZSN_MADD(y, m, 3.3333331174e-1f);
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float res = m + y + fe * 0.693359375f;
  const float inf = std::numeric_limits<float>::infinity();
  res = x == 0.0f ? -inf : res;
  res = x == inf ? inf : res;
  res = (x < 0.0f || x != x) ? std::numeric_limits<float>::quiet_NaN() : res;
  return res;
}

// log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg), exact for tiny x.
inline float flog1p(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  const float l = flog(u);
  const float res = (u == 1.0f) ? x : l * (x / (d == 0.0f ? 1.0f : d));
  return u == std::numeric_limits<float>::infinity() ? u : res;
}

inline float fsigmoid(float x) { return 1.0f / (1.0f + fexp(-x)); }

// softplus(x) = max(x, 0) + log1p(t), t = exp(-|x|) in (0, 1]. On that range
// log1p(t) = 2 atanh(s) with s = t / (2 + t) <= 1/3: an odd series in s whose
// terms past s^13 are below float precision; cheaper than a general log.
inline float fsoftplus(float x) {
  const float t = fexp(-std::fabs(x));
  const float sv = t / (2.0f + t);
  const float u = sv * sv;
  float p = 1.0f / 13.0f;
  p = ZSN_MADD(p, u, 1.0f / 11.0f);
  p = ZSN_MADD(p, u, 1.0f / 9.0f);
  p = ZSN_MADD(p, u, 1.0f / 7.0f);
  p = ZSN_MADD(p, u, 1.0f / 5.0f);
  p = ZSN_MADD(p, u, 1.0f / 3.0f);
  p = ZSN_MADD(p, u, 1.0f);
  const float l = 2.0f * sv * p;
  const float res = std::max(x, 0.0f) + l;
  return x != x ? x : res;
}

inline float fmaxNaN(float a, float b) { return (a >= b || a != a) ? a : b; }
inline float fminNaN(float a, float b) { return (a <= b || a != a) ? a : b; }

// ---- broadcast iteration -------------------------------------------------

template <class T, class F>
void broadcastLoop(F f, const float* a, const float* b, T* out, const BroadcastPlan& p,
                   int64_t begin, int64_t end) {
  if (begin >= end) return;
  const int r = p.rank;
  const int64_t inner = p.dims[r - 1];
  const int64_t sai = p.sa[r - 1], sbi = p.sb[r - 1];
  int64_t coord[kMaxRank];
  int64_t ia = 0, ib = 0;
  {
    int64_t rem = begin;
    for (int d = r - 1; d >= 0; --d) {
      coord[d] = rem % p.dims[d];
      rem /= p.dims[d];
      ia += coord[d] * p.sa[d];
      ib += coord[d] * p.sb[d];
    }
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t c0 = coord[r - 1];
    const int64_t n = std::min(inner - c0, end - pos);
    T* o = out + pos;
    const float* pa = a + ia;
    const float* pb = b + ib;
    if (sai == 1 && sbi == 1) {
      for (int64_t k = 0; k < n; ++k) o[k] = f(pa[k], pb[k]);
    } else if (sai == 1 && sbi == 0) {
      const float bv = pb[0];
      for (int64_t k = 0; k < n; ++k) o[k] = f(pa[k], bv);
    } else if (sai == 0 && sbi == 1) {
      const float av = pa[0];
      for (int64_t k = 0; k < n; ++k) o[k] = f(av, pb[k]);
    } else {
      for (int64_t k = 0; k < n; ++k) o[k] = f(pa[k * sai], pb[k * sbi]);
    }
    pos += n;
    ia += n * sai;
    ib += n * sbi;
    coord[r - 1] = c0 + n;
    // Carry into the outer dimensions.
    for (int d = r - 1; d > 0 && coord[d] == p.dims[d]; --d) {
      ia -= coord[d] * p.sa[d];
      ib -= coord[d] * p.sb[d];
      coord[d] = 0;
      coord[d - 1] += 1;
      ia += p.sa[d - 1];
      ib += p.sb[d - 1];
    }
  }
}

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

template <class F>
inline void zip(F f, const float* __restrict dy, const float* __restrict y, float* out,
                int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = f(dy[i], y[i]);
}

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

void colSum(const float* x, float* out, int64_t rows, int64_t cols) {
  // Blocks of 256 columns keep the double accumulators in L1.
  double acc[256];
  for (int64_t c0 = 0; c0 < cols; c0 += 256) {
    const int64_t w = std::min<int64_t>(256, cols - c0);
    for (int64_t c = 0; c < w; ++c) acc[c] = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols + c0;
      for (int64_t c = 0; c < w; ++c) acc[c] += static_cast<double>(xr[c]);
    }
    for (int64_t c = 0; c < w; ++c) out[c0 + c] = static_cast<float>(acc[c]);
  }
}

// ---- reductions ------------------------------------------------------------

inline double rowSum(const float* x, int64_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) s[l] += static_cast<double>(x[i + l]);
  }
  double t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) t += static_cast<double>(x[i]);
  return t;
}

inline float rowMax(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    nan |= x[i] != x[i];
    m = x[i] > m ? x[i] : m;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

inline float rowMin(const float* x, int64_t n) {
  float m = std::numeric_limits<float>::infinity();
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    nan |= x[i] != x[i];
    m = x[i] < m ? x[i] : m;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

// Reduces over the flagged axes. Walks x in memory order; the innermost
// (collapsed) axis is either reduced (row reductions) or kept (column
// accumulation into a double scratch of the output's size).
void reduce(int op, const float* x, float* out, const int64_t* dimsIn, const uint8_t* redIn,
            int rankIn, double* acc) {
  // Collapse: drop size-1 axes, merge neighbours with the same flag.
  int64_t dims[kMaxRank];
  bool red[kMaxRank];
  int rank = 0;
  int64_t total = 1, outSize = 1;
  for (int d = 0; d < rankIn; ++d) {
    total *= dimsIn[d];
    if (!redIn[d]) outSize *= dimsIn[d];
    if (dimsIn[d] == 1) continue;
    if (rank > 0 && red[rank - 1] == static_cast<bool>(redIn[d])) {
      dims[rank - 1] *= dimsIn[d];
    } else {
      dims[rank] = dimsIn[d];
      red[rank] = redIn[d] != 0;
      ++rank;
    }
  }
  if (total == 0) {
    // Empty reduction: identity values (tfjs gives 0 for sum/mean-of-empty NaN).
    const float v = op == kReduceProd   ? 1.0f
                    : op == kReduceMax  ? -std::numeric_limits<float>::infinity()
                    : op == kReduceMin  ? std::numeric_limits<float>::infinity()
                    : op == kReduceMean ? std::numeric_limits<float>::quiet_NaN()
                                        : 0.0f;
    for (int64_t i = 0; i < outSize; ++i) out[i] = v;
    return;
  }
  const int64_t count = outSize == 0 ? 0 : total / outSize;
  if (rank == 0) {  // nothing to reduce (all axes size 1)
    std::memcpy(out, x, total * sizeof(float));
    return;
  }
  const double init = op == kReduceProd  ? 1.0
                      : op == kReduceMax ? -std::numeric_limits<double>::infinity()
                      : op == kReduceMin ? std::numeric_limits<double>::infinity()
                                         : 0.0;
  for (int64_t i = 0; i < outSize; ++i) acc[i] = init;
  // Output strides of the collapsed dims (0 for reduced ones).
  int64_t ostride[kMaxRank];
  {
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; --d) {
      ostride[d] = red[d] ? 0 : s;
      if (!red[d]) s *= dims[d];
    }
  }
  const int64_t inner = dims[rank - 1];
  const bool innerRed = red[rank - 1];
  const int64_t rows = total / inner;
  int64_t coord[kMaxRank] = {0};
  int64_t oi = 0;
  bool nanSeen = false;
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = x + row * inner;
    if (innerRed) {
      double v;
      switch (op) {
        case kReduceMax:
          v = rowMax(xr, inner);
          if (v != v) nanSeen = true;
          acc[oi] = std::max(acc[oi], v);
          break;
        case kReduceMin:
          v = rowMin(xr, inner);
          if (v != v) nanSeen = true;
          acc[oi] = std::min(acc[oi], v);
          break;
        case kReduceProd: {
          double pr = 1.0;
          for (int64_t k = 0; k < inner; ++k) pr *= xr[k];
          acc[oi] *= pr;
          break;
        }
        default:
          acc[oi] += rowSum(xr, inner);
      }
    } else {
      double* a = acc + oi;
      switch (op) {
        case kReduceMax:
          for (int64_t k = 0; k < inner; ++k) {
            const double v = xr[k];
            a[k] = (v > a[k] || v != v) ? v : a[k];
          }
          break;
        case kReduceMin:
          for (int64_t k = 0; k < inner; ++k) {
            const double v = xr[k];
            a[k] = (v < a[k] || v != v) ? v : a[k];
          }
          break;
        case kReduceProd:
          for (int64_t k = 0; k < inner; ++k) a[k] *= xr[k];
          break;
        default:
          for (int64_t k = 0; k < inner; ++k) a[k] += static_cast<double>(xr[k]);
      }
    }
    // Advance the odometer over the outer (collapsed) dims.
    for (int d = rank - 2; d >= 0; --d) {
      coord[d] += 1;
      oi += ostride[d];
      if (coord[d] < dims[d]) break;
      oi -= coord[d] * ostride[d];
      coord[d] = 0;
    }
  }
  if (op == kReduceMean) {
    const double inv = 1.0 / static_cast<double>(count);
    for (int64_t i = 0; i < outSize; ++i) out[i] = static_cast<float>(acc[i] * inv);
  } else {
    for (int64_t i = 0; i < outSize; ++i) out[i] = static_cast<float>(acc[i]);
  }
  // NaN rows in max/min must stay NaN (std::max drops them).
  if (nanSeen && innerRed) {
    // Recompute per output row which ones saw NaN: rare path, simple loop.
    std::fill(acc, acc + outSize, 0.0);
    for (int d = 0; d < rank; ++d) coord[d] = 0;
    oi = 0;
    for (int64_t row = 0; row < rows; ++row) {
      const float* xr = x + row * inner;
      for (int64_t k = 0; k < inner; ++k) {
        if (xr[k] != xr[k]) acc[oi] = 1.0;
      }
      for (int d = rank - 2; d >= 0; --d) {
        coord[d] += 1;
        oi += ostride[d];
        if (coord[d] < dims[d]) break;
        oi -= coord[d] * ostride[d];
        coord[d] = 0;
      }
    }
    for (int64_t i = 0; i < outSize; ++i) {
      if (acc[i] != 0.0) out[i] = std::numeric_limits<float>::quiet_NaN();
    }
  }
}

// ---- Adam --------------------------------------------------------------------

// 0.5 log(2 pi) as the float32 scalar tfjs would make of it.
constexpr float kHalfLog2Pi = 0.918938533204672742f;

void normalLogProb(const float* __restrict x, const float* __restrict m, const float* __restrict s,
                   float* __restrict out, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const float z = (x[k] - m[k]) * fexp(-s[k]);
    out[k] = ((z * z) * -0.5f - kHalfLog2Pi) - s[k];
  }
}

void normalLogProbGrad(const float* __restrict x, const float* __restrict m,
                       const float* __restrict s, const float* __restrict dy, float* __restrict gx,
                       float* __restrict gs, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const float e = fexp(-s[k]);
    const float z = (x[k] - m[k]) * e;
    gx[k] = -(z * e) * dy[k];
    gs[k] = (z * z - 1.0f) * dy[k];
  }
}

void bernoulliLogProb(const float* __restrict l, const float* __restrict x, float* __restrict out,
                      int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = x[k] * l[k] - fsoftplus(l[k]);
}

void bernoulliLogProbGrad(const float* __restrict l, const float* __restrict x,
                          const float* __restrict dy, float* __restrict out, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = dy[k] * (x[k] - fsigmoid(l[k]));
}

void normalSample(const float* __restrict m, const float* __restrict s, float* __restrict noise,
                  float* __restrict z, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    const float e = noise[k] * fexp(s[k]);
    noise[k] = e;
    z[k] = e + m[k];
  }
}

double sum(const float* x, int64_t n) { return rowSum(x, n); }

void adam(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g,
          int64_t begin, int64_t end, float b1, float oneMinusB1, float b2, float oneMinusB2,
          float bc1, float bc2, float eps, float negLr) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * oneMinusB1;
    const float vi = v[i] * b2 + (gi * gi) * oneMinusB2;
    m[i] = mi;
    v[i] = vi;
    const float mh = mi / bc1;
    const float vh = vi / bc2;
    p[i] = (mh / (std::sqrt(vh) + eps)) * negLr + p[i];
  }
}

const KernelTable kTable = {binary,
                            compare,
                            unary,
                            biasAct,
                            actGrad,
                            colSum,
                            reduce,
                            normalLogProb,
                            normalLogProbGrad,
                            bernoulliLogProb,
                            bernoulliLogProbGrad,
                            normalSample,
                            sum,
                            adam};

}  // namespace

const KernelTable* table() { return &kTable; }

}  // namespace ZSN_NS
