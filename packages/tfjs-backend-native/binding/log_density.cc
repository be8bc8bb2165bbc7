// Log-densities: Normal from logstd, Bernoulli from logits, summed over a
// distribution's group axes in the same pass when asked; their gradients;
// the reparameterised Normal sample.
//
// Operands broadcast periodically: output element i reads element i % length
// of each operand. The caller (src/kernels/distributions.ts) guarantees that
// every length divides the output's and the shortest non-scalar one divides
// the others: trailing-dimension broadcasting, as of a [k, n, d] sample
// against [n, d] parameters. The output is walked in blocks of that shortest length,
// so every operand is contiguous within a block; scalars are expanded into
// one block up front.
//
// Grouped forms sum the element values over rows of `inner` consecutive
// elements (a distribution's last group axes) without writing them out; their
// gradients read one dy per row. Both `inner` and the block length are
// products of trailing dimensions of the same shape, so one divides the
// other and a row is walked in segments that never leave a block.
#include <algorithm>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "denormals.h"
#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {
namespace {

// Elements a block is widened to at most (see Periodic::widen).
constexpr int64_t kWideBlock = 4096;

struct Periodic {
  std::vector<const float*> base;
  std::vector<int64_t> length;
  std::vector<std::vector<float>> expanded;
  int64_t n = 0;
  int64_t block = 1;
  int64_t blocks = 0;

  // `inner` (1 when ungrouped) is the row length of a grouped call: a widened
  // block stays a whole number of rows, or a whole fraction of one.
  Periodic(const Napi::CallbackInfo& info, const char* fn, std::initializer_list<int> args,
           int64_t size, int64_t inner = 1)
      : n(size) {
    block = n;
    for (int i : args) {
      const View v = f32View(info, i, fn);
      base.push_back(static_cast<const float*>(v.data));
      length.push_back(static_cast<int64_t>(v.length));
      if (v.length > 1) block = std::min<int64_t>(block, static_cast<int64_t>(v.length));
    }
    if (n == 0) return;  // nothing to compute (and no block length to divide by)
    for (size_t j = 0; j < length.size(); ++j) {
      const int64_t len = length[j];
      const bool ok = len == 1 || (len > 0 && n % len == 0 && len % block == 0);
      if (!ok) {
        throwRange(info.Env(), fn, "operand lengths do not broadcast periodically");
      }
    }
    widen(inner);
    expanded.resize(length.size());
    for (size_t j = 0; j < length.size(); ++j) {
      const int64_t len = length[j];
      if (len >= block) continue;
      // A period shorter than the block (a scalar, or [d] parameters against
      // a wider block) is tiled into one block, read at the block's offset.
      std::vector<float>& e = expanded[j];
      e.resize(static_cast<size_t>(block));
      // Period by period (len divides block): no division per element.
      if (len == 1) {
        std::fill(e.begin(), e.end(), base[j][0]);
      } else {
        for (int64_t k = 0; k < block; k += len) std::copy(base[j], base[j] + len, e.data() + k);
      }
    }
    blocks = n / block;
  }
  // The widest multiple of the block up to kWideBlock elements that divides
  // n, divides every operand at least that long, is divided by every shorter
  // one, and fits `inner`: a [1000, 10] value against [10] parameters then
  // runs in blocks of 2000 elements rather than 1000 blocks of 10, with the
  // same arithmetic on every element.
  void widen(int64_t inner) {
    // b = m·block must divide n, so m divides q = n / block: the candidates
    // are q's divisors up to mMax, largest first (found by trial division up
    // to min(mMax, √q) rather than by one division per m up to mMax).
    const int64_t mMax = std::min(kWideBlock, n) / block;
    if (mMax <= 1) return;
    const int64_t q = n / block;
    std::vector<int64_t> cand;
    for (int64_t d = 1; d <= mMax && d * d <= q; ++d) {
      if (q % d != 0) continue;
      cand.push_back(d);
      if (q / d <= mMax && q / d != d) cand.push_back(q / d);
    }
    std::sort(cand.begin(), cand.end(), std::greater<int64_t>());
    for (const int64_t m : cand) {
      if (m <= 1) break;
      const int64_t b = m * block;
      if (inner > 1 && b % inner != 0 && inner % b != 0) continue;
      bool fits = true;
      for (int64_t len : length) {
        if (len > 1 && (len >= b ? len % b != 0 : b % len != 0)) fits = false;
      }
      if (fits) {
        block = b;
        return;
      }
    }
  }
  // Operand j's values for the segment starting at output element pos.
  const float* at(size_t j, int64_t pos) const {
    return length[j] < block ? expanded[j].data() + pos % block : base[j] + pos % length[j];
  }
  // Calls f(pos, len) for every block, over the pool, denormals flushed.
  template <class F>
  void forBlocks(F&& f) const {
    const int64_t B = block;
    parallelFor(blocks, std::max<int64_t>(1, 16384 / std::max<int64_t>(B, 1)),
                [&](int64_t b0, int64_t b1) {
                  FlushDenormals ftz;
                  for (int64_t b = b0; b < b1; ++b) f(b * B, B);
                });
  }
  // Calls f(row, pos, len) for the segments of every row of `inner` elements,
  // over the pool, denormals flushed.
  template <class F>
  void forRows(const Napi::CallbackInfo& info, const char* fn, int64_t inner, F&& f) const {
    if (n == 0) return;
    if (inner < 1 || n % inner != 0 || (inner % block != 0 && block % inner != 0)) {
      throwRange(info.Env(), fn, "the group length does not fit the operands");
    }
    const int64_t seg = std::min(inner, block);
    parallelFor(n / inner, std::max<int64_t>(1, 16384 / inner), [&](int64_t r0, int64_t r1) {
      FlushDenormals ftz;
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t s = 0; s < inner; s += seg) f(r, r * inner + s, seg);
      }
    });
  }
};

