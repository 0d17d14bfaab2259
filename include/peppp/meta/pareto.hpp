#pragma once
/// @file pareto.hpp
/// @brief Pareto frontiers between memory and error, their quality metrics
/// (METHOD.md F8), and the final-configuration rules (F9).
///
/// Both objectives are minimized. Memory is in MiB unless normalized
/// (`m / max m`, per task, F8.2); errors are misclassification ratios.

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace peppp::meta {

/// A point of the (memory, error) plane.
struct Point2 {
  double memory = 0;
  double error = 0;
};

/// Pareto-optimal flags (1 = optimal) by the definition (F8.1), O(d²):
/// j is optimal unless some other point is ⪯ it and differs from it.
/// Exact duplicates are all optimal. Inputs must have equal length.
std::vector<std::uint8_t> pareto_mask(const Eigen::VectorXd& memory, const Eigen::VectorXd& error);

/// The same flags by an O(d log d) sweep over memory.
std::vector<std::uint8_t> pareto_mask_sweep(const Eigen::VectorXd& memory, const Eigen::VectorXd& error);

/// `m / max(m)` (F8.2). Throws InputError unless every entry is finite and > 0.
Eigen::VectorXd normalize_memory(const Eigen::VectorXd& memory);

/// The points j with mask[j] = 1.
std::vector<Point2> frontier_points(const Eigen::VectorXd& memory, const Eigen::VectorXd& error,
                                    const std::vector<std::uint8_t>& mask);

/// Area dominated by `points` inside the box up to `reference` (F8.4);
/// points beyond the reference contribute nothing.
double hypervolume(const std::vector<Point2>& points, Point2 reference = {1.0, 1.0});

/// Convergence (F8.3): mean over the estimated points of the Euclidean
/// distance to the nearest true point. Both sets non-empty.
double convergence(const std::vector<Point2>& true_front, const std::vector<Point2>& estimated_front);

/// |HV(true) − HV(estimated)| with the same reference (F8.4).
double hyperdiff(const std::vector<Point2>& true_front, const std::vector<Point2>& estimated_front,
                 Point2 reference = {1.0, 1.0});

/// ‖estimate − truth‖₂ / ‖truth‖₂ (F8.5).
double relative_error(const Eigen::VectorXd& estimate, const Eigen::VectorXd& truth);

/// Frontier metrics of one task (F8.6): true frontier of (m̃, e), estimated
/// frontier of (m̃, ê) placed at the estimated errors, reference (1, 1).
struct FrontierMetrics {
  double convergence = 0;
  double hyperdiff = 0;
  double relative_error = 0;
  std::vector<std::uint8_t> pareto_true;
  std::vector<std::uint8_t> pareto_estimate;
};
/// All F8 metrics for one task from its memory (MiB), true and estimated errors.
FrontierMetrics frontier_metrics(const Eigen::VectorXd& memory, const Eigen::VectorXd& truth,
                                 const Eigen::VectorXd& estimate);

/// F9.1: the configuration with the lowest predicted error among those with
/// memory ≤ budget (ties: smaller memory, then lower index). Throws
/// InputError when the budget is below every configuration's memory.
int select_configuration(const Eigen::VectorXd& memory, const Eigen::VectorXd& predicted, double budget);

/// F9.2: the random high-memory baseline.
struct HighMemoryBaseline {
  std::vector<int> ties;        ///< {j : m_j = max_{m_k ≤ budget} m_k}
  double memory = 0;            ///< that memory (MiB)
  double expected_error = 0;    ///< mean true error over the ties
};
/// Throws InputError when the budget is below every configuration's memory.
HighMemoryBaseline random_high_memory(const Eigen::VectorXd& memory, const Eigen::VectorXd& error, double budget);

/// Median of all entries (mean of the two middle ones for an even count),
/// the default memory cap (F2). Throws InputError on an empty matrix or NaN.
double median(const Eigen::MatrixXd& values);

/// Median of the finite entries of `values` (mean of the two middle ones for
/// an even count); NaN when none is finite. The one median of the library's
/// statistics (memory caps, cost estimates, per-architecture rows).
double finite_median(std::vector<double> values);

}  // namespace peppp::meta
