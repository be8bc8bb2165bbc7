// 2-D max and average pooling, NHWC, and their gradients, with tfjs-cpu's
// semantics: a window covers the in-image pixels only (the average divides by
// their count), max ignores NaN (a window of NaN or of nothing is −∞), and
// the gradients follow tfjs-cpu's kernels exactly: MaxPoolGrad routes dy to
// the first maximum of each window in scan order, AvgPoolGrad spreads dy over
// the in-image pixels of each window divided by the *full* window size.
// Sums run in double and are rounded once, as tfjs-cpu's do.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// tfjs' pooling Conv2DInfo: x [batch, inH, inW, C], y [batch, outH, outW, C],
// a filter of fH × fW moved by sH, sW; padT and padL the padding before the
// first row and column.
struct PoolGeom {
  int64_t batch, inH, inW, C, outH, outW, fH, fW, sH, sW, padT, padL;
  int64_t inSize() const { return batch * inH * inW * C; }
  int64_t outSize() const { return batch * outH * outW * C; }
  // The in-image rows [*y0, *y1) and columns [*x0, *x1) of output (oy, ox).
  void window(int64_t oy, int64_t ox, int64_t* y0, int64_t* y1, int64_t* x0, int64_t* x1) const {
    const int64_t cy = oy * sH - padT, cx = ox * sW - padL;
    *y0 = std::max<int64_t>(0, cy);
    *y1 = std::min(inH, cy + fH);
    *x0 = std::max<int64_t>(0, cx);
    *x1 = std::min(inW, cx + fW);
  }
};

// Argument `i`: the geometry as an Int32Array of 12 numbers, in PoolGeom's order.
PoolGeom geomArg(const Napi::CallbackInfo& info, int i, const char* fn) {
  size_t n;
  const int32_t* m = i32(info, i, fn, &n);
  if (n < 12) throwRange(info.Env(), fn, "the geometry needs 12 numbers");
  PoolGeom g{m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11]};
  if (g.batch < 0 || g.inH < 0 || g.inW < 0 || g.C < 0 || g.outH < 0 || g.outW < 0 || g.fH < 1 ||
      g.fW < 1 || g.sH < 1 || g.sW < 1) {
    throwRange(info.Env(), fn, "bad geometry");
  }
  return g;
}

std::vector<double>& scratch() {
  static thread_local std::vector<double> s;
  return s;
}

// Runs f(b, oy) for every image b and output row oy, rows split over the pool
// when the work is large enough.
template <class F>
void forOutputRows(const PoolGeom& g, F&& f) {
  const int64_t perRow = g.outW * g.C * g.fH * g.fW;
  parallelForUnits(g.batch * g.outH,
                   std::max<int64_t>(1, parallelMin / std::max<int64_t>(1, perRow)),
                   [&](int64_t r0, int64_t r1) {
                     for (int64_t r = r0; r < r1; ++r) f(r / g.outH, r % g.outH);
                   });
}

// Runs f(b) for every image, images split over the pool when large enough
// (a gradient's windows overlap within an image, never across images).
template <class F>
void forImages(const PoolGeom& g, F&& f) {
  const int64_t perImage = g.outH * g.outW * g.C * g.fH * g.fW;
  parallelForUnits(g.batch, std::max<int64_t>(1, parallelMin / std::max<int64_t>(1, perImage)),
                   [&](int64_t b0, int64_t b1) {
                     for (int64_t b = b0; b < b1; ++b) f(b);
                   });
}

// One pixel's channels p[0, C) (at image offset `off`) against the running
// maxima: where p is greater, it becomes the maximum and off + c its place.
// Branch-free (SSE2 selects): with branches, mispredicted compares of random
// data made this kernel 20 times slower than the forward pass.
void maxStep(const float* p, int32_t off, int32_t C, float* best, int32_t* at) {
  int32_t c = 0;
#if defined(__SSE2__)
  const __m128i lane = _mm_setr_epi32(0, 1, 2, 3);
  for (; c + 4 <= C; c += 4) {
    const __m128 v = _mm_loadu_ps(p + c);
    const __m128 b = _mm_loadu_ps(best + c);
    const __m128 more = _mm_cmpgt_ps(v, b);
    _mm_storeu_ps(best + c, _mm_or_ps(_mm_and_ps(more, v), _mm_andnot_ps(more, b)));
    const __m128i m = _mm_castps_si128(more);
    const __m128i place = _mm_add_epi32(_mm_set1_epi32(off + c), lane);
    const __m128i old = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + c));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(at + c),
                     _mm_or_si128(_mm_and_si128(m, place), _mm_andnot_si128(m, old)));
  }
#endif
  for (; c < C; ++c) {
    const bool more = p[c] > best[c];
    best[c] = more ? p[c] : best[c];
    at[c] = more ? off + c : at[c];
  }
}

}  // namespace

