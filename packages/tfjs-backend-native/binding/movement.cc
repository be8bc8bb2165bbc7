// Data-movement entry points: slices, strided row copies, transposes, tiles
// and constant padding. Plain copies on the calling thread, except copy2d's
// rows (concat, split, unstack), which go over the pool when large.
#include <algorithm>
#include <cstring>

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// Argument 2 of slice and transpose: [rank, then `lists` lists of rank
// Int32s]; *rank is set to its rank, checked to lie in [1, kMaxRank].
const int32_t* metaArg(const Napi::CallbackInfo& info, const char* fn, int lists, int* rank) {
  size_t mlen;
  const int32_t* meta = i32(info, 2, fn, &mlen);
  *rank = meta[0];
  if (*rank < 1 || *rank > kMaxRank || mlen < static_cast<size_t>(1 + lists * *rank)) {
    throwRange(info.Env(), fn, "bad meta");
  }
  return meta;
}

// Output rows [r0, r1) of a tile (rows: the output's last axis, od[rank -
// 1] elements, each reps copies of one input row of dims[rank - 1]). The
// input row of output row r is r's leading coordinates mod dims, kept as
// counters rather than divided out a row. A broadcast (an input row of one
// element) is a fill; short input rows are copied element by element (a
// memcpy call costs more than a few elements); long ones by doubling memcpys.
template <class T>
void tileRowRange(const T* x, T* o, int rank, const int32_t* dims, const int64_t* od,
                  const int64_t* xs, int64_t r0, int64_t r1) {
  const int64_t inRow = dims[rank - 1], outRow = od[rank - 1];
  int64_t coord[kMaxRank] = {0}, in[kMaxRank] = {0};
  int64_t off = 0;
  for (int64_t r = r0, d = rank - 2; d >= 0; --d) {
    coord[d] = r % od[d];
    r /= od[d];
    in[d] = coord[d] % dims[d];
    off += in[d] * xs[d];
  }
  for (int64_t r = r0; r < r1; ++r) {
    const T* src = x + off;
    T* dst = o + r * outRow;
    if (inRow == 1) {
      const T v = src[0];
      for (int64_t k = 0; k < outRow; ++k) dst[k] = v;
    } else if (inRow < 16) {
      for (int64_t k = 0; k < outRow; k += inRow) {
        for (int64_t j = 0; j < inRow; ++j) dst[k + j] = src[j];
      }
    } else {
      std::memcpy(dst, src, static_cast<size_t>(inRow) * sizeof(T));
      for (int64_t have = inRow; have < outRow;) {
        const int64_t n = std::min(have, outRow - have);
        std::memcpy(dst + have, dst, static_cast<size_t>(n) * sizeof(T));
        have += n;
      }
    }
    for (int d = rank - 2; d >= 0; --d) {
      off += xs[d];
      if (++in[d] == dims[d]) {
        off -= in[d] * xs[d];
        in[d] = 0;
      }
      if (++coord[d] < od[d]) break;
      // The coordinate wraps; reps * dims steps of in[d] also brought it back to 0.
      coord[d] = 0;
    }
  }
}

// A whole tile, its rows over the pool when large (element-wise setting).
template <class T>
void tileRows(const T* x, T* o, int rank, const int32_t* dims, const int64_t* od) {
  int64_t xs[kMaxRank];
  xs[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) xs[d] = xs[d + 1] * dims[d + 1];
  const int64_t outRow = od[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= od[d];
  if (outRow == 0 || rows == 0) return;
  parallelForUnits(rows, std::max<int64_t>(1, parallelMin / outRow),
                   [&](int64_t r0, int64_t r1) { tileRowRange(x, o, rank, dims, od, xs, r0, r1); });
}

}  // namespace

// slice(x, out, meta): meta = [rank, dims[rank], begin[rank], size[rank]];
// element size 4 bytes (float32/int32), or `elemBytes` when given as arg 3.
Napi::Value Slice(const Napi::CallbackInfo& info) {
  int rank;
  const int32_t* meta = metaArg(info, "slice", 3, &rank);
  View xv = typed(info, 0, "slice");
  View ov = typed(info, 1, "slice");
  const int64_t es = info.Length() > 3 ? inum(info, 3) : 4;
  const int32_t* dims = meta + 1;
  const int32_t* begin = meta + 1 + rank;
  const int32_t* size = meta + 1 + 2 * rank;
  int64_t total = 1, outTotal = 1;
  for (int d = 0; d < rank; ++d) {
    total *= dims[d];
    outTotal *= size[d];
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > dims[d]) {
      throwRange(info.Env(), "slice", "window outside the input");
    }
  }
  const size_t xb = xv.length * (xv.type == napi_uint8_array ? 1 : 4);
  const size_t ob = ov.length * (ov.type == napi_uint8_array ? 1 : 4);
  if (xb < static_cast<size_t>(total * es) || ob < static_cast<size_t>(outTotal * es)) {
    throwRange(info.Env(), "slice", "arrays too small");
  }
  if (outTotal == 0) return info.Env().Undefined();
  // Collapse trailing dims that are copied whole into one contiguous run.
  int inner = rank - 1;
  int64_t run = size[inner];
  while (inner > 0 && size[inner] == dims[inner]) {
    --inner;
    run *= size[inner];
  }
  // Strides of x in elements.
  int64_t xs[kMaxRank];
  xs[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) xs[d] = xs[d + 1] * dims[d + 1];
  const char* x = static_cast<const char*>(xv.data);
  char* o = static_cast<char*>(ov.data);
  int64_t coord[kMaxRank] = {0};
  const int64_t runs = outTotal / run;
  const size_t runBytes = static_cast<size_t>(run * es);
  for (int64_t r = 0; r < runs; ++r) {
    int64_t off = 0;
    for (int d = 0; d <= inner; ++d) off += (begin[d] + coord[d]) * xs[d];
    std::memcpy(o + r * runBytes, x + off * es, runBytes);
    for (int d = inner - 1; d >= 0; --d) {
      if (++coord[d] < size[d]) break;
      coord[d] = 0;
    }
  }
  return info.Env().Undefined();
}

