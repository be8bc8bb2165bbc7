// Reductions: column sums (the bias gradient), sums, means, maxima, minima
// and products over any axes, and the plain sum the grouped log-densities use.
#include "kernels_impl.h"

namespace ZSN_NS {

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

namespace {

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

}  // namespace

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

double sum(const float* x, int64_t n) { return rowSum(x, n); }

namespace {

// rowSums for rows of N < 8 elements: rowSum's eight lanes are then all
// zero, so its sum is 0 + x0 + x1 + ... in order; N known at compile time.
template <int N>
void rowSumsShort(const float* x, int64_t rows, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * N;
    double t = 0.0;
    for (int k = 0; k < N; ++k) t += static_cast<double>(xr[k]);
    out[r] = static_cast<float>(t);
  }
}

using RowSumsFn = void (*)(const float*, int64_t, float*);
// Rows of 1..7 elements at a fixed length (kRowSumsShort[inner]).
constexpr RowSumsFn kRowSumsShort[] = {nullptr,         rowSumsShort<1>, rowSumsShort<2>,
                                       rowSumsShort<3>, rowSumsShort<4>, rowSumsShort<5>,
                                       rowSumsShort<6>, rowSumsShort<7>};

}  // namespace

void rowSums(const float* x, int64_t rows, int64_t inner, float* out) {
  if (inner >= 1 && inner <= 7) return kRowSumsShort[inner](x, rows, out);
  for (int64_t r = 0; r < rows; ++r) out[r] = static_cast<float>(rowSum(x + r * inner, inner));
}

}  // namespace ZSN_NS
