// Linear algebra entry points: the Cholesky factorisation and the triangular
// solve (tfjs kernels Cholesky and MatrixTriangularSolve, TensorFlow's
// names), batched over the leading axes, on OpenBLAS' strsm and ssyrk.
//
// The factorisation is right-looking and blocked like the library's own
// (zhusuan's linalg.ts) with the same block of 32 columns: the diagonal block
// is factored column by column in double, the panel below it solved against
// it by strsm and the trailing matrix updated by ssyrk. Sharing the block
// boundaries makes a matrix that is not positive definite come out as the
// library's op-by-op path leaves it (the NaN and ±Inf pattern from the first
// failing pivot on, below). LAPACK's spotrf (which Debian's OpenBLAS exports)
// would be no faster at the sizes of Gaussian processes and stops at a
// failing pivot with the rest of the matrix in an unspecified state.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// Columns of a diagonal block (the library's BLOCK in linalg.ts).
constexpr int64_t kBlock = 32;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Factors the diagonal block l[k0:k0+nb, k0:k0+nb] of the n × n row-major l
// in place (the columns left of it already subtracted by ssyrk), left-looking
// within the block, sums in double. Returns -1, or the column (counted from
// k0) of the first pivot that is not > 0 (NaN included): that column is
// s_ij / sqrt(s_jj) in float32 as in the library (NaN on the diagonal, ±Inf
// or NaN below it for a zero pivot), the block's later columns NaN.
int64_t factorDiagonalBlock(float* l, int64_t n, int64_t k0, int64_t nb) {
  const int64_t end = k0 + nb;
  for (int64_t j = k0; j < end; ++j) {
    const float* lj = l + j * n;
    double s = lj[j];
    for (int64_t p = k0; p < j; ++p) s -= static_cast<double>(lj[p]) * lj[p];
    const bool ok = s > 0;
    // A failing pivot divides in float32, as the library's ops do.
    const double d = ok ? std::sqrt(s) : std::sqrt(static_cast<float>(s));
    l[j * n + j] = ok ? static_cast<float>(d) : static_cast<float>(s) / static_cast<float>(d);
    for (int64_t i = j + 1; i < end; ++i) {
      float* li = l + i * n;
      double t = li[j];
      for (int64_t p = k0; p < j; ++p) t -= static_cast<double>(li[p]) * lj[p];
      li[j] = ok ? static_cast<float>(t / d) : static_cast<float>(t) / static_cast<float>(d);
    }
    if (!ok) {
      for (int64_t i = j + 1; i < end; ++i) std::fill(l + i * n + j + 1, l + i * n + i + 1, kNaN);
      return j - k0;
    }
  }
  return -1;
}

// The lower Cholesky factor l (n × n, row-major, zeros above the diagonal) of
// the lower triangle of a. For a matrix that is not positive definite, from
// the first failing pivot (column j of diagonal block [k0, k0 + 32)) on: the
// columns before j are the factor's, column j within the block is as
// factorDiagonalBlock leaves it, every other entry of columns >= j on or
// below the diagonal is NaN (the library's substitution divides by the NaN
// pivot there).
void factorOne(const float* a, float* l, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(l + i * n, a + i * n, static_cast<size_t>(i + 1) * sizeof(float));
    std::fill(l + i * n + i + 1, l + (i + 1) * n, 0.0f);
  }
  for (int64_t k0 = 0; k0 < n; k0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - k0);
    const int64_t below = n - k0 - nb;
    const float* l11 = l + k0 * n + k0;
    float* l21 = l + (k0 + nb) * n + k0;
    const int64_t failed = factorDiagonalBlock(l, n, k0, nb);
    // l21 = s21·l11⁻ᵀ: every column of the block, or those before the failure.
    const int64_t solved = failed < 0 ? nb : failed;
    if (below > 0 && solved > 0) {
      cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, below, solved,
                  1.0f, l11, n, l21, n);
    }
    if (failed >= 0) {
      for (int64_t i = k0 + nb; i < n; ++i) {
        std::fill(l + i * n + k0 + failed, l + i * n + i + 1, kNaN);
      }
      return;
    }
    if (below > 0) {
      cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, below, nb, -1.0f, l21, n, 1.0f, l21 + nb,
                  n);
    }
  }
}

