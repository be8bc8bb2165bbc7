// Fused kernels: the Normal and Bernoulli log-densities and their gradients,
// the reparameterised Normal sample, the planar flow step and its gradient,
// the Adam update and the SG-MCMC updates.
#include "kernels_impl.h"

namespace ZSN_NS {

namespace {

// 0.5 log(2 pi) as the float32 scalar tfjs would make of it.
constexpr float kHalfLog2Pi = 0.918938533204672742f;

}  // namespace

void normalLogProb(const float* __restrict x, const float* __restrict m, const float* __restrict s,
                   const float* __restrict e, float* __restrict out, int64_t n) {
  if (e == nullptr) {
    for (int64_t k = 0; k < n; ++k) {
      const float z = (x[k] - m[k]) * fexp(-s[k]);
      out[k] = ((z * z) * -0.5f - kHalfLog2Pi) - s[k];
    }
    return;
  }
  for (int64_t k = 0; k < n; ++k) {
    const float z = (x[k] - m[k]) * e[k];
    out[k] = ((z * z) * -0.5f - kHalfLog2Pi) - s[k];
  }
}

void normalLogProbGrad(const float* __restrict x, const float* __restrict m,
                       const float* __restrict s, const float* __restrict e,
                       const float* __restrict dy, float* __restrict gx, float* __restrict gs,
                       int64_t n) {
  if (e == nullptr) {
    for (int64_t k = 0; k < n; ++k) {
      const float ek = fexp(-s[k]);
      const float z = (x[k] - m[k]) * ek;
      gx[k] = -(z * ek) * dy[k];
      gs[k] = (z * z - 1.0f) * dy[k];
    }
    return;
  }
  for (int64_t k = 0; k < n; ++k) {
    const float z = (x[k] - m[k]) * e[k];
    gx[k] = -(z * e[k]) * dy[k];
    gs[k] = (z * z - 1.0f) * dy[k];
  }
}

void expNeg(const float* __restrict s, float* __restrict e, int64_t n) {
  for (int64_t k = 0; k < n; ++k) e[k] = fexp(-s[k]);
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

void countsDotGrad(const float* __restrict x, const float* __restrict l, const float* __restrict dy,
                   float* __restrict out, int64_t n, bool logOf) {
  if (logOf) {
    for (int64_t k = 0; k < n; ++k) out[k] = (x[k] * dy[k]) / l[k];
  } else {
    for (int64_t k = 0; k < n; ++k) out[k] = x[k] * dy[k];
  }
}

void rbfRows(const float* __restrict xx, const float* __restrict yy, float* __restrict k,
             float* __restrict kh, int64_t m, int64_t r0, int64_t r1) {
  for (int64_t i = r0; i < r1; ++i) {
    float* __restrict kr = k + i * m;
    float* __restrict hr = kh + i * m;
    const float xi = xx[i];
    for (int64_t c = 0; c < m; ++c) {
      const float raw = (xi + yy[c]) - hr[c] * 2.0f;
      const float e = fexp((raw < 0.0f ? 0.0f : raw) * -0.5f);
      kr[c] = e;
      hr[c] = e * (raw != raw ? raw : (raw > 0.0f ? 1.0f : 0.0f));
    }
  }
}

void planarParams(const float* __restrict w, const float* __restrict uHat, int64_t dim,
                  float* __restrict u, float* __restrict p) {
  // The products are rounded to float and summed as Multiply and Sum do.
  for (int64_t j = 0; j < dim; ++j) u[j] = w[j] * uHat[j];
  const float wuHat = static_cast<float>(sum(u, dim));
  for (int64_t j = 0; j < dim; ++j) u[j] = w[j] * w[j];
  const float sw = static_cast<float>(sum(u, dim));
  const float wu = fsoftplus(wuHat) - 1.0f;
  const float c = (wu - wuHat) / sw;
  for (int64_t j = 0; j < dim; ++j) u[j] = uHat[j] + c * w[j];
  p[0] = wuHat;
  p[1] = wu;
  p[2] = sw;
  p[3] = c;
  p[4] = fsigmoid(wuHat);
}

namespace {

// h = tanh(x·w + b) for one row, the dot product in double.
inline float planarH(const float* __restrict x, const float* __restrict w, float b, int64_t dim) {
  double a = 0.0;
  for (int64_t j = 0; j < dim; ++j) a += static_cast<double>(x[j]) * static_cast<double>(w[j]);
  return std::tanh(static_cast<float>(a) + b);
}

}  // namespace

void planarRows(const float* __restrict x, const float* __restrict w, const float* __restrict u,
                float wu, float b, float* __restrict y, float* __restrict ld, int64_t dim,
                int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    const float h = planarH(xr, w, b, dim);
    for (int64_t j = 0; j < dim; ++j) yr[j] = xr[j] + h * u[j];
    ld[r] = flog1p((1.0f - h * h) * wu);
  }
}

void planarRowsGrad(const float* __restrict dy, const float* __restrict dl,
                    const float* __restrict x, const float* __restrict w, const float* __restrict u,
                    float wu, float b, float* __restrict dx, double* __restrict du,
                    double* __restrict dwx, double* __restrict s, int64_t dim, int64_t r0,
                    int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    float* dxr = dx + r * dim;
    const float h = planarH(xr, w, b, dim);
    const float hp = 1.0f - h * h;
    const float dlD = dl[r] / (1.0f + hp * wu);
    double dyu = 0.0;
    for (int64_t j = 0; j < dim; ++j)
      dyu += static_cast<double>(dyr[j]) * static_cast<double>(u[j]);
    const float dh = static_cast<float>(dyu) - ((h * wu) * 2.0f) * dlD;
    const float da = hp * dh;
    for (int64_t j = 0; j < dim; ++j) {
      dxr[j] = dyr[j] + da * w[j];
      du[j] += static_cast<double>(h) * static_cast<double>(dyr[j]);
      dwx[j] += static_cast<double>(da) * static_cast<double>(xr[j]);
    }
    s[0] += static_cast<double>(da);
    s[1] += static_cast<double>(hp * dlD);
  }
}

