// The broadcast plan of a binary op: the two operands' shapes reduced to one
// loop nest over the output with a stride per operand. Built here (addon
// side, once per call) and walked by the kernels of both builds.
#pragma once

#include <cstdint>

namespace zsn {

constexpr int kMaxRank = 8;

// A broadcast iteration plan: out[i] = f(a[ia], b[ib]) over `rank` collapsed
// dimensions (innermost last) with per-operand element strides (0 where an
// operand is broadcast).
struct BroadcastPlan {
  int rank;
  int64_t dims[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
  int64_t size;
};

// Returns false when the shapes do not broadcast or the rank is too large.
bool makeBroadcastPlan(const int32_t* aShape, int aRank, const int32_t* bShape, int bRank,
                       BroadcastPlan* plan);

}  // namespace zsn
