// A microbenchmark behind docs/benchmarks.md ("The step's products, in a loop
// and in place"): the matrix products of one VAE training step (batch 128,
// 784-500-500-40 nets), each timed back to back in a loop
//   - with the system OpenBLAS on one thread, and
//   - as two halves side by side on two threads (as the addon's pool splits
//     one product), a spin barrier after every repetition,
// against the cores' FMA rate (8- and 16-wide vectors), and, where the CPU
// has AVX-512, the same with a small hand-written kernel (8x48 register tile,
// A read in place, B read in place unless transposed) that skips OpenBLAS'
// packing copies and its separate zeroing of C. The hand-written kernel is a
// measuring stick only: the addon does not use it.
//
// Build and run: bash packages/tfjs-backend-native/bench/run.sh
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

#ifdef __AVX512F__
constexpr int MR = 8;
constexpr int NR = 48;

// C[0:mr, 0:nr] (+)= A·B over kc steps: A(r, k) = a[r*ars + k*acs],
// B(k, j) = b[k*bs + j], j < 48 (zero-padded where nr < 48).
void microKernel(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t bs,
                 float* c, int64_t ldc, bool accumulate, int mr, int nr) {
  __m512 acc[MR][3];
  for (auto& row : acc) row[0] = row[1] = row[2] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16),
                 b2 = _mm512_loadu_ps(b + 32);
    b += bs;
    const float* ak = a + k * acs;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 x = _mm512_set1_ps(ak[r * ars]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(x, b2, acc[r][2]);
    }
  }
  for (int r = 0; r < mr; ++r) {
    float* cr = c + r * ldc;
    for (int v = 0; v < 3; ++v) {
      const int n = std::clamp(nr - 16 * v, 0, 16);
      if (n == 0) break;
      const __mmask16 m = n == 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
      __m512 t = acc[r][v];
      if (accumulate) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(m, cr + 16 * v));
      _mm512_mask_storeu_ps(cr + 16 * v, m, t);
    }
  }
}

// Row-major C = op(A)·op(B), blocked over K; B is copied (zero-padded 48-wide
// panels) only when transposed or for the last, partial panel.
void directGemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* a, int64_t lda,
                const float* b, int64_t ldb, float* c, int64_t ldc) {
  const int64_t kblocks = (K + 319) / 320;
  const int64_t KC = (K + kblocks - 1) / kblocks;
  thread_local std::vector<float> bpack, apack;
  const int64_t panels = (N + NR - 1) / NR;
  const int64_t direct = tb ? 0 : N / NR;
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kc = std::min(KC, K - k0);
    bpack.assign((panels - direct) * kc * NR, 0.0f);
    for (int64_t p = direct; p < panels; ++p) {
      float* dst = bpack.data() + (p - direct) * kc * NR;
      const int64_t j0 = p * NR, nr = std::min<int64_t>(NR, N - j0);
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < nr; ++j)
          dst[k * NR + j] = tb ? b[(j0 + j) * ldb + k0 + k] : b[(k0 + k) * ldb + j0 + j];
    }
    for (int64_t i0 = 0; i0 < M; i0 += MR) {
      const int mr = static_cast<int>(std::min<int64_t>(MR, M - i0));
      const float* ap = ta ? a + k0 * lda + i0 : a + i0 * lda + k0;
      int64_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
      if (mr < MR) {
        apack.assign(kc * MR, 0.0f);
        for (int64_t k = 0; k < kc; ++k)
          for (int r = 0; r < mr; ++r) apack[k * MR + r] = ap[r * ars + k * acs];
        ap = apack.data();
        ars = 1;
        acs = MR;
      }
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t j0 = p * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, N - j0));
        const bool inPlace = p < direct;
        const float* bp = inPlace ? b + k0 * ldb + j0 : bpack.data() + (p - direct) * kc * NR;
        microKernel(kc, ap, ars, acs, bp, inPlace ? ldb : NR, c + i0 * ldc + j0, ldc, k0 > 0, mr,
                    nr);
      }
    }
  }
}
#endif

struct Shape {
  const char* what;
  int64_t M, N, K;
  bool ta, tb;
};

enum class Impl { OpenBLAS, Direct };

void gemm(Impl impl, const Shape& s, int64_t M, int64_t N, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc) {
#ifdef __AVX512F__
  if (impl == Impl::Direct) {
    directGemm(s.ta, s.tb, M, N, s.K, a, lda, b, ldb, c, ldc);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, M,
              N, s.K, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

// GFLOP/s of the best of 5 trials; with threads = 2, two halves of C (rows
// when M >= N, else columns, 16-aligned as the addon splits) side by side.
double rate(Impl impl, const Shape& s, int threads, std::vector<float>* out = nullptr) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> A(s.M * s.K), B(s.K * s.N), C(s.M * s.N);
  for (auto& x : A) x = u(gen);
  for (auto& x : B) x = u(gen);
  const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  const double flops = 2.0 * s.M * s.N * s.K;
  const int reps = std::max(20, static_cast<int>(2e9 / flops));
  std::atomic<int> arrived{0};
  auto part = [&](int t) {
    const bool rows = s.M >= s.N;
    const int64_t len = rows ? s.M : s.N;
    int64_t step = (len + threads - 1) / threads;
    step = (step + 15) & ~int64_t(15);
    const int64_t b0 = std::min(len, t * step), e = std::min(len, b0 + step);
    const float* a = A.data();
    const float* b = B.data();
    float* c = C.data();
    int64_t M = s.M, N = s.N;
    if (rows) {
      M = e - b0;
      a = s.ta ? a + b0 : a + b0 * lda;
      c += b0 * s.N;
    } else {
      N = e - b0;
      b = s.tb ? b + b0 * ldb : b + b0;
      c += b0;
    }
    for (int r = 0; r < reps; ++r) {
      if (M > 0 && N > 0) gemm(impl, s, M, N, a, lda, b, ldb, c, s.N);
      arrived.fetch_add(1);
      while (arrived.load() < (r + 1) * threads) {
      }
    }
  };
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    arrived = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(part, t);
    part(0);
    for (auto& th : pool) th.join();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops * reps / sec / 1e9);
  }
  if (out != nullptr) *out = C;
  return best;
}

