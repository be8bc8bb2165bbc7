// Fused kernels: the Normal and Bernoulli log-densities and their gradients,
// the reparameterised Normal sample, the planar flow step and its gradient,
// and the Adam update.
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
