// Node-API entry points of the native tfjs backend. Every function takes
// float32 typed arrays owned by JS (the cpu backend's tensor storage) and
// writes into an output array JS allocated; nothing here keeps a pointer past
// the call. Argument checks are cheap (array type and length) and throw a
// TypeError/RangeError naming the function and the argument: a wrong array
// type would otherwise mean reading past a buffer.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "kernels.h"

extern "C" {
// OpenBLAS extensions (declared in openblas' cblas.h, repeated here so that a
// reference-BLAS cblas.h still compiles; the names are only used if present).
char* openblas_get_config(void) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
}

namespace {

using zsn::BroadcastPlan;
using zsn::kMaxRank;

const zsn::KernelTable* KT = nullptr;
const char* kIsa = "base";

// ---- a small thread pool -----------------------------------------------------
//
// Runs one job at a time on every thread (the caller is participant 0). Used
// for the GEMMs (OpenBLAS itself runs single-threaded, see gemm below), the
// Adam update and, when enabled, element-wise kernels. Workers spin briefly
// after a job (kernels come every few microseconds during a training step)
// and then sleep on a futex (std::atomic::wait).

// Microseconds a worker spins after a job before sleeping on a futex. A
// training step calls the pool every 0.1-1 ms (GEMMs, Adam); waking a sleeping
// worker costs tens to hundreds of microseconds on a virtual machine, and the
// caller waits for it. OpenBLAS is single-threaded here, so the spinning
// worker competes with nobody for its core.
double spinMicros = 1000;

class Pool {
 public:
  explicit Pool(int threads) : threads_(std::max(1, threads)) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    stop_.store(true);
    gen_.fetch_add(1);
    gen_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  // Runs fn(ctx, participant) on every thread, participant in [0, threads).
  void run(void (*fn)(void*, int), void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    gen_.fetch_add(1, std::memory_order_release);
    gen_.notify_all();
    fn(ctx, 0);
    // Wait for the workers: spin briefly, then sleep. Never spin for long: a
    // worker woken onto this core would wait for the spinning thread's time
    // slice (measured: steps of 16 ms instead of 6 on 2 cores).
    int spins = 0;
    for (int left = pending_.load(std::memory_order_acquire); left != 0;
         left = pending_.load(std::memory_order_acquire)) {
      if (++spins < 2000) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      } else {
        pending_.wait(left, std::memory_order_acquire);
      }
    }
  }

  // Runs fn(ctx, begin, end) over [0, n) in `threads` chunks aligned to 16.
  void runRange(int64_t n, void (*fn)(void*, int64_t, int64_t), void* ctx) {
    int64_t chunk = (n + threads_ - 1) / threads_;
    chunk = (chunk + 15) & ~int64_t(15);
    struct Job {
      void (*fn)(void*, int64_t, int64_t);
      void* ctx;
      int64_t n, chunk;
    } job{fn, ctx, n, chunk};
    run(
        [](void* c, int i) {
          const Job& j = *static_cast<Job*>(c);
          const int64_t b = std::min(j.n, i * j.chunk);
          const int64_t e = std::min(j.n, b + j.chunk);
          if (b < e) j.fn(j.ctx, b, e);
        },
        &job);
  }

