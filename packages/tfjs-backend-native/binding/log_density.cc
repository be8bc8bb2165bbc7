// Log-densities: Normal from logstd, Bernoulli from logits, summed over a
// distribution's group axes in the same pass when asked; their gradients;
// the reparameterised Normal sample; the planar flow step and its gradient.
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
#include <deque>
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
// Elements a block is narrowed to at least (see Periodic::narrow).
constexpr int64_t kNarrowBlock = 512;

struct Periodic {
  std::vector<const float*> base;
  std::vector<int64_t> length;
  std::vector<std::vector<float>> expanded;
  std::deque<std::vector<float>> derived;  // derive()'s operands (stable addresses)
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
    for (size_t j = 0; j < length.size(); ++j) expand(j);
    blocks = n / block;
  }
  // Appends an operand of operand j's length whose elements are f(src, dst,
  // len) of operand j's (computed once per element of the operand, not of the
  // output); returns its index for at(). Values derived from a short period
  // are derived once rather than once per output element.
  template <class F>
  size_t derive(size_t j, F&& f) {
    const size_t k = base.size();
    derived.emplace_back(static_cast<size_t>(length[j]));
    f(base[j], derived.back().data(), length[j]);
    base.push_back(derived.back().data());
    length.push_back(length[j]);
    expanded.emplace_back();
    expand(k);
    return k;
  }
  // Tiles operand j into one block when its period is shorter than the block
  // (a scalar, or [d] parameters against a wider block), read at the block's
  // offset.
  void expand(size_t j) {
    const int64_t len = length[j];
    if (len >= block) return;
    std::vector<float>& e = expanded[j];
    e.resize(static_cast<size_t>(block));
    // Period by period (len divides block): no division per element.
    if (len == 1) {
      std::fill(e.begin(), e.end(), base[j][0]);
    } else {
      for (int64_t k = 0; k < block; k += len) std::copy(base[j], base[j] + len, e.data() + k);
    }
  }
  // The widest multiple of the block up to kWideBlock elements that divides
  // n, divides every operand at least that long, is divided by every shorter
  // one, and fits `inner`: a [1000, 10] value against [10] parameters then
  // runs in blocks of 2000 elements rather than 1000 blocks of 10, with the
  // same arithmetic on every element.
  void widen(int64_t inner) {
    if (block > kWideBlock) {
      narrow(inner);
      return;
    }
    // b = m·block must divide n, so m divides q = n / block: the candidates
    // are q's divisors up to mMax, largest first (found by trial division up
    // to min(mMax, √q) rather than by one division per m up to mMax).
    const int64_t mMax = std::min(kWideBlock, n) / block;
    if (mMax <= 1) return;
    const int64_t q = n / block;
    thread_local std::vector<int64_t> cand;  // kept: no allocation per call
    cand.clear();
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
  // The reverse of widen for a block longer than kWideBlock (every operand
  // as long as the output, or a period that long): the largest divisor b of
  // the block up to kWideBlock (and at least kNarrowBlock) that fits
  // `inner`. A block is the unit forBlocks hands the pool, so a [10, 24,
  // 200] sample against logits of its own shape, one block of 48000
  // elements, ran on one thread; in blocks of 4000 it runs on both. Every
  // operand stays contiguous within a block (b divides the old block, which
  // divides every longer period), and each element's arithmetic is the same.
  void narrow(int64_t inner) {
    for (int64_t d = (block + kWideBlock - 1) / kWideBlock; block / d >= kNarrowBlock; ++d) {
      if (block % d != 0) continue;
      const int64_t b = block / d;
      if (inner > 1 && b % inner != 0 && inner % b != 0) continue;
      block = b;
      return;
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
    parallelForUnits(blocks, std::max<int64_t>(1, 16384 / std::max<int64_t>(B, 1)),
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
    parallelForUnits(n / inner, std::max<int64_t>(1, 16384 / inner), [&](int64_t r0, int64_t r1) {
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
      KT->rowSums(row.data(), len / inner, inner, out + pos / inner);
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

// The index of an operand e^-logstd derived from the Normal's logstd
// (operand 2) when logstd is shorter than the output (a [d] scale against
// [k, d] values: d exponentials instead of k·d); 0 when it is not, and the
// kernel takes the exponential per element.
size_t expOfShortLogstd(Periodic& ops) {
  if (ops.length[2] >= ops.n) return 0;
  return ops.derive(2, [](const float* s, float* e, int64_t len) { KT->expNeg(s, e, len); });
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
  Periodic ops(info, fn, {0, 1, 2}, static_cast<int64_t>(o.length) * inner, inner);
  const size_t e = expOfShortLogstd(ops);
  const auto values = [&](int64_t pos, int64_t len, float* dst) {
    KT->normalLogProb(ops.at(0, pos), ops.at(1, pos), ops.at(2, pos),
                      e == 0 ? nullptr : ops.at(e, pos), dst, len);
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
  Periodic ops(info, fn, {0, 1, 2}, n, inner);
  const size_t e = expOfShortLogstd(ops);
  const auto grads = [&](int64_t pos, int64_t len, const float* d) {
    KT->normalLogProbGrad(ops.at(0, pos), ops.at(1, pos), ops.at(2, pos),
                          e == 0 ? nullptr : ops.at(e, pos), d, gx + pos, gs + pos, len);
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

// countsDotGrad(x, l, dy, out, inner, logOf): countsDot's gradient for l,
// out = x·dy (x·dy / l when logOf) at the full length, broadcasting
// periodically, dy holding one value per row of `inner` elements.
Napi::Value CountsDotGrad(const Napi::CallbackInfo& info) {
  const char* fn = "countsDotGrad";
  const auto [n, inner] = gradLength(info, fn, 3, 4);
  const float* dy = f32(info, 2, fn, n / inner);
  float* out = f32(info, 3, fn, n);
  const bool logOf = flag(info, 5);
  const Periodic ops(info, fn, {0, 1}, n, inner);
  const auto grads = [&](int64_t pos, int64_t len, const float* d) {
    KT->countsDotGrad(ops.at(0, pos), ops.at(1, pos), d, out + pos, len, logOf);
  };
  withRowGrads(info, fn, ops, inner, dy, grads);
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

// Rows of a planar step's gradient per task: a fixed split of the rows
// (about 16384 elements a task), so that the sums over rows are added in the
// same order whatever the threads.
constexpr int64_t kPlanarTaskElements = 16384;

// The checked lengths of a planar step's call: dim >= 1 (argument `dimAt`),
// rows = x's length / dim, w and uHat of length dim, b of length 1.
struct PlanarShape {
  int64_t dim, rows;
};
PlanarShape planarShape(const Napi::CallbackInfo& info, const char* fn, int xAt, int dimAt) {
  const int64_t dim = inum(info, dimAt);
  if (dim < 1) throwRange(info.Env(), fn, "dim < 1");
  const int64_t n = static_cast<int64_t>(f32View(info, xAt, fn).length);
  if (n % dim != 0) throwRange(info.Env(), fn, "x's length is not a multiple of dim");
  for (int i = xAt + 1; i < xAt + 3; ++i) {
    if (static_cast<int64_t>(f32View(info, i, fn).length) != dim) {
      throwRange(info.Env(), fn, "w and uHat must have dim elements");
    }
  }
  if (f32View(info, xAt + 3, fn).length != 1) throwRange(info.Env(), fn, "b must have 1 element");
  return {dim, n / dim};
}

// planarStep(x, w, uHat, b, y, ld, dim): one planar flow step on the rows of
// x [rows, dim]: y = x + u·tanh(x·w + b) [rows, dim] and ld =
// log(1 + (1 − h²)·w·u) [rows], with u and w·u made from uHat (planarParams);
// rows in parallel.
Napi::Value PlanarStep(const Napi::CallbackInfo& info) {
  const char* fn = "planarStep";
  const auto [dim, rows] = planarShape(info, fn, 0, 6);
  const float* x = f32(info, 0, fn, 0);
  const float* w = f32(info, 1, fn, dim);
  const float* uHat = f32(info, 2, fn, dim);
  const float b = f32(info, 3, fn, 1)[0];
  float* y = f32(info, 4, fn, rows * dim);
  float* ld = f32(info, 5, fn, rows);
  std::vector<float> u(static_cast<size_t>(dim));
  float p[5];
  KT->planarParams(w, uHat, dim, u.data(), p);
  parallelFor(rows, std::max<int64_t>(1, kPlanarTaskElements / dim), [&](int64_t r0, int64_t r1) {
    FlushDenormals ftz;
    KT->planarRows(x, w, u.data(), p[1], b, y, ld, dim, r0, r1);
  });
  return info.Env().Undefined();
}

// planarStepGrad(dy, dl, x, w, uHat, b, dx, dw, dUHat, db, dim): the
// gradients of planarStep's (y, ld) for upstream dy [rows, dim] and dl
// [rows]. The sums over rows are taken in double, a fixed block of rows per
// task, and the blocks' sums added in order; then, as planarStep's comment in
// the library writes out, dc = du·w, d(w·u) = Σ h'·dl/D + dc/‖w‖², d(w·û) =
// d(w·u)·σ(w·û) − dc/‖w‖², dw = Σ da·x + c·du − 2w·c·dc/‖w‖² + d(w·û)·û,
// dû = du + d(w·û)·w and db = Σ da.
Napi::Value PlanarStepGrad(const Napi::CallbackInfo& info) {
  const char* fn = "planarStepGrad";
  const auto [dim, rows] = planarShape(info, fn, 2, 10);
  const float* dy = f32(info, 0, fn, rows * dim);
  const float* dl = f32(info, 1, fn, rows);
  const float* x = f32(info, 2, fn, 0);
  const float* w = f32(info, 3, fn, dim);
  const float* uHat = f32(info, 4, fn, dim);
  const float b = f32(info, 5, fn, 1)[0];
  float* dx = f32(info, 6, fn, rows * dim);
  float* dw = f32(info, 7, fn, dim);
  float* dUHat = f32(info, 8, fn, dim);
  float* db = f32(info, 9, fn, 1);
  std::vector<float> u(static_cast<size_t>(dim));
  float p[5];
  KT->planarParams(w, uHat, dim, u.data(), p);
  const float c = p[3], sw = p[2], sig = p[4];
  // Per task: du[dim], dwx[dim], Σ da, Σ h'·dl/D.
  const int64_t per = std::max<int64_t>(1, kPlanarTaskElements / dim);
  const int64_t tasks = std::max<int64_t>(1, (rows + per - 1) / per);
  const int64_t stride = 2 * dim + 2;
  std::vector<double> part(static_cast<size_t>(tasks * stride), 0.0);
  parallelTasks(
      tasks,
      [&](int64_t t) {
        FlushDenormals ftz;
        double* q = part.data() + t * stride;
        KT->planarRowsGrad(dy, dl, x, w, u.data(), p[1], b, dx, q, q + dim, q + 2 * dim, dim,
                           t * per, std::min(rows, (t + 1) * per));
      },
      elementwiseParallel);
  for (int64_t t = 1; t < tasks; ++t) {
    const double* q = part.data() + t * stride;
    for (int64_t j = 0; j < stride; ++j) part[j] += q[j];
  }
  // The rest in float, rounded as the composite's kernels round.
  std::vector<float> du(static_cast<size_t>(dim)), prod(static_cast<size_t>(dim));
  for (int64_t j = 0; j < dim; ++j) {
    du[j] = static_cast<float>(part[j]);
    prod[j] = du[j] * w[j];
  }
  const float dc = static_cast<float>(KT->sum(prod.data(), dim));
  const float dcSw = dc / sw;
  const float dWu = static_cast<float>(part[2 * dim + 1]) + dcSw;
  const float dWuHat = dWu * sig - dcSw;
  const float cdcSw = (c * dc) / sw;
  for (int64_t j = 0; j < dim; ++j) {
    const float dwx = static_cast<float>(part[dim + j]);
    dw[j] = ((dwx + c * du[j]) + (w[j] * -2.0f) * cdcSw) + dWuHat * uHat[j];
    dUHat[j] = du[j] + dWuHat * w[j];
  }
  db[0] = static_cast<float>(part[2 * dim]);
  return info.Env().Undefined();
}

}  // namespace zsn
