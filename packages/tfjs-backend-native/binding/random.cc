// Seeded random numbers.
//
// tf.randomNormal and tf.randomUniform with a seed draw from seedrandom's Alea
// generator, seeded from the seed's string through Baagoe's Mash; normals come
// in pairs from the Marsaglia polar method of tfjs' MPRandGauss. The same
// double arithmetic in the same order (-ffp-contract=off: no fused
// multiply-adds) gives the same stream, so a seeded draw on `native` equals
// the cpu backend's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

class Mash {
 public:
  double operator()(const std::string& data) {
    for (unsigned char ch : data) {
      n_ += ch;
      double h = 0.02519603282416938 * n_;
      n_ = toUint32(h);
      h -= n_;
      h *= n_;
      n_ = toUint32(h);
      h -= n_;
      n_ += h * 4294967296.0;
    }
    return toUint32(n_) * 2.3283064365386963e-10;
  }

 private:
  // JS `x >>> 0` for x >= 0.
  static double toUint32(double x) { return std::fmod(std::floor(x), 4294967296.0); }
  double n_ = 4022871197.0;  // 0xefc8249d
};

// Alea is an exact multiply-with-carry generator: its state doubles are
// multiples of 2^-32 in [0, 1) (Mash returns such, and their differences
// plus 1 stay such), so with s0 = k·2^-32 the double t = 2091639·s0 +
// c·2^-32 = (2091639·k + c)·2^-32 is exact (below 2^53·2^-32), c' = ⌊t⌋ and
// the new s2 = t − c' = ((2091639·k + c) mod 2^32)·2^-32. The same steps in
// 64-bit integers give the same stream; the chain from one number to the
// next is then an add and a shift (the multiply reads a state three steps
// old) rather than a double multiply, add and two conversions.
class Alea {
 public:
  explicit Alea(const std::string& seed) {
    Mash mash;
    double s0 = mash(" ");
    double s1 = mash(" ");
    double s2 = mash(" ");
    s0 -= mash(seed);
    if (s0 < 0) s0 += 1;
    s1 -= mash(seed);
    if (s1 < 0) s1 += 1;
    s2 -= mash(seed);
    if (s2 < 0) s2 += 1;
    k0_ = static_cast<uint64_t>(s0 * 4294967296.0);
    k1_ = static_cast<uint64_t>(s1 * 4294967296.0);
    k2_ = static_cast<uint64_t>(s2 * 4294967296.0);
  }
  // A double in [0, 1).
  double next() {
    const uint64_t x = 2091639u * k0_ + c_;
    k0_ = k1_;
    k1_ = k2_;
    c_ = x >> 32;
    k2_ = x & 0xffffffffu;
    return static_cast<double>(k2_) * 2.3283064365386963e-10;
  }

 private:
  uint64_t k0_ = 0, k1_ = 0, k2_ = 0, c_ = 1;
};

}  // namespace

