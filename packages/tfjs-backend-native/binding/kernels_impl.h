// Shared by the kernel files (kernels_*.cc, and kernels.cc, the table), which
// binding.gyp compiles twice: with ZSN_NS=zsn_avx2 and -mavx2 -mfma, and with
// ZSN_NS=zsn_base for any x86-64 / other CPU. Holds ZSN_MADD, the inline float
// math (exp, log, log1p, sigmoid and softplus as polynomials; NaN-propagating
// max and min) and the kernels' declarations. Loops are written so that GCC
// vectorises them (-O3): branch-free selects, and exp/log as polynomials
// instead of libm calls (libm's scalar expf would cost ~10 ns an element).
// -ffp-contract=off keeps every float operation rounded the way tfjs' cpu
// kernels round (JS double, then fround), so +,-,*,/,sqrt and Adam match the
// cpu backend bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels.h"

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

// Internal to each file that includes this header.
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

// out[i] = f(a[ia], b[ib]) over output elements [begin, end) of a broadcast
// plan (element types In of the operands, T of the output).
template <class T, class In, class F>
void broadcastLoop(F f, const In* a, const In* b, T* out, const BroadcastPlan& p, int64_t begin,
                   int64_t end) {
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
    const In* pa = a + ia;
    const In* pb = b + ib;
    if (sai == 1 && sbi == 1) {
      for (int64_t k = 0; k < n; ++k) o[k] = f(pa[k], pb[k]);
    } else if (sai == 1 && sbi == 0) {
      const In bv = pb[0];
      for (int64_t k = 0; k < n; ++k) o[k] = f(pa[k], bv);
    } else if (sai == 0 && sbi == 1) {
      const In av = pa[0];
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

}  // namespace

// The kernels, documented in KernelTable (kernels.h). kernels_elementwise.cc:
void binary(int op, const float* a, const float* b, float* out, const BroadcastPlan& p,
            int64_t begin, int64_t end);
void compare(int op, const float* a, const float* b, uint8_t* out, const BroadcastPlan& p,
             int64_t begin, int64_t end);
void unary(int op, const float* x, float* out, int64_t begin, int64_t end, float alpha, float beta);
// kernels_logical.cc:
void logical(int op, const uint8_t* a, const uint8_t* b, uint8_t* out, const BroadcastPlan& p,
             int64_t begin, int64_t end);
void predicate(int op, const void* x, uint8_t* out, int64_t begin, int64_t end);
void select(const uint8_t* cond, const void* t, Elem tType, const void* e, Elem eType, void* out,
            Elem outType, int64_t inner, int64_t begin, int64_t end);
void biasAct(float* out, const float* bias, int64_t rows, int64_t cols, int act, float alpha);
void actGrad(int act, const float* dy, const float* y, float* out, int64_t begin, int64_t end,
             float alpha);
// kernels_reduce.cc:
void colSum(const float* x, float* out, int64_t rows, int64_t cols);
void reduce(int op, const float* x, float* out, const int64_t* dims, const uint8_t* reduced,
            int rank, double* scratch);
double sum(const float* x, int64_t n);
void rowSums(const float* x, int64_t rows, int64_t inner, float* out);
// kernels_fused.cc:
void normalLogProb(const float* x, const float* m, const float* s, const float* e, float* out,
                   int64_t n);
void normalLogProbGrad(const float* x, const float* m, const float* s, const float* e,
                       const float* dy, float* gx, float* gs, int64_t n);
void expNeg(const float* s, float* e, int64_t n);
void bernoulliLogProb(const float* l, const float* x, float* out, int64_t n);
void bernoulliLogProbGrad(const float* l, const float* x, const float* dy, float* out, int64_t n);
void normalSample(const float* m, const float* s, float* noise, float* z, int64_t n);
void countsDot(const float* x, const float* l, float* out, int64_t n, bool logOf);
void countsDotGrad(const float* x, const float* l, const float* dy, float* out, int64_t n,
                   bool logOf);
void planarParams(const float* w, const float* uHat, int64_t dim, float* u, float* p);
void planarRows(const float* x, const float* w, const float* u, float wu, float b, float* y,
                float* ld, int64_t dim, int64_t r0, int64_t r1);
void planarRowsGrad(const float* dy, const float* dl, const float* x, const float* w,
                    const float* u, float wu, float b, float* dx, double* du, double* dwx,
                    double* s, int64_t dim, int64_t r0, int64_t r1);
void rbfRows(const float* xx, const float* yy, float* k, float* kh, int64_t m, int64_t r0,
             int64_t r1);
void addScaled(const float* a, const float* b, float s, float* out, int64_t begin, int64_t end);
void adam(float* p, float* m, float* v, const float* g, int64_t begin, int64_t end, float b1,
          float oneMinusB1, float b2, float oneMinusB2, float bc1, float bc2, float eps,
          float negLr);
void sgmcmc(const SgmcmcArgs& a, int64_t begin, int64_t end);

}  // namespace ZSN_NS
