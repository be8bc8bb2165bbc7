// The addon's Init and exports table: picks the kernel build for this CPU,
// reads the environment's thread settings, makes the pool, and exports the
// entry points (entries.h) with the settings and info functions defined here.
#include <napi.h>

#include <algorithm>
#include <cstdlib>

#include "entries.h"
#include "napi_args.h"
#include "pool.h"

extern "C" {
// OpenBLAS extensions (declared in openblas' cblas.h, repeated here so that a
// reference-BLAS cblas.h still compiles; the names are only used if present).
char* openblas_get_config(void) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
}

namespace zsn {

const KernelTable* KT = nullptr;

namespace {

const char* kIsa = "base";

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
  return Napi::Number::New(info.Env(),
                           elementwiseParallel && pool != nullptr ? pool->threads() : 1);
}

// setParallelMin(n, spinMicros?, gemmPoolMinFlops?): elements below which
// element-wise kernels stay on one thread, how long pool workers spin after
// a job, and the FLOPs below which a group of products stays on the calling
// thread (an argument left undefined keeps its setting).
Napi::Value SetParallelMin(const Napi::CallbackInfo& info) {
  parallelMin = std::max<int64_t>(1, inum(info, 0));
  if (info.Length() > 1 && !info[1].IsUndefined()) spinMicros = std::max(0.0, num(info, 1));
  if (info.Length() > 2 && !info[2].IsUndefined()) gemmPoolMinFlops = std::max(0.0, num(info, 2));
  return info.Env().Undefined();
}

// info(): the kernel build, threads, BLAS and GEMM totals (AddonInfo in
// src/addon.ts).
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", kIsa);
  o.Set("threads", elementwiseParallel && pool != nullptr ? pool->threads() : 1);
  o.Set("adamThreads", adamParallel && pool != nullptr ? pool->threads() : 1);
  o.Set("parallelMin", static_cast<double>(parallelMin));
  o.Set("gemmPoolMinFlops", gemmPoolMinFlops);
  o.Set("blasConfig", openblas_get_config != nullptr ? openblas_get_config() : "unknown BLAS");
  o.Set("blasThreads", openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 1);
  setGemmInfo(o);
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
  exports.Set("logical", Napi::Function::New(env, Logical));
  exports.Set("predicate", Napi::Function::New(env, Predicate));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("denseGrad", Napi::Function::New(env, DenseGrad));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("addScaled", Napi::Function::New(env, AddScaled));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("copy2d", Napi::Function::New(env, Copy2d));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("logSumExp", Napi::Function::New(env, LogSumExp));
  exports.Set("logSumExpGrad", Napi::Function::New(env, LogSumExpGrad));
  exports.Set("tile", Napi::Function::New(env, Tile));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, UnsortedSegmentSum));
  exports.Set("gatherGrad", Napi::Function::New(env, GatherGrad));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("pool2d", Napi::Function::New(env, Pool2d));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
  exports.Set("normalLogProb", Napi::Function::New(env, NormalLogProb));
  exports.Set("normalLogProbGrad", Napi::Function::New(env, NormalLogProbGrad));
  exports.Set("bernoulliLogProb", Napi::Function::New(env, BernoulliLogProb));
  exports.Set("normalSample", Napi::Function::New(env, NormalSample));
  exports.Set("bernoulliLogProbGrad", Napi::Function::New(env, BernoulliLogProbGrad));
  exports.Set("countsDot", Napi::Function::New(env, CountsDot));
  exports.Set("countsDotGrad", Napi::Function::New(env, CountsDotGrad));
  exports.Set("sgmcmcUpdate", Napi::Function::New(env, SgmcmcUpdate));
  exports.Set("planarStep", Napi::Function::New(env, PlanarStep));
  exports.Set("planarStepGrad", Napi::Function::New(env, PlanarStepGrad));
  exports.Set("rbfKernel", Napi::Function::New(env, RbfKernel));
  exports.Set("rbfKernelGrad", Napi::Function::New(env, RbfKernelGrad));
  exports.Set("cholesky", Napi::Function::New(env, Cholesky));
  exports.Set("triangularSolve", Napi::Function::New(env, TriangularSolve));
  exports.Set("randomNormal", Napi::Function::New(env, RandomNormal));
  exports.Set("randomUniform", Napi::Function::New(env, RandomUniform));
  exports.Set("bernoulliRows", Napi::Function::New(env, BernoulliRows));
  exports.Set("bernoulliSample", Napi::Function::New(env, BernoulliSample));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setParallelMin", Napi::Function::New(env, SetParallelMin));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("traceGemms", Napi::Function::New(env, TraceGemms));
  exports.Set("gemmShapes", Napi::Function::New(env, GemmShapes));
  return exports;
}

}  // namespace
}  // namespace zsn

using zsn::Init;
NODE_API_MODULE(zhusuan_native, Init)
