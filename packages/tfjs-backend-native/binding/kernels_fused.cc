// Fused kernels: the Normal and Bernoulli log-densities and their gradients,
// the reparameterised Normal sample, and the Adam update.
#include "kernels_impl.h"

namespace ZSN_NS {

namespace {

// 0.5 log(2 pi) as the float32 scalar tfjs would make of it.
constexpr float kHalfLog2Pi = 0.918938533204672742f;

}  // namespace

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

void countsDot(const float* __restrict x, const float* __restrict l, float* __restrict out,
               int64_t n, bool logOf) {
  // The product is taken everywhere and then selected: a branch on x would
  // mispredict on every other element of a sparse count vector.
  if (logOf) {
    for (int64_t k = 0; k < n; ++k) {
      const float p = x[k] * flog(l[k]);
      out[k] = x[k] == 0.0f ? 0.0f : p;
    }
  } else {
    for (int64_t k = 0; k < n; ++k) {
      const float p = x[k] * l[k];
      out[k] = x[k] == 0.0f ? 0.0f : p;
    }
  }
}

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

}  // namespace ZSN_NS
