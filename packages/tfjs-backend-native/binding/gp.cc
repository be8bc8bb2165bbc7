// The RBF kernel matrix of a Gaussian process and its gradient
// (OPTIONAL_KERNELS.rbfKernel and rbfKernelGrad in the zhusuan library), one
// call each instead of the ~17 kernels of the forward composite and the ~20
// of its gradient:
//
//   k(x_i, y_c) = exp(−½·max(0, |xs_i|² + |ys_c|² − 2·xs_i·ys_c)),
//   xs = x·r, ys = y·r, r = 1/√s (s the squared length scales [d]),
//
// with kh = k where the clipped squared distance was positive, else 0 (the
// clip's gradient). Element-wise steps round as the composite's Rsqrt,
// Multiply, Square, Add, Sub, Relu, Exp and Step kernels round; the row norms
// and the sums of the gradient are taken in double, and the products are
// OpenBLAS', so the results agree with the composite to float32 rounding.
#include <algorithm>
#include <cmath>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "gemm.h"
#include "kernels.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

struct RbfShape {
  int64_t n, m, d;
};

RbfShape rbfShape(const Napi::CallbackInfo& info, const char* fn, int at) {
  const RbfShape s{inum(info, at), inum(info, at + 1), inum(info, at + 2)};
  if (s.n < 0 || s.m < 0 || s.d < 0) throwRange(info.Env(), fn, "n, m and d must be >= 0");
  return s;
}

// r = 1/√s, xs = x·r row by row (rows [rows, d]) and each row's squared norm,
// its squares summed in double in column order.
void scaledRows(const float* x, const float* r, int64_t rows, int64_t d, float* xs, float* norms) {
  for (int64_t i = 0; i < rows; ++i) {
    double acc = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      const float v = x[i * d + j] * r[j];
      xs[i * d + j] = v;
      acc += static_cast<double>(v * v);
    }
    norms[i] = static_cast<float>(acc);
  }
}

// The scaled operands of both entry points.
struct Scaled {
  std::vector<float> r, xs, ys, xx, yy;
  Scaled(const float* x, const float* y, const float* s, const RbfShape& sh)
      : r(static_cast<size_t>(sh.d)),
        xs(static_cast<size_t>(sh.n * sh.d)),
        ys(static_cast<size_t>(sh.m * sh.d)),
        xx(static_cast<size_t>(sh.n)),
        yy(static_cast<size_t>(sh.m)) {
    for (int64_t j = 0; j < sh.d; ++j) r[j] = 1.0f / std::sqrt(s[j]);
    scaledRows(x, r.data(), sh.n, sh.d, xs.data(), xx.data());
    scaledRows(y, r.data(), sh.m, sh.d, ys.data(), yy.data());
  }
};

// out = a·b over n elements.
void multiply(const float* __restrict a, const float* __restrict b, float* __restrict out,
              int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

// Rows per pool task: about parallelMin elements of the [n, m] matrix.
int64_t rowsMin(int64_t m) { return std::max<int64_t>(1, parallelMin / std::max<int64_t>(1, m)); }

}  // namespace

// rbfKernel(x, y, s, k, kh, n, m, d): for x [n, d], y [m, d] and squared
// length scales s [d], writes k [n, m] and kh [n, m] (see the file comment).
Napi::Value RbfKernel(const Napi::CallbackInfo& info) {
  const char* fn = "rbfKernel";
  const RbfShape sh = rbfShape(info, fn, 5);
  const float* x = f32(info, 0, fn, sh.n * sh.d);
  const float* y = f32(info, 1, fn, sh.m * sh.d);
  const float* s = f32(info, 2, fn, sh.d);
  float* k = f32(info, 3, fn, sh.n * sh.m);
  float* kh = f32(info, 4, fn, sh.n * sh.m);
  if (sh.n == 0 || sh.m == 0) return info.Env().Undefined();
  const Scaled p(x, y, s, sh);
  // xs·ysᵀ into kh, read back a row at a time below.
  const Gemm g = makeGemm(p.xs.data(), p.ys.data(), kh, sh.n, sh.m, sh.d, false, true);
  runGemms(&g, 1);
  parallelForUnits(sh.n, rowsMin(sh.m), [&](int64_t i0, int64_t i1) {
    FlushDenormals ftz;
    KT->rbfRows(p.xx.data(), p.yy.data(), k, kh, sh.m, i0, i1);
  });
  return info.Env().Undefined();
}

// rbfKernelGrad(dk, kh, x, y, s, dx, dy, ds, n, m, d): the gradients of
// rbfKernel's k for upstream dk [n, m], from its kh: with gp = dk·kh,
//   dxs = gp·ys − xs·rowsum(gp),  dys = gpᵀ·xs − ys·colsum(gp),
//   dx = dxs·r,  dy = dys·r,  ds = (Σ_i dxs·xs + Σ_c dys·ys)·(r²·−½).
Napi::Value RbfKernelGrad(const Napi::CallbackInfo& info) {
  const char* fn = "rbfKernelGrad";
  const RbfShape sh = rbfShape(info, fn, 8);
  const int64_t n = sh.n, m = sh.m, d = sh.d;
  const float* dk = f32(info, 0, fn, n * m);
  const float* kh = f32(info, 1, fn, n * m);
  const float* x = f32(info, 2, fn, n * d);
  const float* y = f32(info, 3, fn, m * d);
  const float* s = f32(info, 4, fn, d);
  float* dx = f32(info, 5, fn, n * d);
  float* dy = f32(info, 6, fn, m * d);
  float* ds = f32(info, 7, fn, d);
  const Scaled p(x, y, s, sh);
  std::vector<float> gp(static_cast<size_t>(n * m)), rowSum(static_cast<size_t>(n)),
      colSum(static_cast<size_t>(m), 0.0f);
  parallelForUnits(n, rowsMin(m), [&](int64_t i0, int64_t i1) {
    multiply(dk + i0 * m, kh + i0 * m, gp.data() + i0 * m, (i1 - i0) * m);
    KT->rowSums(gp.data() + i0 * m, i1 - i0, m, rowSum.data() + i0);
  });
  if (n > 0 && m > 0) KT->colSum(gp.data(), colSum.data(), n, m);
  // dxs into dx, dys into dy: gp·ys and gpᵀ·xs side by side.
  const Gemm gs[2] = {makeGemm(gp.data(), p.ys.data(), dx, n, d, m, false, false),
                      makeGemm(gp.data(), p.xs.data(), dy, m, d, n, true, false)};
  runGemms(gs, 2);
  std::vector<double> dr(static_cast<size_t>(d), 0.0), drY(static_cast<size_t>(d), 0.0);
  const auto finish = [&](float* out, const float* scaled, const float* sums, int64_t rows,
                          std::vector<double>& acc) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < d; ++j) {
        const float v = out[i * d + j] - scaled[i * d + j] * sums[i];
        acc[j] += static_cast<double>(v * scaled[i * d + j]);
        out[i * d + j] = v * p.r[j];
      }
    }
  };
  finish(dx, p.xs.data(), rowSum.data(), n, dr);
  finish(dy, p.ys.data(), colSum.data(), m, drY);
  for (int64_t j = 0; j < d; ++j) {
    const float sum = static_cast<float>(dr[j]) + static_cast<float>(drY[j]);
    ds[j] = sum * ((p.r[j] * p.r[j]) * -0.5f);
  }
  return info.Env().Undefined();
}

}  // namespace zsn