void addScaled(const float* __restrict a, const float* __restrict b, float s, float* __restrict out,
               int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i] * s;
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

namespace {

// SGLD: q' = (q + g·c0) + noise.
void sgld(const SgmcmcArgs& a, int64_t b, int64_t e) {
  const float* __restrict q = a.q;
  const float* __restrict g = a.g;
  const float* __restrict noise = a.noise;
  float* __restrict qo = a.qOut;
  const float c0 = a.c[0];
  for (int64_t i = b; i < e; ++i) qo[i] = (q[i] + g[i] * c0) + noise[i];
}

// PSGLD: the RMS average, the preconditioner and the preconditioned step.
void psgld(const SgmcmcArgs& a, int64_t b, int64_t e) {
  const float* __restrict q = a.q;
  const float* __restrict g = a.g;
  const float* __restrict noise = a.noise;
  const float* __restrict v = a.v;
  float* __restrict qo = a.qOut;
  float* __restrict vo = a.vOut;
  const float rho = a.c[0], oneMinusRho = a.c[1], lambda = a.c[2], lr = a.c[3], half = a.c[4];
  for (int64_t i = b; i < e; ++i) {
    const float gi = g[i];
    const float vi = v[i] * rho + (gi * gi) * oneMinusRho;
    const float p = 1.0f / (std::sqrt(vi) + lambda);
    const float n = noise[i] * std::sqrt(p * lr);
    vo[i] = vi;
    qo[i] = (q[i] + (p * gi) * half) + n;
  }
}

// The momentum step of SGHMC and SGNHT: with factor m = factor(i),
// v' = (v·m + g·lr) + noise, q' = q + v' (first order) or v' = that·m,
// q' = q + v'·0.5 (second order); then after(i, v').
template <class Factor, class After>
inline void momentumStep(const SgmcmcArgs& a, float lr, Factor factor, After after, int64_t b,
                         int64_t e) {
  const float* __restrict q = a.q;
  const float* __restrict g = a.g;
  const float* __restrict noise = a.noise;
  const float* __restrict v = a.v;
  float* __restrict qo = a.qOut;
  float* __restrict vo = a.vOut;
  const bool second = a.secondOrder;
  for (int64_t i = b; i < e; ++i) {
    const float m = factor(i);
    const float kick = (v[i] * m + g[i] * lr) + noise[i];
    const float vi = second ? kick * m : kick;
    vo[i] = vi;
    qo[i] = second ? q[i] + vi * 0.5f : q[i] + vi;
    after(i, vi);
  }
}

// SGNHT with one friction per element: the factor 1 − α or e^(α·−0.5) per
// element, and the thermostat α' = α + (v'² − η)·tune.
void sgnhtVector(const SgmcmcArgs& a, int64_t b, int64_t e) {
  const float* __restrict al = a.alpha;
  float* __restrict ao = a.alphaOut;
  const float lr = a.c[0], tune = a.c[1];
  const auto thermostat = [&](int64_t i, float vi) { ao[i] = al[i] + (vi * vi - lr) * tune; };
  if (a.secondOrder) {
    momentumStep(
        a, lr, [&](int64_t i) { return fexp(al[i] * -0.5f); }, thermostat, b, e);
  } else {
    momentumStep(
        a, lr, [&](int64_t i) { return 1.0f - al[i]; }, thermostat, b, e);
  }
}

}  // namespace

void sgmcmc(const SgmcmcArgs& a, int64_t begin, int64_t end) {
  const auto noThermostat = [](int64_t, float) {};
  switch (a.kind) {
    case kSgld:
      return sgld(a, begin, end);
    case kPsgld:
      return psgld(a, begin, end);
    case kSghmc:
      return momentumStep(
          a, a.c[1], [m = a.c[0]](int64_t) { return m; }, noThermostat, begin, end);
    case kSgnht: {
      if (a.alphaLength != 1) return sgnhtVector(a, begin, end);
      // One friction: the factor 1 − α or e^(α·−0.5) once, as the composite
      // computes it on the scalar; its thermostat follows mean(v'²) (the caller).
      const float m = a.secondOrder ? fexp(a.alpha[0] * -0.5f) : 1.0f - a.alpha[0];
      return momentumStep(
          a, a.c[0], [m](int64_t) { return m; }, noThermostat, begin, end);
    }
    default:
      return;
  }
}

}  // namespace ZSN_NS