// randomNormal(out, seed, mean, stdDev): tf.randomNormal(shape, mean, stdDev,
// 'float32', seed) into out, seed given as the string tfjs would make of it.
// The stream is sequential: the polar method's uniform pairs and rejections
// are drawn on this thread, the logarithms and square roots (most of the
// cost) of the accepted pairs are spread over the pool from 1024 pairs on
// (parallelMin / 32 by default: a pair costs ~9 ns, some 30 times a cheap
// element-wise step).
Napi::Value RandomNormal(const Napi::CallbackInfo& info) {
  const View o = f32View(info, 0, "randomNormal");
  float* out = static_cast<float*>(o.data);
  const int64_t n = static_cast<int64_t>(o.length);
  Alea rng(str(info, 1, "randomNormal"));
  const double mean = num(info, 2), sd = num(info, 3);
  const int64_t pairs = (n + 1) / 2;
  // The accepted (v1, v2) pairs, in a scratch array kept between calls (a
  // fresh one per call would page-fault on every large draw).
  static std::vector<double> acc;
  if (acc.size() < static_cast<size_t>(pairs) * 2) acc.resize(static_cast<size_t>(pairs) * 2);
  // Branch-free: every candidate pair is written at the next free slot and
  // the slot taken only when the pair is accepted. The polar method rejects
  // 21 % of candidates at random, and a loop that branched on it mispredicted
  // on each: 46 -> 18 us for 10000 normals (a fresh seed each call; one seed
  // repeated lets the predictor learn the rejections and hides the cost).
  double* a = acc.data();
  for (int64_t got = 0; got < pairs;) {
    const double v1 = 2 * rng.next() - 1;
    const double v2 = 2 * rng.next() - 1;
    const double s = v1 * v1 + v2 * v2;
    a[2 * got] = v1;
    a[2 * got + 1] = v2;
    got += static_cast<int64_t>((s < 1) & (s != 0));
  }
  // In runs of kRun pairs: the logarithms one by one (a libm call), then the
  // divisions, square roots and products of the run in a loop the compiler
  // vectorises (each element's operations, in the same order, round as
  // before).
  constexpr int64_t kRun = 256;
  auto finish = [&](int64_t p0, int64_t p1) {
    double s[kRun], l[kRun];
    for (int64_t r0 = p0; r0 < p1; r0 += kRun) {
      const int64_t len = std::min(kRun, p1 - r0);
      const double* v = a + 2 * r0;
      for (int64_t i = 0; i < len; ++i) s[i] = v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1];
      for (int64_t i = 0; i < len; ++i) l[i] = std::log(s[i]);
      for (int64_t i = 0; i < len; ++i) l[i] = std::sqrt(-2.0 * l[i] / s[i]);
      // The last pair of an odd n writes only its first number.
      const int64_t whole = 2 * (r0 + len) <= n ? len : len - 1;
      float* o = out + 2 * r0;
      for (int64_t i = 0; i < whole; ++i) {
        o[2 * i] = static_cast<float>(mean + sd * v[2 * i] * l[i]);
        o[2 * i + 1] = static_cast<float>(mean + sd * v[2 * i + 1] * l[i]);
      }
      if (whole < len) o[2 * whole] = static_cast<float>(mean + sd * v[2 * whole] * l[whole]);
    }
  };
  parallelFor(pairs, std::max<int64_t>(1, parallelMin / 32), std::move(finish));
  return info.Env().Undefined();
}

// randomUniform(out, seed, min, max): tf.randomUniform(shape, min, max,
// 'float32', seed) into out.
Napi::Value RandomUniform(const Napi::CallbackInfo& info) {
  const View o = f32View(info, 0, "randomUniform");
  float* out = static_cast<float*>(o.data);
  Alea rng(str(info, 1, "randomUniform"));
  const double lo = num(info, 2), range = num(info, 3) - lo;
  for (size_t i = 0; i < o.length; ++i) out[i] = static_cast<float>(lo + range * rng.next());
  return info.Env().Undefined();
}

// bernoulliSample(params, out, seed, fromLogits): out[i] = 1 if u_i < p_i
// else 0, where u is randomUniform(out, seed, 0, 1)'s stream and p_i =
// params[i % m] (m = params' length, which must divide out's), or with
// fromLogits sigmoid(params[i % m]) through the kernel table's Sigmoid loop
// with denormal results flushed, as the Sigmoid entry computes it. So out
// holds exactly cast(less(randomUniform(shape, 0, 1, seed), p), 'float32') on
// this addon, in one call on the calling thread: the uniform stream is written
// into out first (drawing it interleaved with the comparisons ran ~1.5x
// slower), then each block of 1024 is compared in place against its
// probabilities, computed into a stack buffer.
Napi::Value BernoulliSample(const Napi::CallbackInfo& info) {
  const char* fn = "bernoulliSample";
  const View pv = f32View(info, 0, fn);
  const View o = f32View(info, 1, fn);
  Alea rng(str(info, 2, fn));
  const bool fromLogits = flag(info, 3);
  const int64_t n = static_cast<int64_t>(o.length);
  const int64_t m = static_cast<int64_t>(pv.length);
  if (n > 0 && (m == 0 || n % m != 0)) {
    throwRange(info.Env(), fn, "the parameters' length must divide the output's");
  }
  const float* params = static_cast<const float*>(pv.data);
  float* out = static_cast<float*>(o.data);
  // randomUniform's min + range·next() with min 0 and range 1 is next() itself.
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(rng.next());
  constexpr int64_t kBlock = 1024;
  float p[kBlock];
  for (int64_t pos = 0; pos < n; pos += kBlock) {
    const int64_t len = std::min(kBlock, n - pos);
    // The block's probabilities: the parameters read periodically, in
    // contiguous pieces.
    for (int64_t k = 0; k < len;) {
      const int64_t j = (pos + k) % m;
      const int64_t c = std::min(len - k, m - j);
      if (fromLogits) {
        FlushDenormals ftz;
        KT->unary(kSigmoid, params + j, p + k, 0, c, 0.0f, 0.0f);
      } else {
        std::memcpy(p + k, params + j, static_cast<size_t>(c) * sizeof(float));
      }
      k += c;
    }
    float* block = out + pos;
    for (int64_t k = 0; k < len; ++k) block[k] = block[k] < p[k] ? 1.0f : 0.0f;
  }
  return info.Env().Undefined();
}

