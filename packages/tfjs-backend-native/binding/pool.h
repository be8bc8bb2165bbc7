// A small thread pool and the settings that decide which kernels use it.
//
// Runs one job at a time. A job is a number of slots, each run exactly once
// by whichever thread claims it first: the caller claims slots too, and
// waits only for slots other threads have claimed and not finished. A worker
// that the operating system has descheduled (another process on the cores)
// therefore never stalls a kernel: its share is taken by the threads that
// run. Used for the GEMMs (OpenBLAS itself runs single-threaded, see
// gemm.cc) and the convolutions' blocks, the Adam update and, when enabled,
// element-wise kernels. Workers spin briefly after a job (kernels come every
// few microseconds during a training step) and then sleep on a futex
// (std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace zsn {

class Pool {
 public:
  explicit Pool(int threads);
  ~Pool();
  int threads() const { return threads_; }

  // Runs fn(ctx, slot) once for every slot in [0, slots) (default: one per
  // thread), each on whichever thread claims it; returns when all are done.
  void run(void (*fn)(void*, int), void* ctx, int slots = 0);

  // Runs fn(ctx, begin, end) over [0, n) in chunks aligned to `grain`, a few
  // per thread, so that the threads that run take the chunks of one that does
  // not. Elements take a grain of 16 (a chunk starts on a cache line); rows or
  // blocks of many elements, 1 (twelve blocks are then six chunks of two,
  // where chunks of 16 would be one chunk of twelve, on one thread).
  void runRange(int64_t n, void (*fn)(void*, int64_t, int64_t), void* ctx, int64_t grain = 16);

 private:
  void loop();
  // Claims and runs slots of job `job` until it has none left.
  void work(uint64_t job);

  int threads_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> gen_{0};  // the current job's number; workers wait on it
  // (job << 32) | (the job's slots << 16) | next unclaimed slot: a claim is
  // a compare-and-swap, so a worker late for one job cannot claim a slot of
  // the next (pool.cc, work()).
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};  // the current job's finished slots
  // The most slots a job spreads over the threads (its count has 16 bits of
  // the claim word); run() runs a larger job on the caller alone. The pool's
  // jobs have at most 4 slots a thread.
  static constexpr int kMaxSlots = 0xffff;
  static int claimNext(uint64_t word);
  static int claimTotal(uint64_t word);
  // A job's first claim word: slot 0 next.
  static uint64_t claimWord(uint64_t job, int total);
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
};

// The pool (null while every setting asks for one thread), made by Init and
// setThreads (addon.cc).
extern Pool* pool;

// Microseconds a worker spins after a job before sleeping on a futex. A
// training step calls the pool every 0.1-1 ms (GEMMs, Adam); waking a sleeping
// worker costs tens to hundreds of microseconds on a virtual machine, and the
// caller waits for it. OpenBLAS is single-threaded here, so the spinning
// worker competes with nobody for its core.
extern double spinMicros;

// Elements below which one thread is faster.
extern int64_t parallelMin;

// Element-wise kernels use the pool only when enabled (ZHUSUAN_NATIVE_THREADS);
// the Adam update (compute-bound: two divisions and a square root an element)
// and the GEMMs use it by default.
extern bool elementwiseParallel;
extern bool adamParallel;

// True when the pool runs the GEMMs (OpenBLAS set to one thread); false when
// OpenBLAS threads them itself (ZHUSUAN_NATIVE_BLAS_THREADS).
extern bool gemmOnPool;

// FLOPs below which a group of products runs on the calling thread (gemm.cc
// explains the default, 4e6; setParallelMin's third argument sets it).
extern double gemmPoolMinFlops;

// The pool's default size: every core, at most 64.
int poolThreads();

// Calls f(begin, end) over [0, n): in chunks aligned to `grain` (Pool::runRange)
// on the pool when `enabled`, the pool has two threads or more and n >= 2 and
// n >= minParallel, else once on this thread.
template <class F>
void parallelForGrain(int64_t n, int64_t minParallel, int64_t grain, F&& f, bool enabled) {
  using Fn = std::remove_reference_t<F>;
  if (!enabled || pool == nullptr || pool->threads() < 2 || n < minParallel || n < 2) {
    f(0, n);
    return;
  }
  pool->runRange(
      n, [](void* c, int64_t b, int64_t e) { (*static_cast<Fn*>(c))(b, e); },
      static_cast<void*>(&f), grain);
}

// parallelForGrain over elements: chunks start on multiples of 16 (a cache
// line).
template <class F>
void parallelFor(int64_t n, int64_t minParallel, F&& f, bool enabled = elementwiseParallel) {
  parallelForGrain(n, minParallel, 16, std::forward<F>(f), enabled);
}

// parallelForGrain over units of many elements each (rows, blocks, images):
// the chunks are not rounded to 16 units, so that a few units still spread
// over the threads.
template <class F>
void parallelForUnits(int64_t n, int64_t minParallel, F&& f, bool enabled = elementwiseParallel) {
  parallelForGrain(n, minParallel, 1, std::forward<F>(f), enabled);
}

// Calls f(i) for every i in [0, n): on the pool, each thread taking the next
// task as it finishes, when `enabled`, the pool has two threads or more and
// n >= 2; else in order on this thread. Tasks must write disjoint outputs.
template <class F>
void parallelTasks(int64_t n, F&& f, bool enabled = gemmOnPool) {
  if (!enabled || pool == nullptr || pool->threads() < 2 || n < 2) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
  struct Job {
    F* f;
    int64_t n;
    std::atomic<int64_t> next{0};
  } job{&f, n};
  pool->run(
      [](void* c, int) {
        Job& j = *static_cast<Job*>(c);
        for (int64_t t = j.next.fetch_add(1); t < j.n; t = j.next.fetch_add(1)) (*j.f)(t);
      },
      &job);
}

}  // namespace zsn
