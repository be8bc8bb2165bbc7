// 2-D convolutions, NHWC, as im2col + GEMM: Conv2D, its input gradient
// (Conv2DBackpropInput, also conv2dTranspose's forward) and its filter
// gradient (Conv2DBackpropFilter).
//
// The output rows (one per output pixel) are cut into blocks of a fixed size
// (from the geometry alone, so that the rounding does not depend on the
// threads); a block's patches are copied into a per-thread scratch matrix
// [rows, fH·fW·inC] (the filter's own layout [fH, fW, inC, outC] read as a
// [K, outC] matrix), which one single-threaded sgemm multiplies. Blocks run
// on the pool, as the GEMMs do, when the whole product has gemmPoolMinFlops
// or more (pool.h).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "entries.h"
#include "gemm.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// tfjs' Conv2DInfo, channels last: x [batch, inH, inW, inC], filter [fH, fW,
// inC, outC], y [batch, outH, outW, outC]; padT and padL the padding before
// the first row and column (the rest follows from the sizes).
struct ConvGeom {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padT, padL;
  int64_t K() const { return fH * fW * inC; }
  int64_t pixels() const { return outH * outW; }
  int64_t rows() const { return batch * pixels(); }
  // A 1×1 filter read at every pixel: the patches are x itself.
  bool pointwise() const {
    return fH == 1 && fW == 1 && sH == 1 && sW == 1 && padT == 0 && padL == 0;
  }
};

// Argument 3: the geometry as an Int32Array of 15 numbers, in ConvGeom's order.
ConvGeom geomArg(const Napi::CallbackInfo& info, const char* fn) {
  size_t n;
  const int32_t* m = i32(info, 3, fn, &n);
  if (n < 15) throwRange(info.Env(), fn, "the geometry needs 15 numbers");
  ConvGeom g{m[0], m[1], m[2],  m[3],  m[4],  m[5],  m[6], m[7],
             m[8], m[9], m[10], m[11], m[12], m[13], m[14]};
  if (g.batch < 0 || g.inH < 0 || g.inW < 0 || g.inC < 0 || g.outH < 0 || g.outW < 0 ||
      g.outC < 0 || g.fH < 1 || g.fW < 1 || g.sH < 1 || g.sW < 1 || g.dH < 1 || g.dW < 1) {
    throwRange(info.Env(), fn, "bad geometry");
  }
  return g;
}

// Rows of a block: about 64K floats of patches (a quarter of a 1 MB L2),
// at least 16 rows.
int64_t blockRows(const ConvGeom& g) {
  return std::max<int64_t>(16, (int64_t(1) << 16) / std::max<int64_t>(1, g.K()));
}

// Patches of output rows [r0, r1) (global over the batch) into cols
// [r1 - r0, K]; zeros where the window leaves the image.
void im2col(const ConvGeom& g, const float* x, int64_t r0, int64_t r1, float* cols) {
  const int64_t K = g.K(), C = g.inC;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / g.pixels(), p = r % g.pixels();
    const int64_t oy = p / g.outW, ox = p % g.outW;
    float* row = cols + (r - r0) * K;
    const float* xb = x + b * g.inH * g.inW * C;
    for (int64_t fy = 0; fy < g.fH; ++fy) {
      const int64_t iy = oy * g.sH - g.padT + fy * g.dH;
      for (int64_t fx = 0; fx < g.fW; ++fx) {
        const int64_t ix = ox * g.sW - g.padL + fx * g.dW;
        float* dst = row + (fy * g.fW + fx) * C;
        if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) {
          std::fill(dst, dst + C, 0.0f);
        } else {
          std::memcpy(dst, xb + (iy * g.inW + ix) * C, C * sizeof(float));
        }
      }
    }
  }
}

// dx += the patches of output rows [r0, r1) (the transpose of im2col).
void col2imAdd(const ConvGeom& g, const float* cols, int64_t r0, int64_t r1, float* dx) {
  const int64_t K = g.K(), C = g.inC;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / g.pixels(), p = r % g.pixels();
    const int64_t oy = p / g.outW, ox = p % g.outW;
    const float* row = cols + (r - r0) * K;
    float* db = dx + b * g.inH * g.inW * C;
    for (int64_t fy = 0; fy < g.fH; ++fy) {
      const int64_t iy = oy * g.sH - g.padT + fy * g.dH;
      if (iy < 0 || iy >= g.inH) continue;
      for (int64_t fx = 0; fx < g.fW; ++fx) {
        const int64_t ix = ox * g.sW - g.padL + fx * g.dW;
        if (ix < 0 || ix >= g.inW) continue;
        const float* src = row + (fy * g.fW + fx) * C;
        float* dst = db + (iy * g.inW + ix) * C;
        for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
      }
    }
  }
}

// Whether a convolution's blocks go to the pool: the GEMMs' rule.
bool onPool(const ConvGeom& g) {
  return gemmOnPool && 2.0 * static_cast<double>(g.rows()) * static_cast<double>(g.K()) *
                               static_cast<double>(g.outC) >=
                           gemmPoolMinFlops;
}

