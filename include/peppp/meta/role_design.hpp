#pragma once
/// @file role_design.hpp
/// @brief The sparse-design sampling plan of per-role campaigns
/// (`sampling.scheme = design`, docs/feature-completion.md "Sparse design"):
/// every uniform configuration for every task, plus per task a fraction of
/// the mixed (per-role) configurations chosen greedily so that each
/// role-format level appears about equally often within the task and
/// across tasks. Deterministic in the seed.

#include <cstdint>
#include <string>
#include <vector>

namespace peppp::meta {

/// The design mask, row-major n·d (`mask[t*d + j]` = 1: task t measures
/// configuration j). Per task, `round(ratio · m)` of the m mixed labels
/// (those with `[`) are chosen one at a time: the candidate whose role-format
/// levels (Format A of body, first, last, attention, norm and Format B) are
/// the least used so far in this task, ties broken by the least used across
/// the tasks already planned, then by a seeded random order per task.
/// Uniform labels are always measured.
/// @throws InputError on an unparsable label (naming it), n < 1 or a ratio
///         outside [0, 1].
std::vector<std::uint8_t> sample_role_design(const std::vector<std::string>& labels, int n, double ratio,
                                             std::uint64_t seed);

}  // namespace peppp::meta
