// Indexing entry points: gather (tfjs' GatherV2) and unsortedSegmentSum, the
// pair of a gather and its gradient, and gatherGrad, that gradient summed
// straight into the gathered tensor's layout. All are O(input + output);
// tfjs-cpu's UnsortedSegmentSum is O(segments × input) (an Equal mask per
// segment).
#include <algorithm>
#include <cstring>
#include <vector>

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// Bytes of one element of a typed array (Uint8Array for tfjs' bool).
size_t elemBytes(const View& v) {
  switch (v.type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 4;
  }
}

}  // namespace

// gather(x, indices, out, batch, outer, dimSize, slice): x is [batch, outer,
// dimSize, slice] and indices [batch, n] (row-major, any element type, the
// same for x and out); out [batch, outer, n, slice] with
// out[b, o, i, :] = x[b, o, indices[b, i], :]. Returns -1, or the position
// in `indices` of the first index outside [0, dimSize) (then nothing is
// written).
// A 4-byte element of any type (float32, int32), free to alias the arrays.
typedef uint32_t __attribute__((may_alias)) Word;

// Rows i0..i1 of one (b, o) block of a gather of S-element rows: to[i] = from[row[i]].
template <int S>
void gatherRows(const Word* from, Word* to, const int32_t* row, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    const Word* f = from + static_cast<int64_t>(row[i]) * S;
    Word* t = to + i * S;
    for (int k = 0; k < S; ++k) t[k] = f[k];
  }
}

using GatherRowsFn = void (*)(const Word*, Word*, const int32_t*, int64_t, int64_t);
// Rows of 1..8 words at a fixed length (kGatherRows[slice]).
constexpr GatherRowsFn kGatherRows[] = {nullptr,       gatherRows<1>, gatherRows<2>,
                                        gatherRows<3>, gatherRows<4>, gatherRows<5>,
                                        gatherRows<6>, gatherRows<7>, gatherRows<8>};

Napi::Value Gather(const Napi::CallbackInfo& info) {
  const int64_t batch = inum(info, 3), outer = inum(info, 4), dim = inum(info, 5);
  const int64_t slice = inum(info, 6);
  size_t nIdxTotal;
  const int32_t* idx = i32(info, 1, "gather", &nIdxTotal);
  const View xv = typed(info, 0, "gather");
  const View ov = typed(info, 2, "gather");
  if (batch < 1 || outer < 0 || dim < 0 || slice < 0 ||
      static_cast<int64_t>(nIdxTotal) % batch != 0) {
    throwRange(info.Env(), "gather", "bad sizes");
  }
  const int64_t n = static_cast<int64_t>(nIdxTotal) / batch;
  const size_t es = elemBytes(xv);
  if (ov.type != xv.type || static_cast<int64_t>(xv.length) < batch * outer * dim * slice ||
      static_cast<int64_t>(ov.length) < batch * outer * n * slice) {
    throwType(info.Env(), "gather", 2, "an array of x's type and the output's size");
  }
  for (size_t i = 0; i < nIdxTotal; ++i) {
    if (idx[i] < 0 || idx[i] >= dim) return Napi::Number::New(info.Env(), static_cast<double>(i));
  }
  const char* x = static_cast<const char*>(xv.data);
  char* o = static_cast<char*>(ov.data);
  const size_t sliceBytes = static_cast<size_t>(slice) * es;
  // One row of the output per (b, o, i): `slice` elements copied, a run of
  // rows of one (b, o) at a time (no division per row), short rows by a copy
  // of fixed length (a variable-size memcpy is a call per row).
  const auto run = [&](int64_t bo, int64_t i0, int64_t i1) {
    const int32_t* row = idx + (bo / outer) * n;
    if (es == 4 && slice >= 1 && slice <= 8) {
      const Word* from = reinterpret_cast<const Word*>(x) + bo * dim * slice;
      Word* to = reinterpret_cast<Word*>(o) + bo * n * slice;
      return kGatherRows[slice](from, to, row, i0, i1);
    }
    for (int64_t i = i0; i < i1; ++i) {
      std::memcpy(o + (bo * n + i) * sliceBytes, x + (bo * dim + row[i]) * sliceBytes, sliceBytes);
    }
  };
  parallelForUnits(batch * outer * n,
                   std::max<int64_t>(1, parallelMin / std::max<int64_t>(1, slice)),
                   [&](int64_t r0, int64_t r1) {
                     for (int64_t r = r0; r < r1;) {
                       const int64_t bo = r / n, i = r - bo * n;
                       const int64_t len = std::min(r1 - r, n - i);
                       run(bo, i, i + len);
                       r += len;
                     }
                   });
  return Napi::Number::New(info.Env(), -1);
}