std::vector<float>& scratch() {
  static thread_local std::vector<float> s;
  return s;
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// conv2d(x, filter, out, geom): y = conv(x, filter), every operand float32
// NHWC (filter [fH, fW, inC, outC]).
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const ConvGeom g = geomArg(info, "conv2d");
  const int64_t K = g.K();
  const float* x = f32(info, 0, "conv2d", g.batch * g.inH * g.inW * g.inC);
  const float* w = f32(info, 1, "conv2d", K * g.outC);
  float* y = f32(info, 2, "conv2d", g.rows() * g.outC);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t rows = g.rows(), br = blockRows(g);
  const int64_t blocks = (rows + br - 1) / br;
  parallelTasks(
      blocks,
      [&](int64_t i) {
        const int64_t r0 = i * br, r1 = std::min(rows, r0 + br);
        const float* a = x + r0 * K;
        if (!g.pointwise()) {
          std::vector<float>& cols = scratch();
          cols.resize(static_cast<size_t>(br * K));
          im2col(g, x, r0, r1, cols.data());
          a = cols.data();
        }
        sgemm(makeGemm(a, w, y + r0 * g.outC, r1 - r0, g.outC, K, false, false));
      },
      onPool(g));
  countGemms("conv2d", makeGemm(x, w, y, rows, g.outC, K, false, false), blocks, secondsSince(t0));
  return info.Env().Undefined();
}

// conv2dBackpropInput(dy, filter, dx, geom): dx = the gradient of conv2d with
// respect to x for the output gradient dy (tfjs' Conv2DBackpropInput, the
// forward of conv2dTranspose): dx = col2im(dy · filterᵀ).
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  const ConvGeom g = geomArg(info, "conv2dBackpropInput");
  const int64_t K = g.K(), image = g.inH * g.inW * g.inC;
  const float* dy = f32(info, 0, "conv2dBackpropInput", g.rows() * g.outC);
  const float* w = f32(info, 1, "conv2dBackpropInput", K * g.outC);
  float* dx = f32(info, 2, "conv2dBackpropInput", g.batch * image);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t br = blockRows(g), pixels = g.pixels();
  // Windows overlap: a task owns whole images of dx.
  const int64_t blocksPerImage = (pixels + br - 1) / br;
  parallelTasks(
      g.batch,
      [&](int64_t b) {
        float* dxb = dx + b * image;
        if (g.pointwise()) {
          sgemm(makeGemm(dy + b * pixels * g.outC, w, dxb, pixels, K, g.outC, false, true));
          return;
        }
        std::fill(dxb, dxb + image, 0.0f);
        std::vector<float>& cols = scratch();
        cols.resize(static_cast<size_t>(br * K));
        for (int64_t r0 = b * pixels; r0 < (b + 1) * pixels; r0 += br) {
          const int64_t r1 = std::min((b + 1) * pixels, r0 + br);
          sgemm(makeGemm(dy + r0 * g.outC, w, cols.data(), r1 - r0, K, g.outC, false, true));
          col2imAdd(g, cols.data(), r0, r1, dx);
        }
      },
      onPool(g));
  countGemms("conv2dBackpropInput", makeGemm(dy, w, dx, g.rows(), K, g.outC, false, true),
             g.batch * blocksPerImage, secondsSince(t0));
  return info.Env().Undefined();
}

// conv2dBackpropFilter(x, dy, dw, geom): dw = the gradient of conv2d with
// respect to the filter: im2col(x)ᵀ · dy, [K, outC]. Each of the pool's
// threads sums a fixed share of the blocks into its own partial product, and
// the partials are added in thread order (the same rounding every run).
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  const ConvGeom g = geomArg(info, "conv2dBackpropFilter");
  const int64_t K = g.K(), N = g.outC, rows = g.rows();
  const float* x = f32(info, 0, "conv2dBackpropFilter", g.batch * g.inH * g.inW * g.inC);
  const float* dy = f32(info, 1, "conv2dBackpropFilter", rows * N);
  float* dw = f32(info, 2, "conv2dBackpropFilter", K * N);
  const auto t0 = std::chrono::steady_clock::now();
  // Longer blocks here: the products are [K, rows]·[rows, outC], summed.
  const int64_t br = std::max<int64_t>(64, (int64_t(1) << 18) / std::max<int64_t>(1, K));
  const int64_t blocks = (rows + br - 1) / br;
  const int threads = onPool(g) && pool != nullptr && blocks > 1
                          ? static_cast<int>(std::min<int64_t>(pool->threads(), blocks))
                          : 1;
  // The calling thread's buffer, by pointer (in a worker, `partials` would
  // name the worker's own).
  static thread_local std::vector<float> partials;
  partials.resize(static_cast<size_t>((threads - 1) * K * N));
  float* const parts = partials.data();
  auto share = [&](int t) {
    float* out = t == 0 ? dw : parts + (t - 1) * K * N;
    const int64_t b0 = blocks * t / threads, b1 = blocks * (t + 1) / threads;
    if (b0 == b1) {
      std::fill(out, out + K * N, 0.0f);
      return;
    }
    std::vector<float>& cols = scratch();
    if (!g.pointwise()) cols.resize(static_cast<size_t>(br * K));
    for (int64_t i = b0; i < b1; ++i) {
      const int64_t r0 = i * br, r1 = std::min(rows, r0 + br);
      const float* a = x + r0 * K;
      if (!g.pointwise()) {
        im2col(g, x, r0, r1, cols.data());
        a = cols.data();
      }
      Gemm p = makeGemm(a, dy + r0 * N, out, K, N, r1 - r0, true, false);
      p.beta = i == b0 ? 0.0f : 1.0f;
      sgemm(p);
    }
  };
  if (threads == 1) {
    share(0);
  } else {
    struct Job {
      decltype(share)* f;
      int threads;
    } job{&share, threads};
    pool->run(
        [](void* c, int t) {
          const Job& j = *static_cast<Job*>(c);
          if (t < j.threads) (*j.f)(t);
        },
        &job);
    for (int t = 1; t < threads; ++t) {
      const float* p = parts + (t - 1) * K * N;
      for (int64_t i = 0; i < K * N; ++i) dw[i] += p[i];
    }
  }
  countGemms("conv2dBackpropFilter", makeGemm(x, dy, dw, K, N, rows, true, false), blocks,
             secondsSince(t0));
  return info.Env().Undefined();
}

}  // namespace zsn