 private:
  void loop(int index) {
    uint64_t seen = 0;  // the generation at construction (a late start must not skip a job)
    for (;;) {
      uint64_t g = gen_.load(std::memory_order_acquire);
      const auto t0 = std::chrono::steady_clock::now();
      for (int spins = 1; g == seen; ++spins) {
        if ((spins & 63) != 0 ||
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() <
                spinMicros) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#endif
        } else {
          gen_.wait(seen);
        }
        g = gen_.load(std::memory_order_acquire);
      }
      seen = g;
      if (stop_.load()) return;
      fn_(ctx_, index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
};

Pool* pool = nullptr;
int64_t parallelMin = 1 << 15;  // elements below which one thread is faster

// Element-wise kernels use the pool only when enabled (ZHUSUAN_NATIVE_THREADS);
// the Adam update (compute-bound: two divisions and a square root an element)
// and the GEMMs use it by default.
bool elementwiseParallel = false;
bool adamParallel = true;
// True when the pool runs the GEMMs (OpenBLAS set to one thread); false when
// OpenBLAS threads them itself (ZHUSUAN_NATIVE_BLAS_THREADS).
bool gemmOnPool = true;

template <class F>
void parallelFor(int64_t n, int64_t minParallel, F&& f, bool enabled = elementwiseParallel) {
  if (!enabled || pool == nullptr || pool->threads() < 2 || n < minParallel) {
    f(0, n);
    return;
  }
  pool->runRange(
      n, [](void* c, int64_t b, int64_t e) { (*static_cast<F*>(c))(b, e); },
      static_cast<void*>(&f));
}

// Flushes denormal results to zero (the SSE control word's FTZ bit) on this
// thread for its lifetime, restoring the previous mode after: a
// transcendental kernel whose intermediates underflow (softplus of a trained
// decoder's logits beyond |x| ~ 43) ran 3-4x slower on denormal arithmetic.
// Only results below 1.2e-38 change, to 0, as under TensorFlow's CPU kernels,
// which flush too. Denormal inputs still read as themselves (DAZ stays off:
// log, sqrt and step of a tiny negative or positive number stay right), and
// the mode never leaks into JavaScript, whose numbers need denormals.
class FlushDenormals {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8000u); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#endif
};

// ---- argument helpers ------------------------------------------------------

struct View {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_int8_array;
};

[[noreturn]] void throwType(Napi::Env env, const char* fn, int arg, const char* what) {
  std::string msg = std::string("native.") + fn + ": argument " + std::to_string(arg) + " must be " + what;
  throw Napi::TypeError::New(env, msg);
}

View typed(const Napi::CallbackInfo& info, int i, const char* fn) {
  View v;
  napi_value val = info[i];
  bool is = false;
  napi_is_typedarray(info.Env(), val, &is);
  if (!is) throwType(info.Env(), fn, i, "a typed array");
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(info.Env(), val, &v.type, &v.length, &v.data, &ab, &off);
  return v;
}

float* f32(const Napi::CallbackInfo& info, int i, const char* fn, size_t minLength) {
  View v = typed(info, i, fn);
  if (v.type != napi_float32_array) throwType(info.Env(), fn, i, "a Float32Array");
  if (v.length < minLength) {
    throw Napi::RangeError::New(info.Env(), std::string("native.") + fn + ": argument " +
                                                std::to_string(i) + " has " + std::to_string(v.length) +
                                                " elements, needs " + std::to_string(minLength));
  }
  return static_cast<float*>(v.data);
}

const int32_t* i32(const Napi::CallbackInfo& info, int i, const char* fn, size_t* length) {
  View v = typed(info, i, fn);
  if (v.type != napi_int32_array) throwType(info.Env(), fn, i, "an Int32Array");
  *length = v.length;
  return static_cast<const int32_t*>(v.data);
}

inline double num(const Napi::CallbackInfo& info, int i) {
  double d = 0;
  napi_get_value_double(info.Env(), info[i], &d);
  return d;
}
inline int64_t inum(const Napi::CallbackInfo& info, int i) {
  return static_cast<int64_t>(num(info, i));
}
inline bool flag(const Napi::CallbackInfo& info, int i) {
  bool b = false;
  napi_get_value_bool(info.Env(), info[i], &b);
  return b;
}

// ---- GEMM ------------------------------------------------------------------
//
// OpenBLAS runs single-threaded and the pool parallelises across products and
// blocks of products: on 2 cores OpenBLAS' own threading reached 120-140
// GFLOP/s on a training step's shapes (128-row products, K = 128 weight
// gradients) and was slower than one thread for the small ones, while two
// independent single-threaded products (a layer's input and weight gradients)
// or the two halves of one run at ~90 GFLOP/s each (docs/benchmarks.md).

// One row-major product C = op(A)·op(B) (alpha 1, beta 0).
struct Gemm {
  bool ta, tb;
  int64_t M, N, K;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  double flops() const { return 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K); }
};

Gemm makeGemm(const float* a, const float* b, float* c, int64_t M, int64_t N, int64_t K, bool ta, bool tb) {
  return Gemm{ta, tb, M, N, K, a, ta ? M : K, b, tb ? K : N, c, N};
}

void sgemm(const Gemm& g) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) {
    for (int64_t i = 0; i < g.M; ++i) std::fill(g.c + i * g.ldc, g.c + i * g.ldc + g.N, 0.0f);
    return;
  }
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, g.M, g.N,
              g.K, 1.0f, g.a, g.lda, g.b, g.ldb, 0.0f, g.c, g.ldc);
}

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

// Runs `count` independent products, in parallel on the pool when it has
// more than one thread: whole products when there are at least as many as
// threads, else each large one split into blocks. Threads take the next
// block as they finish (largest first).
void runGemms(const Gemm* gs, int64_t count) {
  const auto t0 = std::chrono::steady_clock::now();
  double flops = 0;
  for (int64_t i = 0; i < count; ++i) flops += gs[i].flops();
  const int threads = gemmOnPool && pool != nullptr ? pool->threads() : 1;
  if (threads == 1 || (count == 1 && flops < kSplitFlops)) {
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
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  gemmCounters.seconds += seconds;
  gemmCounters.flops += flops;
  gemmCounters.calls += static_cast<double>(count);
  if (gemmTracing && count > 0) {
    GemmShapeStats& st = gemmShapes[gemmShapeKey(gs, count)];
    st.seconds += seconds;
    st.flops += flops;
    st.calls += 1;
  }
}

// C[b] = op(A[b]) * op(B[b]) for b in [0, max(batchA, batchB)); a batch of 1
// broadcasts. Row-major; A is [M,K] ([K,M] when transposed), B is [K,N] ([N,K]).
void gemmBatched(const float* a, const float* b, float* c, int64_t batchA, int64_t batchB,
                 int64_t M, int64_t N, int64_t K, bool ta, bool tb) {
  const int64_t batch = std::max(batchA, batchB);
  const int64_t sa = batchA == 1 ? 0 : M * K;
  const int64_t sb = batchB == 1 ? 0 : K * N;
  // A shared B with untransposed A: one GEMM over the stacked rows.
  if (batchB == 1 && !ta && batch > 1) {
    const Gemm g = makeGemm(a, b, c, batch * M, N, K, false, tb);
    runGemms(&g, 1);
    return;
  }
  static thread_local std::vector<Gemm> gs;
  gs.clear();
  for (int64_t i = 0; i < batch; ++i) gs.push_back(makeGemm(a + i * sa, b + i * sb, c + i * M * N, M, N, K, ta, tb));
  runGemms(gs.data(), batch);
}

// matmul(a, b, out, batchA, batchB, M, N, K, transA, transB)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  const int64_t batchA = inum(info, 3), batchB = inum(info, 4);
  const int64_t M = inum(info, 5), N = inum(info, 6), K = inum(info, 7);
  const bool ta = flag(info, 8), tb = flag(info, 9);
  const float* a = f32(info, 0, "matMul", batchA * M * K);
  const float* b = f32(info, 1, "matMul", batchB * K * N);
  float* c = f32(info, 2, "matMul", std::max(batchA, batchB) * M * N);
  gemmBatched(a, b, c, batchA, batchB, M, N, K, ta, tb);
  return info.Env().Undefined();
}

