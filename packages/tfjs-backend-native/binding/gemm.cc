// Matrix products: MatMul, FusedMatMul and DenseGrad on cblas_sgemm, spread
// over the pool, and their wall time and per-shape trace.
//
// OpenBLAS runs single-threaded and the pool parallelises across products and
// blocks of products: on 2 cores OpenBLAS' own threading reached 120-140
// GFLOP/s on a training step's shapes (128-row products, K = 128 weight
// gradients) and was slower than one thread for the small ones, while two
// independent single-threaded products (a layer's input and weight gradients)
// or the two halves of one run at ~90 GFLOP/s each (docs/benchmarks.md).
#include "gemm.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

namespace zsn {

Gemm makeGemm(const float* a, const float* b, float* c, int64_t M, int64_t N, int64_t K, bool ta,
              bool tb) {
  return Gemm{ta, tb, M, N, K, a, ta ? M : K, b, tb ? K : N, c, N};
}

void sgemm(const Gemm& g) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) {
    if (g.beta == 0.0f) {
      for (int64_t i = 0; i < g.M; ++i) std::fill(g.c + i * g.ldc, g.c + i * g.ldc + g.N, 0.0f);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
              g.M, g.N, g.K, 1.0f, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc);
}

namespace {

// Part i of `parts` of g: a block of rows of C when M >= N, else of columns.
Gemm gemmPart(const Gemm& g, int i, int parts) {
  Gemm p = g;
  const bool rows = g.M >= g.N;
  const int64_t len = rows ? g.M : g.N;
  int64_t step = (len + parts - 1) / parts;
  step = (step + 15) & ~int64_t(15);
  const int64_t b = std::min(len, i * step), e = std::min(len, b + step);
  if (rows) {
    p.M = e - b;
    p.a = g.ta ? g.a + b : g.a + b * g.lda;
    p.c = g.c + b * g.ldc;
  } else {
    p.N = e - b;
    p.b = g.tb ? g.b + b * g.ldb : g.b + b;
    p.c = g.c + b;
  }
  return p;
}

// Products below this many FLOPs are not split (one thread is faster).
// Splitting the 4-8 MFLOP ones too saved ~0.03 ms a training step but
// changed their rounding (OpenBLAS takes other paths for the smaller
// blocks): the committed evaluations no longer reproduced to the last digit
// (docs/benchmarks.md, 2026-11-29). Keep it unless that is worth giving up.
constexpr double kSplitFlops = 8e6;

// gemmPoolMinFlops (pool.h), 4e6 by default: products adding up to fewer
// FLOPs run one after another on the calling thread. A batch of small
// products (a Bayesian network's 20 chains of 100×14·14×50, 2.8 MFLOP) takes
// 0.1-0.3 ms there; handing half of them to a pool thread saves at best half
// of that, and costs milliseconds when that thread is not scheduled at once
// (a loaded 2-core machine: 0.19-0.26 ms on one thread against 8.4-9.6 ms on
// the pool for such a network's five batched products, docs/benchmarks.md).
// Above it: the VAE's products (the smallest group, a 40-wide layer's two
// gradients, is 10 MFLOP), unchanged. Every product is computed whole either
// way: no rounding changes.

// Wall time spent in GEMMs since the addon loaded, their FLOPs and count:
// what `zhusuan bench` compares against a step's time. Updated by the
// calling (JS) thread only.
struct GemmCounters {
  double seconds = 0;
  double flops = 0;
  double calls = 0;
};
GemmCounters gemmCounters;

// Products grouped by shape while tracing is on (traceGemms(true)): calls,
// wall seconds and FLOPs per group of products run together. `zhusuan bench
// --profile` reports this: how fast each of a step's products runs in place,
// between the other kernels, which a loop over one shape does not show.
struct GemmShapeStats {
  double seconds = 0;
  double flops = 0;
  double calls = 0;
};
bool gemmTracing = false;
std::map<std::string, GemmShapeStats> gemmShapes;

// "128x784·784x500" for C = A·B; a transposed operand is written as stored,
// with ^T ("784x128^T·784x500"); products run side by side are joined by
// " | ", and n equal ones (a batch) are written "n × shape".
std::string gemmShapeKey(const Gemm* gs, int64_t count) {
  auto one = [](const Gemm& g) {
    const auto d = [](int64_t r, int64_t c, bool t) {
      return std::to_string(r) + "x" + std::to_string(c) + (t ? "^T" : "");
    };
    return (g.ta ? d(g.K, g.M, true) : d(g.M, g.K, false)) + "\u00b7" +
           (g.tb ? d(g.N, g.K, true) : d(g.K, g.N, false));
  };
  std::string key = one(gs[0]);
  bool same = true;
  for (int64_t i = 1; i < count; ++i) {
    const std::string k = one(gs[i]);
    same = same && k == key;
    if (!same) break;
  }
  if (count > 1 && same) return std::to_string(count) + " \u00d7 " + key;
  for (int64_t i = 1; i < count; ++i) key += " | " + one(gs[i]);
  return key;
}

// Adds products to the totals and, while tracing, to the group `key`.
void addGemmTime(const std::string& key, double flops, double seconds, int64_t calls) {
  gemmCounters.seconds += seconds;
  gemmCounters.flops += flops;
  gemmCounters.calls += static_cast<double>(calls);
  if (gemmTracing) {
    GemmShapeStats& st = gemmShapes[key];
    st.seconds += seconds;
    st.flops += flops;
    st.calls += 1;
  }
}

}  // namespace