// The `inner` argument of the log-density functions (>= 1).
int64_t innerArg(const Napi::CallbackInfo& info, int i, const char* fn) {
  const int64_t inner = inum(info, i);
  if (inner < 1) throwRange(info.Env(), fn, "inner < 1");
  return inner;
}

// The length n of a gradient (argument `full`'s) and its row length `inner`
// (argument `innerAt`), checked to divide n.
struct GradLength {
  int64_t n, inner;
};
GradLength gradLength(const Napi::CallbackInfo& info, const char* fn, int full, int innerAt) {
  const int64_t n = static_cast<int64_t>(typed(info, full, fn).length);
  const int64_t inner = innerArg(info, innerAt, fn);
  if (n % inner != 0) throwRange(info.Env(), fn, "bad inner");
  return {n, inner};
}

// Writes the element values f(pos, len, dst) computes into out, or with
// inner > 1 their sums over rows of `inner` elements (out[r] for row r).
template <class F>
void writeValues(const Napi::CallbackInfo& info, const char* fn, const Periodic& ops, int64_t inner,
                 float* out, F&& f) {
  if (inner == 1) {
    ops.forBlocks([&](int64_t pos, int64_t len) { f(pos, len, out + pos); });
    return;
  }
  // The values go to a scratch buffer (one per thread) and are summed from it
  // row by row in the Sum kernel's order, so a grouped log-density equals the
  // ungrouped one summed. Rows no longer than a block: a block at a time.
  thread_local std::vector<float> row;
  if (ops.n > 0 && inner <= ops.block && ops.block % inner == 0) {
    ops.forBlocks([&](int64_t pos, int64_t len) {
      if (static_cast<int64_t>(row.size()) < len) row.resize(static_cast<size_t>(len));
      f(pos, len, row.data());
      for (int64_t r = 0; r < len / inner; ++r) {
        out[pos / inner + r] = static_cast<float>(KT->sum(row.data() + r * inner, inner));
      }
    });
    return;
  }
  ops.forRows(info, fn, inner, [&](int64_t r, int64_t pos, int64_t len) {
    if (static_cast<int64_t>(row.size()) < inner) row.resize(static_cast<size_t>(inner));
    const int64_t off = pos - r * inner;
    f(pos, len, row.data() + off);
    if (off + len == inner) out[r] = static_cast<float>(KT->sum(row.data(), inner));
  });
}

// Calls f(pos, len, dy) for every segment of the output, dy pointing at the
// segment's upstream gradients: dy itself when inner is 1, else each row's
// one value repeated over the row.
template <class F>
void withRowGrads(const Napi::CallbackInfo& info, const char* fn, const Periodic& ops,
                  int64_t inner, const float* dy, F&& f) {
  if (inner == 1) {
    ops.forBlocks([&](int64_t pos, int64_t len) { f(pos, len, dy + pos); });
    return;
  }
  thread_local std::vector<float> rep;
  if (ops.n > 0 && inner <= ops.block && ops.block % inner == 0) {
    ops.forBlocks([&](int64_t pos, int64_t len) {
      if (static_cast<int64_t>(rep.size()) < len) rep.resize(static_cast<size_t>(len));
      for (int64_t r = 0; r < len / inner; ++r) {
        std::fill(rep.begin() + r * inner, rep.begin() + (r + 1) * inner, dy[pos / inner + r]);
      }
      f(pos, len, rep.data());
    });
    return;
  }
  ops.forRows(info, fn, inner, [&](int64_t r, int64_t pos, int64_t len) {
    if (static_cast<int64_t>(rep.size()) < len) rep.resize(static_cast<size_t>(len));
    std::fill(rep.begin(), rep.begin() + len, dy[r]);
    f(pos, len, rep.data());
  });
}

}  // namespace