// copy2d(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, cols):
// row copies of 4-byte elements (float32, or int32 into int32): concat,
// split, unstack, slices of matrices.
Napi::Value Copy2d(const Napi::CallbackInfo& info) {
  const int64_t so = inum(info, 1), ss = inum(info, 2), dof = inum(info, 4), ds = inum(info, 5);
  const int64_t rows = inum(info, 6), cols = inum(info, 7);
  if (rows == 0 || cols == 0) return info.Env().Undefined();
  const View sv = typed(info, 0, "copy2d");
  const View dv = typed(info, 3, "copy2d");
  if ((sv.type != napi_float32_array && sv.type != napi_int32_array) || dv.type != sv.type) {
    throwType(info.Env(), "copy2d", 3, "a Float32Array or Int32Array, as argument 0");
  }
  if (so < 0 || dof < 0 || sv.length < static_cast<size_t>(so + (rows - 1) * ss + cols) ||
      dv.length < static_cast<size_t>(dof + (rows - 1) * ds + cols)) {
    throwRange(info.Env(), "copy2d", "rows outside the arrays");
  }
  const uint32_t* s = static_cast<const uint32_t*>(sv.data) + so;
  uint32_t* d = static_cast<uint32_t*>(dv.data) + dof;
  // Rows over the pool from parallelMin elements on. A narrow row (the ones
  // column a BNN layer concatenates, 1 element a row) is a loop: a memcpy
  // call a row cost ~5 ns for 4 bytes.
  parallelForUnits(rows, std::max<int64_t>(1, parallelMin / cols), [&](int64_t r0, int64_t r1) {
    if (cols < 8) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = 0; c < cols; ++c) d[r * ds + c] = s[r * ss + c];
      }
      return;
    }
    for (int64_t r = r0; r < r1; ++r) {
      std::memcpy(d + r * ds, s + r * ss, static_cast<size_t>(cols) * sizeof(uint32_t));
    }
  });
  return info.Env().Undefined();
}

// transpose(x, out, meta): meta = [rank, dims[rank], perm[rank]]; 4-byte elements.
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  int rank;
  const int32_t* meta = metaArg(info, "transpose", 2, &rank);
  const int32_t* dims = meta + 1;
  const int32_t* perm = meta + 1 + rank;
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= dims[d];
  View xv = typed(info, 0, "transpose");
  View ov = typed(info, 1, "transpose");
  if (xv.type == napi_uint8_array || ov.type == napi_uint8_array ||
      xv.length < static_cast<size_t>(total) || ov.length < static_cast<size_t>(total)) {
    throwType(info.Env(), "transpose", 0, "4-byte typed arrays of the tensor's size");
  }
  const uint32_t* x = static_cast<const uint32_t*>(xv.data);
  uint32_t* o = static_cast<uint32_t*>(ov.data);
  if (total == 0) return info.Env().Undefined();
  int64_t xs[kMaxRank];
  xs[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) xs[d] = xs[d + 1] * dims[d + 1];
  // Output dim d walks input stride xs[perm[d]].
  int64_t od[kMaxRank], st[kMaxRank];
  for (int d = 0; d < rank; ++d) {
    od[d] = dims[perm[d]];
    st[d] = xs[perm[d]];
  }
  if (rank == 2) {
    // Blocked 2-D transpose.
    const int64_t R = od[0], C = od[1];
    const int64_t sr = st[0], sc = st[1];
    constexpr int64_t B = 32;
    for (int64_t r0 = 0; r0 < R; r0 += B) {
      for (int64_t c0 = 0; c0 < C; c0 += B) {
        const int64_t r1 = std::min(R, r0 + B), c1 = std::min(C, c0 + B);
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c) o[r * C + c] = x[r * sr + c * sc];
        }
      }
    }
    return info.Env().Undefined();
  }
  int64_t coord[kMaxRank] = {0};
  const int64_t inner = od[rank - 1], sIn = st[rank - 1];
  int64_t off = 0;
  for (int64_t i = 0; i < total; i += inner) {
    for (int64_t k = 0; k < inner; ++k) o[i + k] = x[off + k * sIn];
    for (int d = rank - 2; d >= 0; --d) {
      off += st[d];
      if (++coord[d] < od[d]) break;
      off -= coord[d] * st[d];
      coord[d] = 0;
    }
  }
  return info.Env().Undefined();
}

