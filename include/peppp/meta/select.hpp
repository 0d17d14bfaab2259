#pragma once
/// @file select.hpp
/// @brief Meta-test on a new task (METHOD.md F6, F9): choose the
/// configurations to measure by ED-MF under the memory cap, then predict
/// every configuration's error from the measured ones, with an uncertainty
/// from the least-squares variance, the estimated Pareto frontier and the
/// recommended configuration under the budget. The training in between is
/// the caller's (the ranks train the chosen cells). Not collective.

#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/io/selection.hpp"

namespace peppp::par {

/// The first `count` configurations ED-MF (F6.5) measures on a task whose
/// memory per configuration (MiB) is `memory`, learnt from the complete
/// meta-training matrix `train` (n×d), only among configurations with
/// memory ≤ `cap`. Pick order.
/// @throws InputError when fewer than `count` configurations fit the cap, or
///         `count` < `rank`, or the shapes disagree.
std::vector<int> choose_configurations(const Eigen::MatrixXd& train, const Eigen::VectorXd& memory, int count,
                                       double cap, int rank);

/// Predict the task's errors from `measured` (errors of `chosen`, same
/// order; NaN entries, e.g. failed cells, are left out of the fit) and fill
/// a Selection: predicted error ê = Yᵀx̂ (F6.2), its standard deviation
/// sqrt(s²·y_jᵀ(Y_S Y_Sᵀ)⁻¹y_j) with s² the residual variance of the fit
/// (or, with no residual degree of freedom, the rank-k residual variance
/// of `train`), the estimated frontier, and the F9.1 pick under `budget`.
/// @throws InputError when the budget is below every configuration or fewer
///         than `rank` measurements are finite.
io::Selection predict_selection(const std::vector<std::string>& config, const Eigen::MatrixXd& train,
                                const Eigen::VectorXd& memory, const std::vector<int>& chosen,
                                const std::vector<double>& measured, double cap, double budget, int rank);

}  // namespace peppp::par
