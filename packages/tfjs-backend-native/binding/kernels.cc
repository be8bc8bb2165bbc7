// The kernel table of one build (ZSN_NS): every kernel of the kernels_*.cc
// files, in KernelTable's order.
#include "kernels_impl.h"

namespace ZSN_NS {
namespace {

const KernelTable kTable = {binary,       compare,          logical,
                            predicate,    select,           unary,
                            biasAct,      actGrad,          colSum,
                            reduce,       normalLogProb,    normalLogProbGrad,
                            expNeg,       bernoulliLogProb, bernoulliLogProbGrad,
                            normalSample, countsDot,        countsDotGrad,
                            sum,          rowSums,          sgmcmc,
                            planarParams, planarRows,       planarRowsGrad,
                            rbfRows,      addScaled,        adam};

}  // namespace

const KernelTable* table() { return &kTable; }

}  // namespace ZSN_NS
