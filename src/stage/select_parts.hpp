#pragma once
// Private to the stage layer: the parts of the select stage (stage/select.hpp).
// select.cpp runs them in order: the problem (inputs checked, prior fitted),
// the measurements (a file, one ED-MF round, or EI-MF rounds through
// meta::SequentialSelection), the selection written at the edge.
#include <mpi.h>

#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/core/format.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/select.hpp"
#include "peppp/stage/select.hpp"

namespace peppp::stage {

/// What a selection decides on: the meta-training side and the new task's memory.
struct SelectProblem {
  io::Campaign campaign;                 ///< the meta-training rows (--rows-model, --epoch applied)
  std::vector<Configuration> configs;    ///< its columns
  Eigen::VectorXd memory;                ///< d: the new task's memory per configuration, MiB
  double cap = 0;                        ///< MiB cap on the measured configurations
  bool cap_given = false;                ///< --cap given (else the budget)
  Eigen::MatrixXd train;                 ///< n×d meta-training errors (completed when cells are missing)
  meta::AcquisitionContext ctx;          ///< embedding, feasible (cap) and decision (budget) sets, prior
  /// How the prior was formed on rows of several models (selection.nc's
  /// `prior_rows`); empty for rows of one model (the all-row prior, no attribute).
  std::string prior_rows;
  const meta::EmbeddingPrior& prior() const { return ctx.prior; }
};

/// The new task's measured configurations in pick order, their errors (NaN:
/// failed) and their EI-MF round (empty when nothing was trained in rounds).
struct SelectMeasurements {
  std::vector<int> configs;
  std::vector<double> errors;
  std::vector<int> rounds;
  /// Per EI-MF round: the expected regret of the recommendation after it and that recommendation.
  std::vector<double> round_regret;
  std::vector<int> round_recommended;
  std::string none_why;  ///< why nothing was measured (empty when something was)
};

/// How a training selection into job.output starts: the picks per round and
/// the cells that earlier runs into the same output trained and this one
/// reuses (after a rerun that changed only --budget, --cap, --measurements
/// or --tolerance, and every rerun of such a run).
struct TrainingStart {
  int per_round = 1;      ///< picks per EI-MF round: the earlier run's, else the rank count
  bool reusing = false;   ///< the cells below are reused and new rounds follow the earlier round files
  int reused_rounds = 0;  ///< the round files <output>.round-1..K.nc reused (new ones are numbered after K)
  std::vector<int> configs;    ///< reused cells: configuration indices, in their files' order
  std::vector<double> errors;  ///< their errors (NaN: diverged)
  /// Their file: K for <output>.round-K.nc, 0 for an ED-MF run's <output>.measured.nc.
  std::vector<int> rounds;
};

/// Check every input of `job` (identical on every rank) and fit the prior. Not collective.
/// @throws InputError naming the option and what is allowed.
SelectProblem select_problem(const SelectJob& job);

/// The measurements of --measured: ED-MF's picks first when --measurements
/// is given with ed-mf, then the file's order. @throws InputError when too few are finite.
SelectMeasurements measurements_from_file(const SelectJob& job, const SelectProblem& p);

/// Train `chosen` (a one-task plan of the new task over those
/// configurations, the measure stage's plan) into `output` and its journal;
/// `chooser` names the picking rule in the log. Collective.
/// @returns the errors of `chosen`, NaN where not measured, the same on every rank.
/// @throws Interrupted when stopped (rerun resumes from the journal).
std::vector<double> train_chosen(const SelectJob& job, const SelectProblem& p, const std::vector<int>& chosen,
                                 const std::string& output, const std::string& chooser, MPI_Comm comm);

/// The EI-MF rounds (meta::SequentialSelection, start.per_round picks per round,
/// the reused cells observed first, one round per earlier round file,
/// round K trained into <output>.round-K.nc), then <output>.measured.nc on
/// the root when something was measured. Logs the expected regret after
/// each round and whether the recommendation changed; trains nothing when
/// the zero-shot pick is already within --tolerance (and says so). Collective.
SelectMeasurements ei_mf_rounds(const SelectJob& job, const SelectProblem& p, const TrainingStart& start,
                                MPI_Comm comm);
/// ED-MF's picks trained in one round into <output>.measured.nc; when
/// `start` reuses earlier cells, they count as the first picks and the
/// picks not yet measured are trained into the next round file. Collective.
SelectMeasurements ed_mf_round(const SelectJob& job, const SelectProblem& p, const TrainingStart& start,
                               MPI_Comm comm);

/// Before the first training of a selection into job.output: the outputs of
/// an earlier one checked against its conditions record (reused when only
/// the budget, cap, measurements or tolerance changed; refused when anything
/// else differs, or when training files have no record), moved aside with
/// --restart, the record written. Collective (the root decides and reads
/// the reused cells; every rank gets the same start).
/// @throws InputError naming what changed and how to proceed.
TrainingStart prepare_training(const SelectJob& job, const SelectProblem& p, MPI_Comm comm);

/// The zero-shot answer: the posterior selection from no measurement (the
/// configuration of lowest prior mean error under the budget). Not collective.
meta::SelectionPrediction zero_shot_selection(const SelectJob& job, const SelectProblem& p);
/// Log the zero-shot pick: its label, memory, predicted error +- std and expected regret.
void log_zero_shot(const SelectProblem& p, const meta::SelectionPrediction& zero);

/// The selection file's content: the prediction `s` with the labels, memory,
/// cap, budget, rounds, the zero-shot pick `zero` and (for the root) the
/// provenance attributes.
io::Selection selection_record(const SelectJob& job, const SelectProblem& p, const SelectMeasurements& m,
                               const meta::SelectionPrediction& s, const meta::SelectionPrediction& zero);

/// A number as select's messages write it: up to 12 significant digits ("%.12g"), or `digits` decimals.
std::string text_g12(double v);
std::string text_fixed(double v, int digits);

}  // namespace peppp::stage
