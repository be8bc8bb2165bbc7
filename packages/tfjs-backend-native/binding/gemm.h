// Matrix products on cblas_sgemm (gemm.cc), for the entry points that are
// built on them: matMul and the dense layer's gradients (gemm.cc), and the
// convolutions (conv.cc).
#pragma once

#include <cstdint>

namespace zsn {

// One row-major product C = op(A)·op(B) + beta·C (alpha 1).
struct Gemm {
  bool ta, tb;
  int64_t M, N, K;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  float beta = 0.0f;
  double flops() const {
    return 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  }
};

// C [M,N] = op(A)·op(B) with dense operands: A [M,K] ([K,M] when ta), B [K,N]
// ([N,K] when tb), beta 0.
Gemm makeGemm(const float* a, const float* b, float* c, int64_t M, int64_t N, int64_t K, bool ta,
              bool tb);

// One product on the calling thread (single-threaded OpenBLAS).
void sgemm(const Gemm& g);

// Runs `count` independent products, in parallel on the pool when it has
// more than one thread: whole products when there are at least as many as
// threads, else each large one split into blocks (threads take the next
// block as they finish, largest first). Counted in info()'s GEMM totals and
// recorded by shape while tracing.
void runGemms(const Gemm* gs, int64_t count);

// Adds products run outside runGemms (a convolution's blocks, `calls` of
// them in `seconds`) to the GEMM totals; while tracing, records them as one
// group named `label` and the shape of `whole`, the product they make up
// ("conv2d 25088x144·144x16").
void countGemms(const char* label, const Gemm& whole, int64_t calls, double seconds);

}  // namespace zsn