// unsortedSegmentSum(x, segmentIds, out, inner, numSegments): x is [n, inner]
// float32 with n = segmentIds.length; out [numSegments, inner] =
// Σ_{r: ids[r] = s} x[r, :], in double over the rows in order (what tfjs-cpu's
// masked sums give, bit for bit, for finite x); rows whose id is negative or
// >= numSegments are dropped.
Napi::Value UnsortedSegmentSum(const Napi::CallbackInfo& info) {
  size_t n;
  const int32_t* ids = i32(info, 1, "unsortedSegmentSum", &n);
  const int64_t inner = inum(info, 3), segs = inum(info, 4);
  if (inner < 0 || segs < 0) throwRange(info.Env(), "unsortedSegmentSum", "bad sizes");
  const float* x = f32(info, 0, "unsortedSegmentSum", static_cast<int64_t>(n) * inner);
  float* out = f32(info, 2, "unsortedSegmentSum", segs * inner);
  static thread_local std::vector<double> acc;
  acc.assign(static_cast<size_t>(segs * inner), 0.0);
  double* a = acc.data();
  // Threads own disjoint column ranges.
  parallelFor(inner, std::max<int64_t>(16, parallelMin / std::max<int64_t>(1, n)),
              [&](int64_t c0, int64_t c1) {
                for (size_t r = 0; r < n; ++r) {
                  const int64_t s = ids[r];
                  if (s < 0 || s >= segs) continue;
                  const float* xr = x + r * inner;
                  double* ar = a + s * inner;
                  for (int64_t c = c0; c < c1; ++c) ar[c] += xr[c];
                }
                for (int64_t s = 0; s < segs; ++s) {
                  for (int64_t c = c0; c < c1; ++c) {
                    out[s * inner + c] = static_cast<float>(a[s * inner + c]);
                  }
                }
              });
  return info.Env().Undefined();
}

namespace {

// Adds the n rows of dy, S floats each, into the rows row[i] of acc.
template <int S>
void scatterRows(const float* dy, const int32_t* row, int64_t n, double* acc) {
  for (int64_t i = 0; i < n; ++i) {
    double* a = acc + static_cast<int64_t>(row[i]) * S;
    const float* d = dy + i * S;
    for (int k = 0; k < S; ++k) a[k] += d[k];
  }
}

using ScatterFn = void (*)(const float*, const int32_t*, int64_t, double*);
// Whole rows of 1..8 floats at a fixed length (kScatter[slice]).
constexpr ScatterFn kScatter[] = {nullptr,        scatterRows<1>, scatterRows<2>,
                                  scatterRows<3>, scatterRows<4>, scatterRows<5>,
                                  scatterRows<6>, scatterRows<7>, scatterRows<8>};

// Columns [c0, c1) of one (b, o) block of gatherGrad: dy [n, slice] summed by
// row[i] into out [dim, slice], through acc [dim, slice] in double.
void gatherGradBlock(const float* dy, const int32_t* row, int64_t n, int64_t dim, int64_t slice,
                     int64_t c0, int64_t c1, double* acc, float* out) {
  for (int64_t j = 0; j < dim; ++j) std::fill(acc + j * slice + c0, acc + j * slice + c1, 0.0);
  if (c0 == 0 && c1 == slice && slice >= 1 && slice <= 8) {
    kScatter[slice](dy, row, n, acc);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      double* a = acc + static_cast<int64_t>(row[i]) * slice;
      const float* d = dy + i * slice;
      for (int64_t c = c0; c < c1; ++c) a[c] += d[c];
    }
  }
  for (int64_t j = 0; j < dim; ++j) {
    for (int64_t c = c0; c < c1; ++c) out[j * slice + c] = static_cast<float>(acc[j * slice + c]);
  }
}

}  // namespace

// gatherGrad(dy, indices, out, batch, outer, dimSize, slice): the gradient of
// gather(x, indices) for x, in x's layout. dy is [batch, outer, n, slice]
// float32 and indices [batch, n]; out [batch, outer, dimSize, slice] =
// Σ_{i: indices[b, i] = j} dy[b, o, i, :] at (b, o, j), summed in double over
// i ascending and rounded once: tfjs' route (transpose, UnsortedSegmentSum,
// transpose) gives the same numbers, bit for bit, for finite dy. Returns -1,
// or the position in `indices` of the first index outside [0, dimSize)
// (nothing is written then). Threads take whole (b, o) blocks, so no two add
// into one row; a single block is split by columns instead.
Napi::Value GatherGrad(const Napi::CallbackInfo& info) {
  const int64_t batch = inum(info, 3), outer = inum(info, 4), dim = inum(info, 5);
  const int64_t slice = inum(info, 6);
  size_t nIdxTotal;
  const int32_t* idx = i32(info, 1, "gatherGrad", &nIdxTotal);
  if (batch < 1 || outer < 0 || dim < 0 || slice < 0 ||
      static_cast<int64_t>(nIdxTotal) % batch != 0) {
    throwRange(info.Env(), "gatherGrad", "bad sizes");
  }
  const int64_t n = static_cast<int64_t>(nIdxTotal) / batch;
  const float* dy = f32(info, 0, "gatherGrad", batch * outer * n * slice);
  float* out = f32(info, 2, "gatherGrad", batch * outer * dim * slice);
  for (size_t i = 0; i < nIdxTotal; ++i) {
    if (idx[i] < 0 || idx[i] >= dim) return Napi::Number::New(info.Env(), static_cast<double>(i));
  }
  const int64_t blocks = batch * outer;
  const bool parallel = elementwiseParallel && blocks * n * slice >= parallelMin;
  if (blocks >= 2 || slice < 32) {
    parallelTasks(
        blocks,
        [&](int64_t bo) {
          static thread_local std::vector<double> acc;
          acc.resize(static_cast<size_t>(dim * slice));
          gatherGradBlock(dy + bo * n * slice, idx + (bo / outer) * n, n, dim, slice, 0, slice,
                          acc.data(), out + bo * dim * slice);
        },
        parallel);
  } else if (blocks == 1) {
    static thread_local std::vector<double> acc;
    acc.resize(static_cast<size_t>(dim * slice));
    double* a = acc.data();
    parallelFor(
        slice, 16,
        [&](int64_t c0, int64_t c1) { gatherGradBlock(dy, idx, n, dim, slice, c0, c1, a, out); },
        parallel);
  }
  return Napi::Number::New(info.Env(), -1);
}

}  // namespace zsn
