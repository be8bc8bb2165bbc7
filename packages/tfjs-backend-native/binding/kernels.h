// Element-wise, reduction and fused kernels on float32 buffers: the op codes
// and the KernelTable the addon calls them through.
//
// The kernels (kernels_*.cc, kernels.cc the table) are compiled twice, once
// with AVX2+FMA and once for the baseline instruction set, into the
// namespaces zsn_avx2 and zsn_base; Init (addon.cc) picks one table at load
// time. No kernel allocates: callers hand in output buffers, and the shapes
// travel as small int arrays.
#pragma once

#include <cstddef>
#include <cstdint>

#include "broadcast.h"

namespace zsn {

// The op codes below are also spelled in src/addon.ts (const enums of the
// same names): member kX there is X, kReduceX is ReduceOp.X and kActX is
// Act.X. test/op_codes.test.ts fails when the two lists differ.

// Binary operations.
enum BinaryOp : int {
  kAdd = 0,
  kSub = 1,
  kMul = 2,
  kDiv = 3,
  kMax = 4,
  kMin = 5,
  kSquaredDifference = 6,
  kPow = 7,
  kPrelu = 8,
  kAtan2 = 9,
  // a = logits, b = x: x·a − softplus(a), the Bernoulli log-probability.
  kBernoulliLogProb = 10,
  // Comparisons write uint8 (tfjs 'bool').
  kEqual = 20,
  kNotEqual = 21,
  kLess = 22,
  kLessEqual = 23,
  kGreater = 24,
  kGreaterEqual = 25,
};

// Unary operations; Step and LeakyRelu read alpha, Clip clamps to [alpha, beta].
enum UnaryOp : int {
  kNeg = 0,
  kAbs = 1,
  kExp = 2,
  kLog = 3,
  kLog1p = 4,
  kSqrt = 5,
  kRsqrt = 6,
  kSquare = 7,
  kReciprocal = 8,
  kSigmoid = 9,
  kSoftplus = 10,
  kRelu = 11,
  kRelu6 = 12,
  kStep = 13,
  kSign = 14,
  kTanh = 15,
  kElu = 16,
  kLeakyRelu = 17,
  kExpm1 = 18,
  kSin = 19,
  kCos = 20,
  kFloor = 21,
  kCeil = 22,
  kClip = 23,
  kSelu = 24,
  kRound = 25,
  kErf = 26,
  kLinear = 27,
};

// Reductions.
enum ReduceOp : int {
  kReduceSum = 0,
  kReduceMean = 1,
  kReduceMax = 2,
  kReduceMin = 3,
  kReduceProd = 4,
};

// Boolean kernels on tfjs' bool storage (uint8, one byte an element):
// LogicalNot reads uint8, IsFinite/IsNan/IsInf read float32 (unary, through
// `predicate`); LogicalAnd and LogicalOr read two uint8 operands with
// broadcasting (through `logical`).
enum BoolOp : int {
  kLogicalNot = 0,
  kIsFinite = 1,
  kIsNan = 2,
  kIsInf = 3,
  kLogicalAnd = 10,
  kLogicalOr = 11,
};

// The samplers of the fused SG-MCMC update (KernelTable::sgmcmc).
enum SgmcmcKind : int {
  kSgld = 0,
  kPsgld = 1,
  kSghmc = 2,
  kSgnht = 3,
};

// Element types of Select's operands and output (tfjs' float32, int32 and
// bool arrays); not an op code, so not mirrored in src/addon.ts.
enum class Elem : uint8_t { kF32, kI32, kU8 };

// Activations of the matmul epilogue (biasAct) and of its gradient (actGrad).
enum Act : int {
  kActLinear = 0,
  kActRelu = 1,
  kActRelu6 = 2,
  kActElu = 3,
  kActLeakyRelu = 4,
  kActSigmoid = 5,
};

// Operands of one SG-MCMC update (the library's ZsSgmcmcUpdate; c[] are its
// float32 constants, by kind):
//   kSgld:  q' = (q + g·c0) + noise                        (c0 = ε/2)
//   kPsgld: v' = v·c0 + g²·c1, p = 1/(√v' + c2),
//           q' = (q + (p·g)·c4) + noise·√(p·c3)            (ρ, 1−ρ, λ, ε, ε/2)
//   kSghmc: v' = (v·c0 + g·c1) + noise, q' = q + v';
//           second order v' = ((v·c0 + g·c1) + noise)·c0, q' = q + v'·0.5
//                                                          (1−α or e^−α/2, η)
//   kSgnht: as kSghmc with η = c0 and the factor 1 − α (first order) or
//           e^(α·−0.5) (second order) of the friction input α; a vector α
//           then α' = α + (v'² − η)·c1 element-wise (c1 the tune scale), a
//           scalar one (alphaLength 1) is updated by the caller from mean(v'²).
// v, alpha and vOut, alphaOut are null where the kind has none.
struct SgmcmcArgs {
  int kind = kSgld;
  bool secondOrder = false;
  const float* q = nullptr;
  const float* g = nullptr;
  const float* noise = nullptr;
  const float* v = nullptr;
  const float* alpha = nullptr;
  int64_t alphaLength = 0;
  float* qOut = nullptr;
  float* vOut = nullptr;
  float* alphaOut = nullptr;
  float c[5] = {0, 0, 0, 0, 0};
};

struct KernelTable {
  // Broadcast binary op over output elements [begin, end) of the plan's
  // iteration order (which is the output's row-major order).
  void (*binary)(int op, const float* a, const float* b, float* out, const BroadcastPlan& p,
                 int64_t begin, int64_t end);
  void (*compare)(int op, const float* a, const float* b, uint8_t* out, const BroadcastPlan& p,
                  int64_t begin, int64_t end);
  // LogicalAnd / LogicalOr of uint8 operands over the plan's [begin, end).
  void (*logical)(int op, const uint8_t* a, const uint8_t* b, uint8_t* out, const BroadcastPlan& p,
                  int64_t begin, int64_t end);
  // out[i] = f(x[i]) for i in [begin, end): x is uint8 for LogicalNot, float32
  // for IsFinite, IsNan and IsInf.
  void (*predicate)(int op, const void* x, uint8_t* out, int64_t begin, int64_t end);
  // Select over output elements [begin, end): out[i] = cond[i / inner] == 1 ?
  // t[i] : e[i], converted to the output's type (inner 1: cond has the output's
  // size; inner > 1: one cond byte per leading row of `inner` elements).
  void (*select)(const uint8_t* cond, const void* t, Elem tType, const void* e, Elem eType,
                 void* out, Elem outType, int64_t inner, int64_t begin, int64_t end);
  // out[i] = f(x[i]) for i in [begin, end).
  void (*unary)(int op, const float* x, float* out, int64_t begin, int64_t end, float alpha,
                float beta);
  // out = act(out + bias[col]) for a row-major [rows, cols] block, bias may be null.
  void (*biasAct)(float* out, const float* bias, int64_t rows, int64_t cols, int act, float alpha);
  // dx = dy * act'(y) expressed through the forward output y (relu, linear, sigmoid, ...).
  void (*actGrad)(int act, const float* dy, const float* y, float* out, int64_t begin, int64_t end,
                  float alpha);
  // Column sums of a row-major [rows, cols] matrix into out[cols] (double accumulation).
  void (*colSum)(const float* x, float* out, int64_t rows, int64_t cols);
  // Reduce x (shape dims[rank]) over the flagged axes into out.
  void (*reduce)(int op, const float* x, float* out, const int64_t* dims, const uint8_t* reduced,
                 int rank, double* scratch);
  // Normal log-density from logstd over n contiguous elements, rounded like
  // the composite (Sub, Neg, Exp, Mul, Square, Mul, Sub, Sub):
  // out = -0.5 ((x - m) e)^2 - log(2 pi)/2 - s with e = e^-s, read from `e`
  // where it is not null (expNeg's values at the same positions) and
  // computed per element where it is.
  void (*normalLogProb)(const float* x, const float* m, const float* s, const float* e, float* out,
                        int64_t n);
  // Its gradients times dy: gx = -z e dy (the mean's is -gx), gs = (z^2 - 1) dy,
  // z = (x - m) e, with e as in normalLogProb.
  void (*normalLogProbGrad)(const float* x, const float* m, const float* s, const float* e,
                            const float* dy, float* gx, float* gs, int64_t n);
  // e = e^-s over n elements, rounded as normalLogProb rounds it (so that a
  // short, periodic logstd takes its exponentials once, not per element).
  void (*expNeg)(const float* s, float* e, int64_t n);
  // Bernoulli log-probability from logits over n contiguous elements, rounded
  // like the composite (Multiply, Softplus, Sub): out = x·l − softplus(l).
  void (*bernoulliLogProb)(const float* l, const float* x, float* out, int64_t n);
  // Its gradient for the logits times dy, rounded like Sigmoid, Sub,
  // Multiply: out = dy·(x − sigmoid(l)).
  void (*bernoulliLogProbGrad)(const float* l, const float* x, const float* dy, float* out,
                               int64_t n);
  // A reparameterised Normal sample from standard normals, rounded like Exp,
  // Multiply and Add: noise = eps·e^s (eps read from noise, overwritten), z =
  // noise + m.
  void (*normalSample)(const float* m, const float* s, float* noise, float* z, int64_t n);
  // A multinomial's x·log p per element, 0 wherever x == 0: out = x·l, or
  // x·log(l) rounded as the Log kernel rounds when logOf.
  void (*countsDot)(const float* x, const float* l, float* out, int64_t n, bool logOf);
  // Its gradient for l times dy: out = x·dy, divided by l when logOf,
  // rounded as Multiply then RealDiv round.
  void (*countsDotGrad)(const float* x, const float* l, const float* dy, float* out, int64_t n,
                        bool logOf);
  // Sum of n floats in double precision, in the Sum reduction's order.
  double (*sum)(const float* x, int64_t n);
  // out[r] = sum(x + r·inner, inner) rounded to float, for r in [0, rows):
  // the row sums of a grouped log-density, in the Sum reduction's order.
  void (*rowSums)(const float* x, int64_t rows, int64_t inner, float* out);
  // One SG-MCMC update (SgmcmcArgs) over elements [begin, end), rounded like
  // the library's composite of Add, Sub, Multiply, Square, Sqrt, Reciprocal
  // and Exp kernels.
  void (*sgmcmc)(const SgmcmcArgs& a, int64_t begin, int64_t end);
  // A planar flow step's parameters (planarStep in log_density.cc) from w and
  // uHat [dim]: u [dim] and p = {w·û, w·u, ‖w‖², c, sigmoid(w·û)}, w·u =
  // softplus(w·û) − 1, c = (w·u − w·û)/‖w‖², u = û + c·w, rounded as the
  // composite's Multiply, Sum, Softplus, Sub, RealDiv and Add round (u is
  // scratch for the products on the way).
  void (*planarParams)(const float* w, const float* uHat, int64_t dim, float* u, float* p);
  // Rows [r0, r1) of x [rows, dim] through the step: h = tanh(x·w + b) (the
  // dot product in double), y = x + u·h, ld = log1p((1 − h²)·wu).
  void (*planarRows)(const float* x, const float* w, const float* u, float wu, float b, float* y,
                     float* ld, int64_t dim, int64_t r0, int64_t r1);
  // Rows [r0, r1) of the step's gradient for upstream dy [rows, dim], dl
  // [rows]: writes dx and adds the rows' terms of the sums over rows, in
  // double, to du[dim] (h·dy), dwx[dim] (da·x), s[0] (da) and s[1] (h'·dl/D).
  void (*planarRowsGrad)(const float* dy, const float* dl, const float* x, const float* w,
                         const float* u, float wu, float b, float* dx, double* du, double* dwx,
                         double* s, int64_t dim, int64_t r0, int64_t r1);
  // Rows [r0, r1) of an RBF kernel matrix [rows, m] (gp.cc): kh holds the
  // products xs_i·ys_c on entry; with raw = (xx_i + yy_c) − 2·xs_i·ys_c,
  // writes k = exp(−½·relu(raw)) and kh = k·step(raw), rounded as the
  // composite's Add, Multiply, Sub, Relu, Multiply, Exp, Step and Multiply.
  void (*rbfRows)(const float* xx, const float* yy, float* k, float* kh, int64_t m, int64_t r0,
                  int64_t r1);
  // out = a + b·s over [begin, end), the product rounded to float first
  // (Multiply, then Add).
  void (*addScaled)(const float* a, const float* b, float s, float* out, int64_t begin,
                    int64_t end);
  // Fused Adam, tfjs' arithmetic order, over [begin, end).
  void (*adam)(float* p, float* m, float* v, const float* g, int64_t begin, int64_t end, float b1,
               float oneMinusB1, float b2, float oneMinusB2, float bc1, float bc2, float eps,
               float negLr);
};

}  // namespace zsn

namespace zsn_avx2 {
const zsn::KernelTable* table();
}
namespace zsn_base {
const zsn::KernelTable* table();
}