// tile(x, out, meta): meta = [rank, dims[rank], reps[rank]]; 4-byte or
// 1-byte elements (x and out of one type); out[i] = x[i mod dims] per axis.
Napi::Value Tile(const Napi::CallbackInfo& info) {
  int rank;
  const int32_t* meta = metaArg(info, "tile", 2, &rank);
  const int32_t* dims = meta + 1;
  const int32_t* reps = meta + 1 + rank;
  View xv = typed(info, 0, "tile");
  View ov = typed(info, 1, "tile");
  int64_t total = 1, outTotal = 1, od[kMaxRank];
  for (int d = 0; d < rank; ++d) {
    if (dims[d] < 0 || reps[d] < 0) throwRange(info.Env(), "tile", "negative size");
    od[d] = static_cast<int64_t>(dims[d]) * reps[d];
    total *= dims[d];
    outTotal *= od[d];
  }
  const bool bytes = xv.type == napi_uint8_array;
  if (ov.type != xv.type ||
      (!bytes && xv.type != napi_float32_array && xv.type != napi_int32_array) ||
      xv.length < static_cast<size_t>(total) || ov.length < static_cast<size_t>(outTotal)) {
    throwType(info.Env(), "tile", 1, "arrays of one type (float32, int32, uint8) of the sizes");
  }
  if (outTotal == 0) return info.Env().Undefined();
  if (bytes) {
    tileRows(static_cast<const uint8_t*>(xv.data), static_cast<uint8_t*>(ov.data), rank, dims, od);
  } else {
    tileRows(static_cast<const uint32_t*>(xv.data), static_cast<uint32_t*>(ov.data), rank, dims,
             od);
  }
  return info.Env().Undefined();
}

// pad(x, out, meta, value): meta = [rank, outDims[rank], before[rank],
// dims[rank]] (x's shape); float32 or int32 (x and out of one type). out is
// filled with `value` (converted to the element type) and x copied into the
// window starting at `before`: tfjs' PadV2.
Napi::Value Pad(const Napi::CallbackInfo& info) {
  int rank;
  const int32_t* meta = metaArg(info, "pad", 3, &rank);
  const int32_t* od = meta + 1;
  const int32_t* before = meta + 1 + rank;
  const int32_t* dims = meta + 1 + 2 * rank;
  View xv = typed(info, 0, "pad");
  View ov = typed(info, 1, "pad");
  int64_t total = 1, outTotal = 1;
  for (int d = 0; d < rank; ++d) {
    if (before[d] < 0 || dims[d] < 0 || before[d] + dims[d] > od[d]) {
      throwRange(info.Env(), "pad", "window outside the output");
    }
    total *= dims[d];
    outTotal *= od[d];
  }
  if ((xv.type != napi_float32_array && xv.type != napi_int32_array) || ov.type != xv.type ||
      xv.length < static_cast<size_t>(total) || ov.length < static_cast<size_t>(outTotal)) {
    throwType(info.Env(), "pad", 1, "a Float32Array or Int32Array (as x) of the output's size");
  }
  const double value = num(info, 3);
  if (xv.type == napi_float32_array) {
    float* o = static_cast<float*>(ov.data);
    std::fill(o, o + outTotal, static_cast<float>(value));
  } else {
    int32_t* o = static_cast<int32_t*>(ov.data);
    std::fill(o, o + outTotal, static_cast<int32_t>(value));
  }
  if (total == 0) return info.Env().Undefined();
  // Rows of x (its last axis) go to rows of the window.
  int64_t os[kMaxRank];
  os[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; --d) os[d] = os[d + 1] * od[d + 1];
  const uint32_t* x = static_cast<const uint32_t*>(xv.data);
  uint32_t* o = static_cast<uint32_t*>(ov.data);
  const int64_t row = dims[rank - 1];
  int64_t coord[kMaxRank] = {0};
  for (int64_t r = 0; r < total / row; ++r) {
    int64_t off = before[rank - 1];
    for (int d = 0; d < rank - 1; ++d) off += (before[d] + coord[d]) * os[d];
    std::memcpy(o + off, x + r * row, row * sizeof(uint32_t));
    for (int d = rank - 2; d >= 0; --d) {
      if (++coord[d] < dims[d]) break;
      coord[d] = 0;
    }
  }
  return info.Env().Undefined();
}

}  // namespace zsn
