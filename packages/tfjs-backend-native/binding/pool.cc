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
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { loop(); });
}

Pool::~Pool() {
  stop_.store(true);
  gen_.fetch_add(1);
  gen_.notify_all();
  for (auto& t : workers_) t.join();
}

int Pool::claimNext(uint64_t word) { return static_cast<int>(word & 0xffffu); }

int Pool::claimTotal(uint64_t word) { return static_cast<int>((word >> 16) & 0xffffu); }

uint64_t Pool::claimWord(uint64_t job, int total) {
  return ((job & 0xffffffffu) << 32) | (static_cast<uint64_t>(total) << 16);
}

void Pool::run(void (*fn)(void*, int), void* ctx, int slots) {
  // The previous job is over (run returns only when all its slots are done),
  // so nothing reads these until the claim word below publishes them.
  const int total = slots > 0 ? slots : threads_;
  if (total > kMaxSlots) {
    for (int i = 0; i < total; ++i) fn(ctx, i);  // more than the claim word counts
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t job = gen_.load(std::memory_order_relaxed) + 1;
  claim_.store(claimWord(job, total), std::memory_order_release);
  gen_.store(job, std::memory_order_release);
  gen_.notify_all();
  work(job);
  // Wait for the slots other threads claimed: spin briefly, then sleep.
  // Never spin for long: a worker woken onto this core would wait for the
  // spinning thread's time slice (measured: steps of 16 ms instead of 6 on
  // 2 cores).
  int spins = 0;
  for (int d = done_.load(std::memory_order_acquire); d != total;
       d = done_.load(std::memory_order_acquire)) {
    if (++spins < 2000) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else {
      done_.wait(d, std::memory_order_acquire);
    }
  }
}

void Pool::work(uint64_t job) {
  // The job's slot count travels in the claim word with the job's number, so
  // a thread that read the word of a job just finished can neither take a
  // slot past that job's last nor pair that word with the next job's count:
  // the compare-and-swap fails once the word has moved on. (The count was a
  // separate atomic: a worker that read the finished job's word (next =
  // count) and then the next job's larger count, stored just before that
  // job's word, claimed a slot that did not exist, ran the next job's
  // function on it and counted it done: the next run saw one slot too many
  // and waited for ever. A bench run hung so, once in millions of jobs.)
  uint64_t c = claim_.load(std::memory_order_acquire);
  while ((c >> 32) == (job & 0xffffffffu) && claimNext(c) < claimTotal(c)) {
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;  // c now holds the current word
    }
    // A claimed slot keeps its job running, so fn_ and ctx_ are the job's
    // until done_ counts this slot.
    fn_(ctx_, claimNext(c));
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == claimTotal(c)) {
      done_.notify_one();
    }
    c = claim_.load(std::memory_order_acquire);
  }
}

void Pool::runRange(int64_t n, void (*fn)(void*, int64_t, int64_t), void* ctx, int64_t grain) {
  // Four chunks a thread (of at least `grain` units): a thread that runs late
  // leaves most of its share to the others.
  grain = std::max<int64_t>(1, grain);
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(4 * threads_, (n + grain - 1) / grain));
  int64_t chunk = (n + parts - 1) / parts;
  chunk = (chunk + grain - 1) / grain * grain;
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
      &job, static_cast<int>((n + chunk - 1) / chunk));
}

void Pool::loop() {
  uint64_t seen = 0;  // the job at construction (a late start must not skip a job)
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
    work(g);
  }
}

}  // namespace zsn
