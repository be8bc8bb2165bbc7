// makeBroadcastPlan (broadcast.h). Part of the addon target, not of the two
// kernel builds: the plan is made once per call, on the calling thread.
#include "broadcast.h"

#include <algorithm>

namespace zsn {

bool makeBroadcastPlan(const int32_t* aShape, int aRank, const int32_t* bShape, int bRank,
                       BroadcastPlan* plan) {
  const int rank = std::max(aRank, bRank);
  if (rank > kMaxRank) return false;
  int64_t od[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int64_t strideA = 1, strideB = 1, size = 1;
  for (int i = rank - 1; i >= 0; --i) {
    const int ai = i - (rank - aRank), bi = i - (rank - bRank);
    const int64_t da = ai >= 0 ? aShape[ai] : 1;
    const int64_t db = bi >= 0 ? bShape[bi] : 1;
    if (da != db && da != 1 && db != 1) return false;
    const int64_t d = da == 1 ? db : da;
    od[i] = d;
    sa[i] = (da == 1) ? 0 : strideA;
    sb[i] = (db == 1) ? 0 : strideB;
    strideA *= da;
    strideB *= db;
    size *= d;
  }
  // Drop size-1 dims, merge neighbours whose strides chain for both operands.
  int r = 0;
  for (int i = 0; i < rank; ++i) {
    if (od[i] == 1) continue;
    if (r > 0 && plan->sa[r - 1] == sa[i] * od[i] && plan->sb[r - 1] == sb[i] * od[i]) {
      plan->dims[r - 1] *= od[i];
      plan->sa[r - 1] = sa[i];
      plan->sb[r - 1] = sb[i];
      continue;
    }
    plan->dims[r] = od[i];
    plan->sa[r] = sa[i];
    plan->sb[r] = sb[i];
    ++r;
  }
  if (r == 0) {
    plan->dims[0] = 1;
    plan->sa[0] = 0;
    plan->sb[0] = 0;
    r = 1;
  }
  plan->rank = r;
  plan->size = size;
  return true;
}

}  // namespace zsn
