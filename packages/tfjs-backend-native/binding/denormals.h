// Flushing denormal results to zero around a kernel.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace zsn {

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

}  // namespace zsn
