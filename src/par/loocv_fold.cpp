// The per-item numerics of meta-LOOCV (METHOD.md F10 steps 1-3) on top of
// the meta layer.
#include "peppp/core/error.hpp"
#include "peppp/par/loocv.hpp"

namespace peppp::par {

LoocvEvaluator meta_evaluator(const LoocvSpec&, const LoocvData&) {
  return [](const LoocvItem&) -> LoocvItemResult {
    throw RuntimeError("loocv: this build has no meta-layer acquisition methods yet (issue #7); nothing was computed",
                       true);
  };
}

}  // namespace peppp::par