// fusedMatMul(a, b, out, batchA, batchB, M, N, K, transA, transB, bias|null, act, alpha)
// bias (optional) has N elements and is added to every row.
Napi::Value FusedMatMul(const Napi::CallbackInfo& info) {
  const int64_t batchA = inum(info, 3), batchB = inum(info, 4);
  const int64_t M = inum(info, 5), N = inum(info, 6), K = inum(info, 7);
  const bool ta = flag(info, 8), tb = flag(info, 9);
  const float* a = f32(info, 0, "fusedMatMul", batchA * M * K);
  const float* b = f32(info, 1, "fusedMatMul", batchB * K * N);
  const int64_t batch = std::max(batchA, batchB);
  float* c = f32(info, 2, "fusedMatMul", batch * M * N);
  const float* bias = info[10].IsNull() || info[10].IsUndefined() ? nullptr : f32(info, 10, "fusedMatMul", N);
  const int act = static_cast<int>(inum(info, 11));
  const float alpha = static_cast<float>(num(info, 12));
  gemmBatched(a, b, c, batchA, batchB, M, N, K, ta, tb);
  const int64_t rows = batch * M;
  if (bias != nullptr || act != 0) {
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
  auto opt = [&](int i, int64_t len) -> float* {
    return info[i].IsNull() || info[i].IsUndefined() ? nullptr : f32(info, i, "denseGrad", len);
  };
  const float* dy = f32(info, 0, "denseGrad", M * N);
  float* dx = opt(4, M * K);
  float* dw = opt(5, K * N);
  float* db = opt(6, N);
  const float* dz = dy;
  if (act != 0) {
    float* scratch = f32(info, 7, "denseGrad", M * N);
    const float* y = f32(info, 1, "denseGrad", M * N);
    parallelFor(M * N, parallelMin,
                [&](int64_t b0, int64_t e0) { KT->actGrad(act, dy, y, scratch, b0, e0, alpha); });
    dz = scratch;
  }
  Gemm gs[2];
  int n = 0;
  if (dx != nullptr) gs[n++] = makeGemm(dz, f32(info, 3, "denseGrad", K * N), dx, M, K, N, false, true);
  if (dw != nullptr) gs[n++] = makeGemm(f32(info, 2, "denseGrad", M * K), dz, dw, K, N, M, true, false);
  if (n > 0) runGemms(gs, n);
  if (db != nullptr) KT->colSum(dz, db, M, N);
  return info.Env().Undefined();
}

// ---- broadcasting binary ops ------------------------------------------------

bool makePlan(const int32_t* as, int ar, const int32_t* bs, int br, BroadcastPlan* p) {
  return zsn::makeBroadcastPlan(as, ar, bs, br, p);
}

// binary(op, a, aShape, b, bShape, out): out has the broadcast shape; for a
// comparison op out is a Uint8Array.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  size_t ar, br;
  const int32_t* as = i32(info, 2, "binary", &ar);
  const int32_t* bs = i32(info, 4, "binary", &br);
  BroadcastPlan p;
  if (!makePlan(as, static_cast<int>(ar), bs, static_cast<int>(br), &p)) {
    throw Napi::RangeError::New(info.Env(), "native.binary: shapes do not broadcast (or rank > 8)");
  }
  int64_t na = 1, nb = 1;
  for (size_t i = 0; i < ar; ++i) na *= as[i];
  for (size_t i = 0; i < br; ++i) nb *= bs[i];
  const float* a = f32(info, 1, "binary", na);
  const float* b = f32(info, 3, "binary", nb);
  if (op >= 20) {
    View o = typed(info, 5, "binary");
    if (o.type != napi_uint8_array || static_cast<int64_t>(o.length) < p.size) {
      throwType(info.Env(), "binary", 5, "a Uint8Array of the output size");
    }
    uint8_t* out = static_cast<uint8_t*>(o.data);
    parallelFor(p.size, parallelMin,
                [&](int64_t b0, int64_t e0) { KT->compare(op, a, b, out, p, b0, e0); });
  } else {
    float* out = f32(info, 5, "binary", p.size);
    const bool heavy = op == zsn::kPow || op == zsn::kAtan2 || op == zsn::kBernoulliLogProb;
    const int64_t minPar = heavy ? 4096 : parallelMin;
    parallelFor(p.size, minPar, [&](int64_t b0, int64_t e0) {
      FlushDenormals ftz;
      KT->binary(op, a, b, out, p, b0, e0);
    });
  }
  return info.Env().Undefined();
}