// normalLogProb(x, mean, logstd, out, inner): the element values
// -0.5 ((x - mean) e^-logstd)^2 - log(2 pi)/2 - logstd, broadcasting
// periodically; summed over rows of `inner` elements when inner > 1 (out then
// holds one value per row).
Napi::Value NormalLogProb(const Napi::CallbackInfo& info) {
  const char* fn = "normalLogProb";
  const View o = f32View(info, 3, fn);
  float* out = static_cast<float*>(o.data);
  const int64_t inner = innerArg(info, 4, fn);
  const Periodic ops(info, fn, {0, 1, 2}, static_cast<int64_t>(o.length) * inner, inner);
  const auto values = [&](int64_t pos, int64_t len, float* dst) {
    KT->normalLogProb(ops.at(0, pos), ops.at(1, pos), ops.at(2, pos), dst, len);
  };
  writeValues(info, fn, ops, inner, out, values);
  return info.Env().Undefined();
}

// normalLogProbGrad(x, mean, logstd, dy, gx, gs, inner): the log-density's
// gradients times dy at the full shape (gx, gs): gx for x (the mean's is
// -gx), gs for logstd. dy holds one value per row of `inner` elements.
Napi::Value NormalLogProbGrad(const Napi::CallbackInfo& info) {
  const char* fn = "normalLogProbGrad";
  const auto [n, inner] = gradLength(info, fn, 4, 6);
  const float* dy = f32(info, 3, fn, n / inner);
  float* gx = f32(info, 4, fn, n);
  float* gs = f32(info, 5, fn, n);
  const Periodic ops(info, fn, {0, 1, 2}, n, inner);
  const auto grads = [&](int64_t pos, int64_t len, const float* d) {
    KT->normalLogProbGrad(ops.at(0, pos), ops.at(1, pos), ops.at(2, pos), d, gx + pos, gs + pos,
                          len);
  };
  withRowGrads(info, fn, ops, inner, dy, grads);
  return info.Env().Undefined();
}

// bernoulliLogProb(logits, x, out, inner): x·logits − softplus(logits),
// broadcasting periodically, summed over rows of `inner` elements when
// inner > 1. (Ungrouped, broadcasting of any kind goes through binary().)
Napi::Value BernoulliLogProb(const Napi::CallbackInfo& info) {
  const char* fn = "bernoulliLogProb";
  const View o = f32View(info, 2, fn);
  float* out = static_cast<float*>(o.data);
  const int64_t inner = innerArg(info, 3, fn);
  const Periodic ops(info, fn, {0, 1}, static_cast<int64_t>(o.length) * inner, inner);
  const auto values = [&](int64_t pos, int64_t len, float* dst) {
    KT->bernoulliLogProb(ops.at(0, pos), ops.at(1, pos), dst, len);
  };
  writeValues(info, fn, ops, inner, out, values);
  return info.Env().Undefined();
}

// bernoulliLogProbGrad(logits, x, dy, out, inner): out = dy·(x − sigmoid(logits))
// at the full shape, dy holding one value per row of `inner` elements.
Napi::Value BernoulliLogProbGrad(const Napi::CallbackInfo& info) {
  const char* fn = "bernoulliLogProbGrad";
  const auto [n, inner] = gradLength(info, fn, 3, 4);
  const float* dy = f32(info, 2, fn, n / inner);
  float* out = f32(info, 3, fn, n);
  const Periodic ops(info, fn, {0, 1}, n, inner);
  const auto grads = [&](int64_t pos, int64_t len, const float* d) {
    KT->bernoulliLogProbGrad(ops.at(0, pos), ops.at(1, pos), d, out + pos, len);
  };
  withRowGrads(info, fn, ops, inner, dy, grads);
  return info.Env().Undefined();
}

// countsDot(x, l, out, inner, logOf): sums over rows of `inner` elements of
// x·l (x·log l when logOf), with 0 wherever x == 0 (even where l is ±inf,
// NaN, or 0 under logOf), broadcasting periodically: a multinomial's
// Σ_k x_k log p_k over its categories.
Napi::Value CountsDot(const Napi::CallbackInfo& info) {
  const char* fn = "countsDot";
  const View o = f32View(info, 2, fn);
  float* out = static_cast<float*>(o.data);
  const int64_t inner = innerArg(info, 3, fn);
  const bool logOf = flag(info, 4);
  const Periodic ops(info, fn, {0, 1}, static_cast<int64_t>(o.length) * inner, inner);
  const auto values = [&](int64_t pos, int64_t len, float* dst) {
    KT->countsDot(ops.at(0, pos), ops.at(1, pos), dst, len, logOf);
  };
  writeValues(info, fn, ops, inner, out, values);
  return info.Env().Undefined();
}

// normalSample(mean, logstd, noise, z): the reparameterised sample from the
// standard normals in noise (periodic operands): noise becomes eps·e^logstd
// and z = noise + mean.
Napi::Value NormalSample(const Napi::CallbackInfo& info) {
  const char* fn = "normalSample";
  const View nv = f32View(info, 2, fn);
  const int64_t n = static_cast<int64_t>(nv.length);
  float* noise = static_cast<float*>(nv.data);
  float* z = f32(info, 3, fn, n);
  const Periodic ops(info, fn, {0, 1}, n);
  ops.forBlocks([&](int64_t pos, int64_t len) {
    KT->normalSample(ops.at(0, pos), ops.at(1, pos), noise + pos, z + pos, len);
  });
  return info.Env().Undefined();
}

}  // namespace zsn
