#pragma once
// What the stage tests share: a small synthetic campaign (no catalog, no
// training: timed dummy cells) and NaN-aware comparison.
#include <cmath>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::test {

/// A measure job of `tasks` synthetic rows × 8 configurations, every cell
/// planned, cells of about 2 ms; failures and divergence as given.
inline stage::MeasureJob synthetic_measure_job(const std::string& output, int tasks = 3, double fail = 0,
                                               double diverge = 0.2) {
  stage::MeasureJob job;
  for (int t = 0; t < tasks; ++t) job.campaign.synthetic_tasks.push_back("t" + std::to_string(t));
  for (int ae : {3, 4, 5, 6})
    for (int bm : {7, 9}) job.campaign.configs.push_back({FloatFormat(ae, 3), FloatFormat(8, bm)});
  job.campaign.scheme = meta::Scheme::full;
  job.campaign.identity = "stage-test\n";
  job.output = output;
  job.resources.device = "cpu";
  job.resources.threads = 1;
  job.synthetic.seconds = 0.002;
  job.synthetic.fail_fraction = fail;
  job.synthetic.diverge_fraction = diverge;
  job.attributes.text["title"] = "stage test";
  job.attributes.number["synthetic"] = 1;
  return job;
}

/// Equal element by element, NaN equal to NaN.
inline bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

/// How many entries of `status` are `s`.
inline std::int64_t count_status(const std::vector<std::uint8_t>& status, CellStatus s) {
  std::int64_t n = 0;
  for (auto v : status) n += v == static_cast<std::uint8_t>(s);
  return n;
}

}  // namespace peppp::test