// The FMA rate of the cores: 12 independent chains of fused multiply-adds
// per thread on 8-wide (AVX2, the Haswell kernel's width) or 16-wide vectors;
// GFLOP/s of the best of 5 trials on `threads` threads at once.
template <typename V, V (*Set1)(float), V (*Fma)(V, V, V), float (*First)(V)>
double fmaPeak(int threads) {
  constexpr int64_t kIters = 50'000'000;
  constexpr double kFlops = 12.0 * (sizeof(V) / sizeof(float)) * 2 * kIters;
  auto chains = [](float seed) {
    V acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = Set1(seed + static_cast<float>(i));
    const V x = Set1(0.999999f), y = Set1(1e-7f);
    for (int64_t n = 0; n < kIters; ++n)
      for (auto& a : acc) a = Fma(a, x, y);
    float sum = 0;
    for (auto& a : acc) sum += First(a);
    return sum;
  };
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = chains(t); });
    sink[0] = chains(0);
    for (auto& th : pool) th.join();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(sink[0])) std::printf("(unexpected sum)\n");
    best = std::max(best, threads * kFlops / sec / 1e9);
  }
  return best;
}

__m256 set8(float v) { return _mm256_set1_ps(v); }
__m256 fma8(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
float first8(__m256 a) { return _mm256_cvtss_f32(a); }
#ifdef __AVX512F__
__m512 set16(float v) { return _mm512_set1_ps(v); }
__m512 fma16(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
float first16(__m512 a) { return _mm512_cvtss_f32(a); }
#endif

}  // namespace

int main() {
  openblas_set_num_threads(1);
  // The step's products as the addon runs them (row-major; "^T": read transposed).
  const std::vector<Shape> shapes = {
      {"enc 784->500 fwd", 128, 500, 784, false, false},
      {"enc 500->500 fwd", 128, 500, 500, false, false},
      {"enc head fwd (x2)", 128, 40, 500, false, false},
      {"dec 40->500 fwd", 128, 500, 40, false, false},
      {"dec 500->500 fwd", 128, 500, 500, false, false},
      {"dec 500->784 fwd", 128, 784, 500, false, false},
      {"dx dec 500->784", 128, 500, 784, false, true},
      {"dx 500->500 (x2)", 128, 500, 500, false, true},
      {"dx dec 40->500", 128, 40, 500, false, true},
      {"dx enc head (x2)", 128, 500, 40, false, true},
      {"dw enc 784->500", 784, 500, 128, true, false},
      {"dw 500->500 (x2)", 500, 500, 128, true, false},
      {"dw enc head (x2)", 500, 40, 128, true, false},
      {"dw dec 40->500", 40, 500, 128, true, false},
      {"dw dec 500->784", 500, 784, 128, true, false},
      {"1024^3", 1024, 1024, 1024, false, false},
  };
#ifdef __AVX512F__
  const bool direct = true;
#else
  const bool direct = false;
#endif
  std::printf("FMA rate, 8-wide: %.1f GFLOP/s on one thread, %.1f on two\n",
              fmaPeak<__m256, set8, fma8, first8>(1), fmaPeak<__m256, set8, fma8, first8>(2));
#ifdef __AVX512F__
  std::printf("FMA rate, 16-wide: %.1f GFLOP/s on one thread, %.1f on two\n",
              fmaPeak<__m512, set16, fma16, first16>(1), fmaPeak<__m512, set16, fma16, first16>(2));
#endif
  std::printf("GFLOP/s, best of 5 trials%s\n", direct ? "" : " (no AVX-512: OpenBLAS only)");
  std::printf("%-20s %15s %6s | %9s %9s | %9s %9s | %s\n", "product", "M x N x K", "op", "BLAS 1t",
              "BLAS 2t", "direct 1t", "direct 2t", "max |diff| / max |C|");
  for (const Shape& s : shapes) {
    std::vector<float> c1, c2;
    const double o1 = rate(Impl::OpenBLAS, s, 1, &c1), o2 = rate(Impl::OpenBLAS, s, 2);
    char dims[32], op[8];
    std::snprintf(dims, sizeof dims, "%ldx%ldx%ld", (long)s.M, (long)s.N, (long)s.K);
    std::snprintf(op, sizeof op, "%s%s", s.ta ? "A^T" : "A", s.tb ? "B^T" : "B");
    if (direct) {
      const double d1 = rate(Impl::Direct, s, 1, &c2), d2 = rate(Impl::Direct, s, 2);
      double diff = 0, mag = 0;
      for (size_t i = 0; i < c1.size(); ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(c1[i] - c2[i])));
        mag = std::max(mag, static_cast<double>(std::fabs(c1[i])));
      }
      std::printf("%-20s %15s %6s | %9.1f %9.1f | %9.1f %9.1f | %.1e\n", s.what, dims, op, o1, o2,
                  d1, d2, diff / mag);
    } else {
      std::printf("%-20s %15s %6s | %9.1f %9.1f |\n", s.what, dims, op, o1, o2);
    }
  }
}