void runGemms(const Gemm* gs, int64_t count) {
  const auto t0 = std::chrono::steady_clock::now();
  double flops = 0;
  for (int64_t i = 0; i < count; ++i) flops += gs[i].flops();
  const int threads = gemmOnPool && pool != nullptr ? pool->threads() : 1;
  if (threads == 1 || (count == 1 && flops < kSplitFlops) || flops < gemmPoolMinFlops) {
    for (int64_t i = 0; i < count; ++i) sgemm(gs[i]);
  } else {
    static thread_local std::vector<Gemm> tasks;
    tasks.clear();
    const int parts = count >= threads ? 1 : static_cast<int>((threads + count - 1) / count);
    for (int64_t i = 0; i < count; ++i) {
      const int n = gs[i].flops() >= kSplitFlops ? parts : 1;
      for (int j = 0; j < n; ++j) tasks.push_back(n == 1 ? gs[i] : gemmPart(gs[i], j, n));
    }
    std::stable_sort(tasks.begin(), tasks.end(),
                     [](const Gemm& x, const Gemm& y) { return x.flops() > y.flops(); });
    struct Job {
      const std::vector<Gemm>* tasks;
      std::atomic<size_t> next{0};
    } job{&tasks};
    pool->run(
        [](void* c, int) {
          Job& j = *static_cast<Job*>(c);
          for (size_t t = j.next.fetch_add(1); t < j.tasks->size(); t = j.next.fetch_add(1)) {
            sgemm((*j.tasks)[t]);
          }
        },
        &job);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (count > 0) addGemmTime(gemmTracing ? gemmShapeKey(gs, count) : "", flops, seconds, count);
}

void countGemms(const char* label, const Gemm& whole, int64_t calls, double seconds) {
  addGemmTime(gemmTracing ? std::string(label) + " " + gemmShapeKey(&whole, 1) : "", whole.flops(),
              seconds, calls);
}

namespace {

// A batched product C[i] = op(A[i]) * op(B[i]) for i in [0, max(batchA,
// batchB)); a batch of 1 broadcasts. Row-major; A is [M,K] ([K,M] when
// transposed), B is [K,N] ([N,K]). With index arrays (any broadcast of the
// batch dimensions), product i reads A[aIndex[i]] and B[bIndex[i]] instead,
// for i in [0, batch).
struct Batched {
  const float* a;
  const float* b;
  float* c;
  int64_t batchA, batchB, M, N, K;
  bool ta, tb;
  const int32_t* aIndex = nullptr;
  const int32_t* bIndex = nullptr;
  int64_t indexed = 0;
  int64_t batch() const { return aIndex != nullptr ? indexed : std::max(batchA, batchB); }
};

// The arguments matMul and fusedMatMul start with: (a, b, out, batchA,
// batchB, M, N, K, transA, transB); the batch index arrays (Int32Arrays of
// one length, or both null) are arguments `indexArg` and `indexArg` + 1 when
// present.
Batched batchedArgs(const Napi::CallbackInfo& info, const char* fn, int indexArg) {
  Batched p;
  p.batchA = inum(info, 3);
  p.batchB = inum(info, 4);
  p.M = inum(info, 5);
  p.N = inum(info, 6);
  p.K = inum(info, 7);
  p.ta = flag(info, 8);
  p.tb = flag(info, 9);
  p.a = f32(info, 0, fn, p.batchA * p.M * p.K);
  p.b = f32(info, 1, fn, p.batchB * p.K * p.N);
  if (static_cast<int>(info.Length()) > indexArg + 1 && !info[indexArg].IsNull() &&
      !info[indexArg].IsUndefined()) {
    size_t na, nb;
    p.aIndex = i32(info, indexArg, fn, &na);
    p.bIndex = i32(info, indexArg + 1, fn, &nb);
    if (na != nb) throwRange(info.Env(), fn, "the batch index arrays differ in length");
    p.indexed = static_cast<int64_t>(na);
    for (size_t i = 0; i < na; ++i) {
      if (p.aIndex[i] < 0 || p.aIndex[i] >= p.batchA || p.bIndex[i] < 0 ||
          p.bIndex[i] >= p.batchB) {
        throwRange(info.Env(), fn, "batch index outside the operand");
      }
    }
  }
  p.c = f32(info, 2, fn, p.batch() * p.M * p.N);
  return p;
}

void gemmBatched(const Batched& p) {
  const int64_t M = p.M, N = p.N, K = p.K;
  const int64_t batch = p.batch();
  const int64_t sa = p.batchA == 1 ? 0 : M * K;
  const int64_t sb = p.batchB == 1 ? 0 : K * N;
  // A shared B with untransposed A: one GEMM over the stacked rows.
  if (p.aIndex == nullptr && p.batchB == 1 && !p.ta && batch > 1) {
    const Gemm g = makeGemm(p.a, p.b, p.c, batch * M, N, K, false, p.tb);
    runGemms(&g, 1);
    return;
  }
  static thread_local std::vector<Gemm> gs;
  gs.clear();
  for (int64_t i = 0; i < batch; ++i) {
    const float* a = p.aIndex != nullptr ? p.a + p.aIndex[i] * M * K : p.a + i * sa;
    const float* b = p.bIndex != nullptr ? p.b + p.bIndex[i] * K * N : p.b + i * sb;
    gs.push_back(makeGemm(a, b, p.c + i * M * N, M, N, K, p.ta, p.tb));
  }
  runGemms(gs.data(), batch);
}

}  // namespace

// matmul(a, b, out, batchA, batchB, M, N, K, transA, transB, aIndex?, bIndex?)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  gemmBatched(batchedArgs(info, "matMul", 10));
  return info.Env().Undefined();
}

