#pragma once
/// @file campaign_errors.hpp
/// @brief Which completion and which noise source for a campaign, in one
/// place for the stages that complete it (`complete`), meta-train on it
/// (`select`) or summarise it (`info`): its measured error matrix, the
/// SoftImpute options its sampling calls for, and its measurement noise
/// (replicates when it has them, else the residual of the low-rank fit).
/// Not collective.

#include <cstdint>

#include <Eigen/Core>

#include "peppp/io/campaign.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/noise.hpp"

namespace peppp::stage {

/// The n×d errors SoftImpute sees: `error` where the status is measured,
/// NaN elsewhere (`meta::measured_errors`).
/// @throws InputError when a measured cell's error is not finite.
Eigen::MatrixXd observed_errors(const io::Campaign& c);

/// The n×d memory (MiB) of every cell.
Eigen::MatrixXd campaign_memory_matrix(const io::Campaign& c);

/// The completion options this campaign calls for: default options, with
/// inverse-probability weights (F4.3) when `weighted` and the campaign was
/// sampled non-uniformly (`sampling_scheme` = nonuniform, with its
/// `sampling_probability`). The caller sets λ, the sweep, the centering and
/// the seed of its own use. The configuration labels are passed on (per-role
/// labels select the feature completion, docs/feature-completion.md).
meta::CompletionOptions completion_options(const io::Campaign& c, bool weighted);

/// The pooled noise of the campaign's replicates (`meta::replicate_noise`
/// over cells × replicates); source "none" and NaN when no cell has two
/// measured replicates (or the campaign records none).
meta::NoiseEstimate campaign_replicate_noise(const io::Campaign& c);

/// The noise level of campaign `c` (meta/noise.hpp): pooled over the cells
/// with ≥ 2 measured replicates when there are any, else the residual of the
/// rank-`rank` fit `estimate` over the `observed` (n×d, NaN = unobserved)
/// entries (`free_columns`: meta::residual_noise). Written by `complete` as
/// completed.nc's `noise_std`, `noise_source` and `noise_dof`.
meta::NoiseEstimate campaign_noise(const io::Campaign& c, const Eigen::MatrixXd& observed,
                                   const Eigen::MatrixXd& estimate, int rank, int free_columns = 0);

/// The noise level of campaign `c` on its own: from replicates, else the
/// residual of a quick completion (λ by cross-validation, no sweep, no
/// weights, `seed`: what `peppp complete` with its default seed reports on
/// a uniformly sampled campaign).
/// @throws Error when neither is possible (e.g. a task with no measured cell).
meta::NoiseEstimate campaign_noise(const io::Campaign& c, std::uint64_t seed = 1);

/// The meta-training matrix of a selection: the campaign's measured errors,
/// completed by centered SoftImpute (no sweep, weighted when sampled
/// non-uniformly, `seed`) when cells are missing; `completion` (when given)
/// receives that completion and is left alone when nothing was missing.
Eigen::MatrixXd meta_training_errors(const io::Campaign& c, std::uint64_t seed,
                                     meta::CompletionResult* completion = nullptr);

}  // namespace peppp::stage