// True when `batch` problems of `flops` each are worth spreading over the
// pool (the threshold of a group of matrix products, pool.h).
bool parallelBatch(int64_t batch, double flops) {
  return batch > 1 && static_cast<double>(batch) * flops >= gemmPoolMinFlops;
}

}  // namespace

// cholesky(a, out, batch, n): out[b] = the lower Cholesky factor of the
// lower triangle of a[b], for `batch` row-major n × n matrices (factorOne),
// the members spread over the pool when there are several and the work pays.
Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  const int64_t batch = inum(info, 2), n = inum(info, 3);
  if (batch < 0 || n < 0) throwRange(info.Env(), "cholesky", "bad sizes");
  const size_t len = static_cast<size_t>(batch * n * n);
  const float* a = f32(info, 0, "cholesky", len);
  float* out = f32(info, 1, "cholesky", len);
  const double flops = static_cast<double>(n) * n * n / 3.0;
  parallelTasks(
      batch, [&](int64_t b) { factorOne(a + b * n * n, out + b * n * n, n); },
      gemmOnPool && parallelBatch(batch, flops));
  return info.Env().Undefined();
}

// triangularSolve(matrix, rhs, out, n, k, lower, adjoint, mIndex, bIndex):
// out[t] = op(m)⁻¹·rhs[bIndex[t]] with m = matrix[mIndex[t]] (n × n, only its
// lower or upper triangle read, op(m) = mᵀ when adjoint) and rhs, out n × k,
// for t in [0, mIndex.length): a broadcast batch, by strsm.
Napi::Value TriangularSolve(const Napi::CallbackInfo& info) {
  const char* fn = "triangularSolve";
  const int64_t n = inum(info, 3), k = inum(info, 4);
  const bool lower = flag(info, 5), adjoint = flag(info, 6);
  size_t batch = 0, bBatch = 0;
  const int32_t* mIndex = i32(info, 7, fn, &batch);
  const int32_t* bIndex = i32(info, 8, fn, &bBatch);
  if (n < 0 || k < 0 || bBatch != batch) throwRange(info.Env(), fn, "bad sizes");
  const View mv = f32View(info, 0, fn), bv = f32View(info, 1, fn);
  float* out = f32(info, 2, fn, batch * static_cast<size_t>(n * k));
  const float* m = static_cast<const float*>(mv.data);
  const float* rhs = static_cast<const float*>(bv.data);
  const size_t mSize = static_cast<size_t>(n * n), bSize = static_cast<size_t>(n * k);
  for (size_t t = 0; t < batch; ++t) {
    if (mIndex[t] < 0 || (static_cast<size_t>(mIndex[t]) + 1) * mSize > mv.length ||
        bIndex[t] < 0 || (static_cast<size_t>(bIndex[t]) + 1) * bSize > bv.length) {
      throwRange(info.Env(), fn, "a batch index is outside its operand");
    }
  }
  if (n == 0 || k == 0) return info.Env().Undefined();
  const double flops = static_cast<double>(n) * n * k;
  parallelTasks(
      static_cast<int64_t>(batch),
      [&](int64_t t) {
        float* o = out + t * bSize;
        std::memcpy(o, rhs + bIndex[t] * bSize, bSize * sizeof(float));
        cblas_strsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper,
                    adjoint ? CblasTrans : CblasNoTrans, CblasNonUnit, n, k, 1.0f,
                    m + mIndex[t] * mSize, n, o, k);
      },
      gemmOnPool && parallelBatch(static_cast<int64_t>(batch), flops));
  return info.Env().Undefined();
}

}  // namespace zsn