// fusedMatMul(a, b, out, batchA, batchB, M, N, K, transA, transB, bias|null, act, alpha,
// aIndex?, bIndex?): bias (optional) has N elements and is added to every row.
Napi::Value FusedMatMul(const Napi::CallbackInfo& info) {
  const Batched p = batchedArgs(info, "fusedMatMul", 13);
  const int64_t N = p.N;
  float* c = p.c;
  const float* bias = f32OrNull(info, 10, "fusedMatMul", N);
  const int act = static_cast<int>(inum(info, 11));
  const float alpha = static_cast<float>(num(info, 12));
  gemmBatched(p);
  const int64_t rows = p.batch() * p.M;
  if (bias != nullptr || act != kActLinear) {
    parallelFor(rows * N, parallelMin, [&](int64_t b0, int64_t e0) {
      // Split on whole rows.
      const int64_t r0 = b0 / N, r1 = e0 == rows * N ? rows : e0 / N;
      if (r1 > r0) KT->biasAct(c + r0 * N, bias, r1 - r0, N, act, alpha);
    });
  }
  return info.Env().Undefined();
}

// denseGrad(dy, y, x, w, dx|null, dw|null, db|null, dz|null, M, K, N, act, alpha):
// the gradients of y = act(x·w + b) for x [M,K], w [K,N]. dz = dy ⊙ act'(·)
// (computed through y into the scratch array dz, which may be null only when
// act is linear: then dz is dy), dx = dz·wᵀ [M,K], dw = xᵀ·dz [K,N] and
// db = the column sums of dz [N]; null outputs are skipped, and x (w) may be
// null when dw (dx) is. dx and dw are independent products: they run in
// parallel on the pool.
Napi::Value DenseGrad(const Napi::CallbackInfo& info) {
  const int64_t M = inum(info, 8), K = inum(info, 9), N = inum(info, 10);
  const int act = static_cast<int>(inum(info, 11));
  const float alpha = static_cast<float>(num(info, 12));
  const float* dy = f32(info, 0, "denseGrad", M * N);
  float* dx = f32OrNull(info, 4, "denseGrad", M * K);
  float* dw = f32OrNull(info, 5, "denseGrad", K * N);
  float* db = f32OrNull(info, 6, "denseGrad", N);
  const float* dz = dy;
  if (act != kActLinear) {
    float* scratch = f32(info, 7, "denseGrad", M * N);
    const float* y = f32(info, 1, "denseGrad", M * N);
    parallelFor(M * N, parallelMin,
                [&](int64_t b0, int64_t e0) { KT->actGrad(act, dy, y, scratch, b0, e0, alpha); });
    dz = scratch;
  }
  Gemm gs[2];
  int n = 0;
  if (dx != nullptr)
    gs[n++] = makeGemm(dz, f32(info, 3, "denseGrad", K * N), dx, M, K, N, false, true);
  if (dw != nullptr)
    gs[n++] = makeGemm(f32(info, 2, "denseGrad", M * K), dz, dw, K, N, M, true, false);
  if (n > 0) runGemms(gs, n);
  if (db != nullptr) KT->colSum(dz, db, M, N);
  return info.Env().Undefined();
}

// traceGemms(on): starts (clearing what was kept) or stops grouping the
// products by shape; gemmShapes() returns the groups.
Napi::Value TraceGemms(const Napi::CallbackInfo& info) {
  const bool on = flag(info, 0);
  if (on) gemmShapes.clear();
  gemmTracing = on;
  return info.Env().Undefined();
}

// gemmShapes(): the groups recorded since tracing started.
Napi::Value GemmShapes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, gemmShapes.size());
  uint32_t i = 0;
  for (const auto& [key, st] : gemmShapes) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("products", key);
    o.Set("calls", st.calls);
    o.Set("seconds", st.seconds);
    o.Set("flops", st.flops);
    out.Set(i++, o);
  }
  return out;
}

void setGemmInfo(Napi::Object o) {
  o.Set("gemmThreads", gemmOnPool && pool != nullptr ? pool->threads() : 1);
  o.Set("gemmSeconds", gemmCounters.seconds);
  o.Set("gemmFlops", gemmCounters.flops);
  o.Set("gemmCalls", gemmCounters.calls);
}

}  // namespace zsn
