// The addon's N-API functions, by the file that defines them; addon.cc puts
// them in the exports table under the names src/addon.ts (NativeAddon)
// describes. Each checks its arguments (napi_args.h) and runs the kernel
// table Init picked.
#pragma once

#include <napi.h>

#include "kernels.h"

namespace zsn {

// The kernel build in use (zsn_avx2 or zsn_base), set once by Init.
extern const KernelTable* KT;

// gemm.cc: matrix products on OpenBLAS, spread over the pool.
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value FusedMatMul(const Napi::CallbackInfo& info);
Napi::Value DenseGrad(const Napi::CallbackInfo& info);
Napi::Value TraceGemms(const Napi::CallbackInfo& info);
Napi::Value GemmShapes(const Napi::CallbackInfo& info);

// The products' wall seconds, FLOPs and count since the addon loaded, and the
// threads they are spread over, as the fields gemmThreads, gemmSeconds,
// gemmFlops and gemmCalls of `o` (for info()).
void setGemmInfo(Napi::Object o);

// elementwise.cc: broadcasting binary ops, unary ops, the boolean kernels
// (logical, predicate) and select, reductions, softmax, Adam, fill, and the
// fused log-sum-exp and its gradient.
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Logical(const Napi::CallbackInfo& info);
Napi::Value Predicate(const Napi::CallbackInfo& info);
Napi::Value Select(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Softmax(const Napi::CallbackInfo& info);
Napi::Value LogSumExp(const Napi::CallbackInfo& info);
Napi::Value LogSumExpGrad(const Napi::CallbackInfo& info);
Napi::Value Adam(const Napi::CallbackInfo& info);
Napi::Value AddScaled(const Napi::CallbackInfo& info);
Napi::Value Fill(const Napi::CallbackInfo& info);

// movement.cc: slices, row copies, transposes, tiles and constant padding.
Napi::Value Slice(const Napi::CallbackInfo& info);
Napi::Value Copy2d(const Napi::CallbackInfo& info);
Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value Tile(const Napi::CallbackInfo& info);
Napi::Value Pad(const Napi::CallbackInfo& info);

// indexing.cc: gathers, segment sums and the gathers' gradient.
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value UnsortedSegmentSum(const Napi::CallbackInfo& info);
Napi::Value GatherGrad(const Napi::CallbackInfo& info);

// conv.cc: 2-D convolutions and their gradients (im2col + GEMM).
Napi::Value Conv2d(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info);

// pooling.cc: 2-D max and average pooling and their gradients.
Napi::Value Pool2d(const Napi::CallbackInfo& info);
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info);
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info);

// log_density.cc: fused Normal and Bernoulli log-densities, their gradients,
// the reparameterised Normal sample, and the planar flow step and its gradient.
Napi::Value NormalLogProb(const Napi::CallbackInfo& info);
Napi::Value NormalLogProbGrad(const Napi::CallbackInfo& info);
Napi::Value BernoulliLogProb(const Napi::CallbackInfo& info);
Napi::Value BernoulliLogProbGrad(const Napi::CallbackInfo& info);
Napi::Value CountsDot(const Napi::CallbackInfo& info);
Napi::Value CountsDotGrad(const Napi::CallbackInfo& info);
Napi::Value NormalSample(const Napi::CallbackInfo& info);
Napi::Value PlanarStep(const Napi::CallbackInfo& info);
Napi::Value PlanarStepGrad(const Napi::CallbackInfo& info);

// gp.cc: a Gaussian process's RBF kernel matrix and its gradient.
Napi::Value RbfKernel(const Napi::CallbackInfo& info);
Napi::Value RbfKernelGrad(const Napi::CallbackInfo& info);

// sgmcmc.cc: the fused SG-MCMC update of one latent.
Napi::Value SgmcmcUpdate(const Napi::CallbackInfo& info);

// linalg.cc: the Cholesky factorisation and the triangular solve, batched,
// on OpenBLAS' strsm and ssyrk.
Napi::Value Cholesky(const Napi::CallbackInfo& info);
Napi::Value TriangularSolve(const Napi::CallbackInfo& info);

// random.cc: seeded draws equal to tf.randomNormal's and tf.randomUniform's,
// and the data pipeline's Bernoulli draws from zhusuan's xoshiro128** stream.
Napi::Value RandomNormal(const Napi::CallbackInfo& info);
Napi::Value RandomUniform(const Napi::CallbackInfo& info);
Napi::Value BernoulliRows(const Napi::CallbackInfo& info);
// A Bernoulli sample from that uniform stream and probabilities or logits.
Napi::Value BernoulliSample(const Napi::CallbackInfo& info);

}  // namespace zsn