// unary(op, x, out, alpha, beta): out[i] = f(x[i]) for every element of out.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  View o = typed(info, 2, "unary");
  if (o.type != napi_float32_array) throwType(info.Env(), "unary", 2, "a Float32Array");
  const int64_t n = static_cast<int64_t>(o.length);
  const float* x = f32(info, 1, "unary", n);
  float* out = static_cast<float*>(o.data);
  const float alpha = static_cast<float>(num(info, 3));
  const float beta = static_cast<float>(num(info, 4));
  // Transcendentals are compute-bound: worth a second thread much earlier.
  const bool heavy = op == zsn::kExp || op == zsn::kLog || op == zsn::kLog1p ||
                     op == zsn::kSigmoid || op == zsn::kSoftplus || op >= zsn::kTanh;
  parallelFor(n, heavy ? 8192 : parallelMin, [&](int64_t b0, int64_t e0) {
    FlushDenormals ftz;
    KT->unary(op, x, out, b0, e0, alpha, beta);
  });
  return info.Env().Undefined();
}

// reduce(op, x, out, shape, axesMask): axesMask is an Int32Array with 1 for
// each reduced axis.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(inum(info, 0));
  size_t rank, mrank;
  const int32_t* shape = i32(info, 3, "reduce", &rank);
  const int32_t* mask = i32(info, 4, "reduce", &mrank);
  if (rank != mrank || rank > static_cast<size_t>(kMaxRank)) {
    throw Napi::RangeError::New(info.Env(), "native.reduce: shape and axis mask differ or rank > 8");
  }
  int64_t dims[kMaxRank];
  uint8_t red[kMaxRank];
  int64_t total = 1, outSize = 1;
  for (size_t i = 0; i < rank; ++i) {
    dims[i] = shape[i];
    red[i] = mask[i] != 0;
    total *= dims[i];
    if (!red[i]) outSize *= dims[i];
  }
  const float* x = f32(info, 1, "reduce", total);
  float* out = f32(info, 2, "reduce", outSize);
  static thread_local std::vector<double> scratch;
  if (scratch.size() < static_cast<size_t>(outSize)) scratch.resize(outSize);
  KT->reduce(op, x, out, dims, red, static_cast<int>(rank), scratch.data());
  return info.Env().Undefined();
}

// adam(p, m, v, g, b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, eps, -lr): in place on p, m, v.
Napi::Value Adam(const Napi::CallbackInfo& info) {
  View pv = typed(info, 0, "adam");
  if (pv.type != napi_float32_array) throwType(info.Env(), "adam", 0, "a Float32Array");
  const int64_t n = static_cast<int64_t>(pv.length);
  float* p = static_cast<float*>(pv.data);
  float* m = f32(info, 1, "adam", n);
  float* v = f32(info, 2, "adam", n);
  const float* g = f32(info, 3, "adam", n);
  const float b1 = static_cast<float>(num(info, 4)), omb1 = static_cast<float>(num(info, 5));
  const float b2 = static_cast<float>(num(info, 6)), omb2 = static_cast<float>(num(info, 7));
  const float bc1 = static_cast<float>(num(info, 8)), bc2 = static_cast<float>(num(info, 9));
  const float eps = static_cast<float>(num(info, 10)), negLr = static_cast<float>(num(info, 11));
  parallelFor(
      n, parallelMin,
      [&](int64_t b0, int64_t e0) { KT->adam(p, m, v, g, b0, e0, b1, omb1, b2, omb2, bc1, bc2, eps, negLr); },
      adamParallel);
  return info.Env().Undefined();
}