// pool2d(x, out, isMax, geom): max (isMax) or average pooling.
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  const PoolGeom g = geomArg(info, 3, "pool2d");
  const float* x = f32(info, 0, "pool2d", g.inSize());
  float* y = f32(info, 1, "pool2d", g.outSize());
  const bool isMax = flag(info, 2);
  const int64_t C = g.C;
  forOutputRows(g, [&](int64_t b, int64_t oy) {
    const float* xb = x + b * g.inH * g.inW * C;
    std::vector<double>& acc = scratch();
    if (!isMax) acc.resize(static_cast<size_t>(C));
    for (int64_t ox = 0; ox < g.outW; ++ox) {
      float* out = y + ((b * g.outH + oy) * g.outW + ox) * C;
      int64_t y0, y1, x0, x1;
      g.window(oy, ox, &y0, &y1, &x0, &x1);
      if (isMax) {
        std::fill(out, out + C, -std::numeric_limits<float>::infinity());
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const float* p = xb + (iy * g.inW + ix) * C;
            for (int64_t c = 0; c < C; ++c) out[c] = p[c] > out[c] ? p[c] : out[c];
          }
        }
      } else {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const float* p = xb + (iy * g.inW + ix) * C;
            for (int64_t c = 0; c < C; ++c) acc[c] += p[c];
          }
        }
        const double count =
            static_cast<double>(std::max<int64_t>(0, y1 - y0) * std::max<int64_t>(0, x1 - x0));
        for (int64_t c = 0; c < C; ++c) out[c] = static_cast<float>(acc[c] / count);
      }
    }
  });
  return info.Env().Undefined();
}

// maxPoolGrad(dy, x, dx, geom): dx[pixel] = Σ dy over the windows whose first
// maximum (strictly greater than everything before it in scan order, from
// −∞) is that pixel.
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const PoolGeom g = geomArg(info, 3, "maxPoolGrad");
  const float* dy = f32(info, 0, "maxPoolGrad", g.outSize());
  const float* x = f32(info, 1, "maxPoolGrad", g.inSize());
  float* dx = f32(info, 2, "maxPoolGrad", g.inSize());
  const int64_t C = g.C, image = g.inH * g.inW * C;
  if (image > INT32_MAX) throwRange(info.Env(), "maxPoolGrad", "an image over 2^31 elements");
  // Windows that do not overlap route at most one dy to a pixel: written
  // as is (a sum of one term), without the double scratch.
  const bool disjoint = g.sH >= g.fH && g.sW >= g.fW;
  forImages(g, [&](int64_t b) {
    float* dxb = dx + b * image;
    std::vector<double>& acc = scratch();
    if (disjoint) {
      std::fill(dxb, dxb + image, 0.0f);
    } else {
      acc.assign(static_cast<size_t>(image), 0.0);
    }
    double* a = acc.data();
    // Per channel: the running maximum and its offset in the image (in
    // floats), of one width so that the compare-and-select vectorises.
    static thread_local std::vector<float> bestV;
    static thread_local std::vector<int32_t> atV;
    bestV.resize(static_cast<size_t>(C));
    atV.resize(static_cast<size_t>(C));
    float* best = bestV.data();
    int32_t* at = atV.data();
    const float* xb = x + b * image;
    for (int64_t oy = 0; oy < g.outH; ++oy) {
      for (int64_t ox = 0; ox < g.outW; ++ox) {
        int64_t y0, y1, x0, x1;
        g.window(oy, ox, &y0, &y1, &x0, &x1);
        std::fill(best, best + C, -std::numeric_limits<float>::infinity());
        std::fill(at, at + C, -1);
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const int32_t off = static_cast<int32_t>((iy * g.inW + ix) * C);
            maxStep(xb + off, off, static_cast<int32_t>(C), best, at);
          }
        }
        const float* d = dy + ((b * g.outH + oy) * g.outW + ox) * C;
        if (disjoint) {
          for (int64_t c = 0; c < C; ++c) {
            if (at[c] >= 0) dxb[at[c]] = d[c];
          }
        } else {
          for (int64_t c = 0; c < C; ++c) {
            if (at[c] >= 0) a[at[c]] += d[c];
          }
        }
      }
    }
    if (!disjoint) {
      for (int64_t i = 0; i < image; ++i) dxb[i] = static_cast<float>(a[i]);
    }
  });
  return info.Env().Undefined();
}

// avgPoolGrad(dy, dx, geom): dx[pixel] = (Σ dy over the windows that cover
// it) / (fH·fW).
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  const PoolGeom g = geomArg(info, 2, "avgPoolGrad");
  const float* dy = f32(info, 0, "avgPoolGrad", g.outSize());
  float* dx = f32(info, 1, "avgPoolGrad", g.inSize());
  const int64_t C = g.C, image = g.inH * g.inW * C;
  const double scale = 1.0 / static_cast<double>(g.fH * g.fW);
  forImages(g, [&](int64_t b) {
    std::vector<double>& acc = scratch();
    acc.assign(static_cast<size_t>(image), 0.0);
    double* a = acc.data();
    for (int64_t oy = 0; oy < g.outH; ++oy) {
      for (int64_t ox = 0; ox < g.outW; ++ox) {
        int64_t y0, y1, x0, x1;
        g.window(oy, ox, &y0, &y1, &x0, &x1);
        const float* d = dy + ((b * g.outH + oy) * g.outW + ox) * C;
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            double* p = a + (iy * g.inW + ix) * C;
            for (int64_t c = 0; c < C; ++c) p[c] += d[c];
          }
        }
      }
    }
    float* dxb = dx + b * image;
    for (int64_t i = 0; i < image; ++i) dxb[i] = static_cast<float>(a[i] * scale);
  });
  return info.Env().Undefined();
}

}  // namespace zsn