// bernoulliRows(x, xDim, rows, state, out): dynamic binarisation of the rows
// `rows` (Int32Array or Uint32Array) of x [*, xDim]: out[r·xDim + i] = 1 if
// u < x[rows[r]·xDim + i] else 0, with u the next uint32 of the xoshiro128**
// state (four uint32 words, advanced in place) times 2^-32, row after row:
// the numbers and the state of zhusuan's `nextWord` loop (the CLI's
// Rng.bernoulli), the comparison in double as JavaScript makes it.
Napi::Value BernoulliRows(const Napi::CallbackInfo& info) {
  const char* fn = "bernoulliRows";
  const View xv = f32View(info, 0, fn);
  const int64_t xDim = inum(info, 1);
  if (xDim < 0) throwRange(info.Env(), fn, "xDim must be >= 0");
  const View rv = typed(info, 2, fn);
  if (rv.type != napi_int32_array && rv.type != napi_uint32_array) {
    throwType(info.Env(), fn, 2, "an Int32Array or a Uint32Array of row indices");
  }
  const View sv = typed(info, 3, fn);
  if (sv.type != napi_uint32_array || sv.length < 4) {
    throwType(info.Env(), fn, 3, "a Uint32Array of four state words");
  }
  const int64_t nRows = static_cast<int64_t>(rv.length);
  float* out = f32(info, 4, fn, static_cast<size_t>(nRows * xDim));
  const float* x = static_cast<const float*>(xv.data);
  const int64_t xRows = xDim == 0 ? 0 : static_cast<int64_t>(xv.length) / xDim;
  const bool isSigned = rv.type == napi_int32_array;
  const auto row = [&](int64_t r) -> int64_t {
    return isSigned ? static_cast<const int32_t*>(rv.data)[r]
                    : static_cast<const uint32_t*>(rv.data)[r];
  };
  for (int64_t r = 0; r < nRows; ++r) {
    if (xDim > 0 && (row(r) < 0 || row(r) >= xRows)) {
      throwRange(info.Env(), fn,
                 "row " + std::to_string(row(r)) + " is outside x's " + std::to_string(xRows));
    }
  }
  uint32_t* st = static_cast<uint32_t*>(sv.data);
  uint32_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  const auto rotl = [](uint32_t v, int k) { return (v << k) | (v >> (32 - k)); };
  for (int64_t r = 0; r < nRows; ++r) {
    const float* p = x + row(r) * xDim;
    float* o = out + r * xDim;
    for (int64_t i = 0; i < xDim; ++i) {
      const uint32_t word = rotl(s1 * 5u, 7) * 9u;
      const uint32_t t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      // Branch-free (a set-on-compare): the outcome of a pixel is random, and
      // a branch on it mispredicted about half the time.
      const bool one =
          static_cast<double>(word) * 2.3283064365386963e-10 < static_cast<double>(p[i]);
      o[i] = static_cast<float>(one);
    }
  }
  st[0] = s0;
  st[1] = s1;
  st[2] = s2;
  st[3] = s3;
  return info.Env().Undefined();
}

}  // namespace zsn