// slice(x, out, meta): meta = [rank, dims[rank], begin[rank], size[rank]];
// element size 4 bytes (float32/int32), or `elemBytes` when given as arg 3.
Napi::Value Slice(const Napi::CallbackInfo& info) {
  size_t mlen;
  const int32_t* meta = i32(info, 2, "slice", &mlen);
  const int rank = meta[0];
  if (rank < 1 || rank > kMaxRank || mlen < static_cast<size_t>(1 + 3 * rank)) {
    throw Napi::RangeError::New(info.Env(), "native.slice: bad meta");
  }
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
      throw Napi::RangeError::New(info.Env(), "native.slice: window outside the input");
    }
  }
  const size_t xb = xv.length * (xv.type == napi_uint8_array ? 1 : 4);
  const size_t ob = ov.length * (ov.type == napi_uint8_array ? 1 : 4);
  if (xb < static_cast<size_t>(total * es) || ob < static_cast<size_t>(outTotal * es)) {
    throw Napi::RangeError::New(info.Env(), "native.slice: arrays too small");
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
// float32 row copies (concat, pad, slices of matrices).
Napi::Value Copy2d(const Napi::CallbackInfo& info) {
  const int64_t so = inum(info, 1), ss = inum(info, 2), dof = inum(info, 4), ds = inum(info, 5);
  const int64_t rows = inum(info, 6), cols = inum(info, 7);
  if (rows == 0 || cols == 0) return info.Env().Undefined();
  const float* s = f32(info, 0, "copy2d", so + (rows - 1) * ss + cols);
  float* d = f32(info, 3, "copy2d", dof + (rows - 1) * ds + cols);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(d + dof + r * ds, s + so + r * ss, cols * sizeof(float));
  return info.Env().Undefined();
}

// transpose(x, out, meta): meta = [rank, dims[rank], perm[rank]]; 4-byte elements.
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  size_t mlen;
  const int32_t* meta = i32(info, 2, "transpose", &mlen);
  const int rank = meta[0];
  if (rank < 1 || rank > kMaxRank || mlen < static_cast<size_t>(1 + 2 * rank)) {
    throw Napi::RangeError::New(info.Env(), "native.transpose: bad meta");
  }
  const int32_t* dims = meta + 1;
  const int32_t* perm = meta + 1 + rank;
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= dims[d];
  View xv = typed(info, 0, "transpose");
  View ov = typed(info, 1, "transpose");
  if (xv.type == napi_uint8_array || ov.type == napi_uint8_array || xv.length < static_cast<size_t>(total) ||
      ov.length < static_cast<size_t>(total)) {
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

// ---- log-densities: Normal from logstd, Bernoulli from logits ---------------
//
// Operands broadcast periodically: output element i reads element i % length
// of each operand. The caller (src/kernels/logprob.ts) guarantees that every
// length divides the output's and the shortest non-scalar one divides the
// others: trailing-dimension broadcasting, as of a [k, n, d] sample against
// [n, d] parameters. The output is walked in blocks of that shortest length,
// so every operand is contiguous within a block; scalars are expanded into
// one block up front.
//
// Grouped forms sum the element values over rows of `inner` consecutive
// elements (a distribution's last group axes) without writing them out; their
// gradients read one dy per row. Both `inner` and the block length are
// products of trailing dimensions of the same shape, so one divides the
// other and a row is walked in segments that never leave a block.

struct Periodic {
  std::vector<const float*> base;
  std::vector<int64_t> length;
  std::vector<std::vector<float>> expanded;
  int64_t n = 0;
  int64_t block = 1;
  int64_t blocks = 0;

  Periodic(const Napi::CallbackInfo& info, const char* fn, std::initializer_list<int> args,
           int64_t size)
      : n(size) {
    block = n;
    for (int i : args) {
      View v = typed(info, i, fn);
      if (v.type != napi_float32_array) throwType(info.Env(), fn, i, "a Float32Array");
      base.push_back(static_cast<const float*>(v.data));
      length.push_back(static_cast<int64_t>(v.length));
      if (v.length > 1) block = std::min<int64_t>(block, static_cast<int64_t>(v.length));
    }
    if (n == 0) return;  // nothing to compute (and no block length to divide by)
    for (size_t j = 0; j < length.size(); ++j) {
      const int64_t len = length[j];
      const bool ok = len == 1 || (len > 0 && n % len == 0 && len % block == 0);
      if (!ok) {
        throw Napi::RangeError::New(info.Env(), std::string("native.") + fn +
                                                    ": operand lengths do not broadcast periodically");
      }
      expanded.emplace_back();
      if (len == 1) expanded.back().assign(static_cast<size_t>(block), base[j][0]);
    }
    blocks = n / block;
  }
  // Operand j's values for the segment starting at output element pos.
  const float* at(size_t j, int64_t pos) const {
    return length[j] == 1 ? expanded[j].data() : base[j] + pos % length[j];
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
      throw Napi::RangeError::New(info.Env(), std::string("native.") + fn +
                                                  ": the group length does not fit the operands");
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
  if (inner < 1) throw Napi::RangeError::New(info.Env(), std::string("native.") + fn + ": inner < 1");
  return inner;
}

// Writes the element values f(pos, len, dst) computes into out, or with
// inner > 1 their sums over rows of `inner` elements (out[r] for row r).
template <class F>
void writeValues(const Napi::CallbackInfo& info, const char* fn, const Periodic& ops,
                 int64_t inner, float* out, F&& f) {
  if (inner == 1) {
    ops.forBlocks([&](int64_t pos, int64_t len) { f(pos, len, out + pos); });
    return;
  }
  // One scratch row per thread: the values are summed from it in the Sum
  // kernel's order, so a grouped log-density equals the ungrouped one summed.
  thread_local std::vector<float> row;
  ops.forRows(info, fn, inner, [&](int64_t r, int64_t pos, int64_t len) {
    if (static_cast<int64_t>(row.size()) < inner) row.resize(static_cast<size_t>(inner));
    const int64_t off = pos - r * inner;
    f(pos, len, row.data() + off);
    if (off + len == inner) out[r] = static_cast<float>(KT->sum(row.data(), inner));
  });
}

// Calls f(pos, len, dy) for every segment of the output, dy pointing at the
// segment's upstream gradients: dy itself when inner is 1, else the row's one
// value repeated.
template <class F>
void withRowGrads(const Napi::CallbackInfo& info, const char* fn, const Periodic& ops,
                  int64_t inner, const float* dy, F&& f) {
  if (inner == 1) {
    ops.forBlocks([&](int64_t pos, int64_t len) { f(pos, len, dy + pos); });
    return;
  }
  thread_local std::vector<float> rep;
  ops.forRows(info, fn, inner, [&](int64_t r, int64_t pos, int64_t len) {
    if (static_cast<int64_t>(rep.size()) < len) rep.resize(static_cast<size_t>(len));
    std::fill(rep.begin(), rep.begin() + len, dy[r]);
    f(pos, len, rep.data());
  });
}

// normalLogProb(x, mean, logstd, out, inner): the element values
// -0.5 ((x - mean) e^-logstd)^2 - log(2 pi)/2 - logstd, broadcasting
// periodically; summed over rows of `inner` elements when inner > 1 (out then
// holds one value per row).
Napi::Value NormalLogProb(const Napi::CallbackInfo& info) {
  const char* fn = "normalLogProb";
  View o = typed(info, 3, fn);
  if (o.type != napi_float32_array) throwType(info.Env(), fn, 3, "a Float32Array");
  float* out = static_cast<float*>(o.data);
  const int64_t inner = innerArg(info, 4, fn);
  const Periodic ops(info, fn, {0, 1, 2}, static_cast<int64_t>(o.length) * inner);
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
  const int64_t n = static_cast<int64_t>(typed(info, 4, fn).length);
  const int64_t inner = innerArg(info, 6, fn);
  if (n % inner != 0) throw Napi::RangeError::New(info.Env(), "native.normalLogProbGrad: bad inner");
  const float* dy = f32(info, 3, fn, n / inner);
  float* gx = f32(info, 4, fn, n);
  float* gs = f32(info, 5, fn, n);
  const Periodic ops(info, fn, {0, 1, 2}, n);
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
  View o = typed(info, 2, fn);
  if (o.type != napi_float32_array) throwType(info.Env(), fn, 2, "a Float32Array");
  float* out = static_cast<float*>(o.data);
  const int64_t inner = innerArg(info, 3, fn);
  const Periodic ops(info, fn, {0, 1}, static_cast<int64_t>(o.length) * inner);
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
  const int64_t n = static_cast<int64_t>(typed(info, 3, fn).length);
  const int64_t inner = innerArg(info, 4, fn);
  if (n % inner != 0) throw Napi::RangeError::New(info.Env(), "native.bernoulliLogProbGrad: bad inner");
  const float* dy = f32(info, 2, fn, n / inner);
  float* out = f32(info, 3, fn, n);
  const Periodic ops(info, fn, {0, 1}, n);
  const auto grads = [&](int64_t pos, int64_t len, const float* d) {
    KT->bernoulliLogProbGrad(ops.at(0, pos), ops.at(1, pos), d, out + pos, len);
  };
  withRowGrads(info, fn, ops, inner, dy, grads);
  return info.Env().Undefined();
}

// normalSample(mean, logstd, noise, z): the reparameterised sample from the
// standard normals in noise (periodic operands): noise becomes eps·e^logstd
// and z = noise + mean.
Napi::Value NormalSample(const Napi::CallbackInfo& info) {
  const char* fn = "normalSample";
  View nv = typed(info, 2, fn);
  if (nv.type != napi_float32_array) throwType(info.Env(), fn, 2, "a Float32Array");
  const int64_t n = static_cast<int64_t>(nv.length);
  float* noise = static_cast<float*>(nv.data);
  float* z = f32(info, 3, fn, n);
  const Periodic ops(info, fn, {0, 1}, n);
  ops.forBlocks([&](int64_t pos, int64_t len) {
    KT->normalSample(ops.at(0, pos), ops.at(1, pos), noise + pos, z + pos, len);
  });
  return info.Env().Undefined();
}

// ---- seeded random numbers --------------------------------------------------
//
// tf.randomNormal and tf.randomUniform with a seed draw from seedrandom's Alea
// generator, seeded from the seed's string through Baagoe's Mash; normals come
// in pairs from the Marsaglia polar method of tfjs' MPRandGauss. The same
// double arithmetic in the same order (-ffp-contract=off: no fused
// multiply-adds) gives the same stream, so a seeded draw on `native` equals
// the cpu backend's.

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

class Alea {
 public:
  explicit Alea(const std::string& seed) {
    Mash mash;
    s0_ = mash(" ");
    s1_ = mash(" ");
    s2_ = mash(" ");
    s0_ -= mash(seed);
    if (s0_ < 0) s0_ += 1;
    s1_ -= mash(seed);
    if (s1_ < 0) s1_ += 1;
    s2_ -= mash(seed);
    if (s2_ < 0) s2_ += 1;
  }
  // A double in [0, 1).
  double next() {
    const double t = 2091639.0 * s0_ + c_ * 2.3283064365386963e-10;
    s0_ = s1_;
    s1_ = s2_;
    c_ = static_cast<double>(static_cast<int32_t>(t));  // t | 0; 0 <= t < 2^31
    s2_ = t - c_;
    return s2_;
  }

 private:
  double s0_ = 0, s1_ = 0, s2_ = 0, c_ = 1;
};

std::string str(const Napi::CallbackInfo& info, int i, const char* fn) {
  if (!info[i].IsString()) throwType(info.Env(), fn, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// randomNormal(out, seed, mean, stdDev): tf.randomNormal(shape, mean, stdDev,
// 'float32', seed) into out, seed given as the string tfjs would make of it.
// The stream is sequential: the polar method's uniform pairs and rejections
// are drawn on this thread, the logarithms and square roots (most of the
// cost) of the accepted pairs are spread over the pool.
Napi::Value RandomNormal(const Napi::CallbackInfo& info) {
  View o = typed(info, 0, "randomNormal");
  if (o.type != napi_float32_array) throwType(info.Env(), "randomNormal", 0, "a Float32Array");
  float* out = static_cast<float*>(o.data);
  const int64_t n = static_cast<int64_t>(o.length);
  Alea rng(str(info, 1, "randomNormal"));
  const double mean = num(info, 2), sd = num(info, 3);
  const int64_t pairs = (n + 1) / 2;
  // The accepted (v1, v2) pairs, in a scratch array kept between calls (a
  // fresh one per call would page-fault on every large draw).
  static std::vector<double> acc;
  if (acc.size() < static_cast<size_t>(pairs) * 2) acc.resize(static_cast<size_t>(pairs) * 2);
  for (int64_t p = 0; p < pairs; ++p) {
    double v1, v2, s;
    do {
      v1 = 2 * rng.next() - 1;
      v2 = 2 * rng.next() - 1;
      s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s == 0);
    acc[2 * p] = v1;
    acc[2 * p + 1] = v2;
  }
  const double* a = acc.data();
  auto finish = [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const double v1 = a[2 * p], v2 = a[2 * p + 1];
      const double s = v1 * v1 + v2 * v2;
      const double mul = std::sqrt(-2.0 * std::log(s) / s);
      out[2 * p] = static_cast<float>(mean + sd * v1 * mul);
      if (2 * p + 1 < n) out[2 * p + 1] = static_cast<float>(mean + sd * v2 * mul);
    }
  };
  parallelFor(pairs, parallelMin / 4, std::move(finish));
  return info.Env().Undefined();
}

// randomUniform(out, seed, min, max): tf.randomUniform(shape, min, max,
// 'float32', seed) into out.
Napi::Value RandomUniform(const Napi::CallbackInfo& info) {
  View o = typed(info, 0, "randomUniform");
  if (o.type != napi_float32_array) throwType(info.Env(), "randomUniform", 0, "a Float32Array");
  float* out = static_cast<float*>(o.data);
  Alea rng(str(info, 1, "randomUniform"));
  const double lo = num(info, 2), range = num(info, 3) - lo;
  for (size_t i = 0; i < o.length; ++i) out[i] = static_cast<float>(lo + range * rng.next());
  return info.Env().Undefined();
}

// fill(out, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  View o = typed(info, 0, "fill");
  if (o.type != napi_float32_array) throwType(info.Env(), "fill", 0, "a Float32Array");
  const float v = static_cast<float>(num(info, 1));
  float* out = static_cast<float*>(o.data);
  std::fill(out, out + o.length, v);
  return info.Env().Undefined();
}

int poolThreads() {
  return std::max(1, std::min(static_cast<int>(std::thread::hardware_concurrency()), 64));
}

// setThreads(elementwise, adam?): threads for element-wise kernels and for
// the Adam update (1 or the pool's size); returns the element-wise count.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = std::max(1, std::min(static_cast<int>(inum(info, 0)), 64));
  const int adam = info.Length() > 1 ? static_cast<int>(inum(info, 1)) : (adamParallel ? 2 : 1);
  const int want = std::max({n, adam, gemmOnPool ? poolThreads() : 1});
  if (want > 1 && (pool == nullptr || pool->threads() != want)) {
    delete pool;
    pool = new Pool(want);
  }
  elementwiseParallel = n > 1;
  adamParallel = adam > 1;
  return Napi::Number::New(info.Env(), elementwiseParallel && pool != nullptr ? pool->threads() : 1);
}

Napi::Value SetParallelMin(const Napi::CallbackInfo& info) {
  parallelMin = std::max<int64_t>(1, inum(info, 0));
  if (info.Length() > 1) spinMicros = std::max(0.0, num(info, 1));
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

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", kIsa);
  o.Set("threads", elementwiseParallel && pool != nullptr ? pool->threads() : 1);
  o.Set("adamThreads", adamParallel && pool != nullptr ? pool->threads() : 1);
  o.Set("parallelMin", static_cast<double>(parallelMin));
  o.Set("blasConfig", openblas_get_config != nullptr ? openblas_get_config() : "unknown BLAS");
  o.Set("blasThreads", openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 1);
  o.Set("gemmThreads", gemmOnPool && pool != nullptr ? pool->threads() : 1);
  o.Set("gemmSeconds", gemmCounters.seconds);
  o.Set("gemmFlops", gemmCounters.flops);
  o.Set("gemmCalls", gemmCounters.calls);
  return o;
}

void Cleanup(void*) {
  delete pool;
  pool = nullptr;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KT = zsn_base::table();
  kIsa = "base";
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      std::getenv("ZHUSUAN_NATIVE_NO_AVX2") == nullptr) {
    KT = zsn_avx2::table();
    kIsa = "avx2";
  }
#endif
  // Element-wise kernels over >= parallelMin elements use every core by
  // default: with the GEMMs on the pool (no OpenBLAS worker spinning beside
  // it) this is 10 % faster for IS evaluation and neutral for a training
  // step on 2 cores (docs/benchmarks.md). ZHUSUAN_NATIVE_THREADS=1 opts out.
  int threads = poolThreads();
  if (const char* t = std::getenv("ZHUSUAN_NATIVE_THREADS")) threads = std::atoi(t);
  threads = std::max(1, std::min(threads, 64));
  elementwiseParallel = threads > 1;
  if (std::getenv("ZHUSUAN_NATIVE_ADAM_THREADS") != nullptr) {
    adamParallel = std::atoi(std::getenv("ZHUSUAN_NATIVE_ADAM_THREADS")) > 1;
  }
  // GEMMs: single-threaded OpenBLAS calls spread over the pool, unless
  // ZHUSUAN_NATIVE_BLAS_THREADS=n hands them to OpenBLAS' own n threads.
  if (const char* t = std::getenv("ZHUSUAN_NATIVE_BLAS_THREADS")) {
    gemmOnPool = false;
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(std::max(1, std::atoi(t)));
  } else if (openblas_set_num_threads != nullptr) {
    openblas_set_num_threads(1);
  }
  // With OpenBLAS' own worker threads spinning as well, a long spin here would
  // make three busy threads on two cores.
  if (!gemmOnPool) spinMicros = 10;
  const int want = std::max(threads, adamParallel || gemmOnPool ? poolThreads() : 1);
  if (pool == nullptr && want > 1) pool = new Pool(want);
  napi_add_env_cleanup_hook(env, Cleanup, nullptr);

  exports.Set("matMul", Napi::Function::New(env, MatMul));
  exports.Set("fusedMatMul", Napi::Function::New(env, FusedMatMul));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("denseGrad", Napi::Function::New(env, DenseGrad));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("copy2d", Napi::Function::New(env, Copy2d));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("normalLogProb", Napi::Function::New(env, NormalLogProb));
  exports.Set("normalLogProbGrad", Napi::Function::New(env, NormalLogProbGrad));
  exports.Set("bernoulliLogProb", Napi::Function::New(env, BernoulliLogProb));
  exports.Set("normalSample", Napi::Function::New(env, NormalSample));
  exports.Set("bernoulliLogProbGrad", Napi::Function::New(env, BernoulliLogProbGrad));
  exports.Set("randomNormal", Napi::Function::New(env, RandomNormal));
  exports.Set("randomUniform", Napi::Function::New(env, RandomUniform));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setParallelMin", Napi::Function::New(env, SetParallelMin));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("traceGemms", Napi::Function::New(env, TraceGemms));
  exports.Set("gemmShapes", Napi::Function::New(env, GemmShapes));
  return exports;
}

}  // namespace

