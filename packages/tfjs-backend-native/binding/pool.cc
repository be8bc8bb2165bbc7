// The thread pool (pool.h).
#include "pool.h"

#include <algorithm>
#include <chrono>

namespace zsn {

Pool* pool = nullptr;
double spinMicros = 1000;
int64_t parallelMin = 1 << 15;
bool elementwiseParallel = false;
bool adamParallel = true;
bool gemmOnPool = true;
double gemmPoolMinFlops = 4e6;

int poolThreads() {
  return std::max(1, std::min(static_cast<int>(std::thread::hardware_concurrency()), 64));
}

Pool::Pool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { loop(i); });
}

Pool::~Pool() {
  stop_.store(true);
  gen_.fetch_add(1);
  gen_.notify_all();
  for (auto& t : workers_) t.join();
}

void Pool::run(void (*fn)(void*, int), void* ctx) {
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

void Pool::runRange(int64_t n, void (*fn)(void*, int64_t, int64_t), void* ctx) {
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

void Pool::loop(int index) {
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

}  // namespace zsn