// Shared by both kernel builds; defined here once.
namespace zsn {
bool makeBroadcastPlan(const int32_t* aShape, int aRank, const int32_t* bShape, int bRank,
                       BroadcastPlan* plan) {
  const int rank = std::max(aRank, bRank);
  if (rank > kMaxRank) return false;
  int64_t od[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int64_t strideA = 1, strideB = 1, size = 1;
  for (int i = rank - 1; i >= 0; --i) {
    const int ai = i - (rank - aRank), bi = i - (rank - bRank);
    const int64_t da = ai >= 0 ? aShape[ai] : 1;
    const int64_t db = bi >= 0 ? bShape[bi] : 1;
    if (da != db && da != 1 && db != 1) return false;
    const int64_t d = da == 1 ? db : da;
    od[i] = d;
    sa[i] = (da == 1) ? 0 : strideA;
    sb[i] = (db == 1) ? 0 : strideB;
    strideA *= da;
    strideB *= db;
    size *= d;
  }
  // Drop size-1 dims, merge neighbours whose strides chain for both operands.
  int r = 0;
  for (int i = 0; i < rank; ++i) {
    if (od[i] == 1) continue;
    if (r > 0 && plan->sa[r - 1] == sa[i] * od[i] && plan->sb[r - 1] == sb[i] * od[i]) {
      plan->dims[r - 1] *= od[i];
      plan->sa[r - 1] = sa[i];
      plan->sb[r - 1] = sb[i];
      continue;
    }
    plan->dims[r] = od[i];
    plan->sa[r] = sa[i];
    plan->sb[r] = sb[i];
    ++r;
  }
  if (r == 0) {
    plan->dims[0] = 1;
    plan->sa[0] = 0;
    plan->sb[0] = 0;
    r = 1;
  }
  plan->rank = r;
  plan->size = size;
  return true;
}
}  // namespace zsn

NODE_API_MODULE(zhusuan_native, Init)
