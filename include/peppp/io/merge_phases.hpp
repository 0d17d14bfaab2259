#pragma once
/// @file merge_phases.hpp
/// @brief The phases of `io::merge_campaigns` (peppp/io/merge.hpp), one
/// function each, in the order it runs them: the checks of the inputs, the
/// rows and configurations of the output, its shape, its cells and its
/// attributes. Each can be called (and tested) alone on inputs built in
/// memory; `merge_campaigns` is their composition. Rules: docs/merge.md.
/// Not collective. Every refusal is an InputError with one line starting
/// "merge: ", naming the files, the row, the cell and the value.

#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "peppp/io/campaign.hpp"
#include "peppp/io/merge.hpp"

namespace peppp::io::merge_phase {

/// A row of the output: its identity (task, model, learning rate) and the
/// (input, row in it) pairs that hold it, in input order.
struct Row {
  std::string task, model;
  double learning_rate = kNcNaN;
  std::vector<std::pair<std::size_t, std::size_t>> sources;
};

/// The rows of the output, first appearance first, and for each input the
/// output row of each of its rows (`out_row[k][t]`).
struct Rows {
  std::vector<Row> rows;
  std::vector<std::vector<std::size_t>> out_row;
};

/// What a configuration label means: its bit columns (A exponent, A
/// mantissa, B exponent, B mantissa) and block columns (A block size, A
/// scale bits, B block size, B scale bits; 1 / 0 when a file lacks them).
using ConfigBits = std::tuple<int, int, int, int, int, int, int, int>;

/// Each label's meaning and the first input that has it.
using ConfigMeanings = std::map<std::string, std::pair<ConfigBits, std::size_t>>;

/// The shape of the output beyond its rows and configurations.
struct Shape {
  std::vector<std::string> models;  ///< distinct row models, first appearance first
  std::vector<double> rates;        ///< distinct row learning rates (equal to 17 digits), first first
  bool models_vary = false, rates_vary = false;
  std::size_t replicates = 1;       ///< R: the largest total of a row's replicates over its inputs
  std::vector<int> epochs;          ///< the per-epoch record kept (empty when an input has none)
  /// A row campaign (`row_task`, `row_model`, `row_learning_rate`) rather than plain task rows.
  bool row_campaign() const { return models_vary || rates_vary; }
};

/// One input's share of an output cell: input `k`, cell index `i` in it.
struct CellPart {
  std::size_t k = 0, i = 0;
};

/// Phase 1: synthetic and real inputs never mix; every input finished (no
/// planned cell). @throws InputError naming the file(s).
void check_inputs(const std::vector<MergeInput>& in);

/// Phase 2: the output rows, by identity (task, model, learning rate), first
/// appearance first. @throws InputError when one input holds a row twice.
Rows match_rows(const std::vector<MergeInput>& in);

/// Phase 3: one training protocol: every setting (`is_merge_setting`) alike
/// in every two inputs that record it, and the same epochs. @throws InputError
/// naming the setting, both values and files (and a shared row when there is one).
void check_settings(const std::vector<MergeInput>& in, const Rows& rows);

/// Phase 4: each configuration label's meaning. @throws InputError when a
/// label means other bits in another input.
ConfigMeanings config_meanings(const std::vector<MergeInput>& in);

/// Phase 5: the output's configurations, in the first input's order: the
/// same set in every input (`same`), or their intersection (`common`; one
/// note per input that loses some, or one saying none was dropped).
/// @throws InputError on a difference (`same`) or an empty intersection.
std::vector<std::string> output_configs(const std::vector<MergeInput>& in, MergeConfigs configs,
                                        std::vector<std::string>* notes);

/// Phase 6: no row from two inputs of the same campaign seed (the same
/// trainings twice). @throws InputError naming the row, the files and the seed.
void check_seeds(const std::vector<MergeInput>& in, const Rows& rows);

/// Phase 7: a task name means one task: its task columns agree wherever
/// two inputs have them. @throws InputError naming the task, column and values.
void check_task_columns(const std::vector<MergeInput>& in);

/// Phase 8: models, rates, R and the per-epoch record of the output (a note
/// when an input has no per-epoch record and another has). @throws
/// InputError when the rows of a row campaign lack a model or a rate.
Shape output_shape(const std::vector<MergeInput>& in, const Rows& rows, std::vector<std::string>* notes);

/// Phase 9: the output's rows (labels, row variables, `row_source`) and
/// configuration columns, allocated (cells NaN, status 0). @throws
/// InputError when two rows would get the same label.
Campaign output_skeleton(const std::vector<MergeInput>& in, const Rows& rows, const Shape& shape,
                         const ConfigMeanings& meanings, const std::vector<std::string>& configs);

/// Phase 10: task columns of each output row from the first input holding
/// it that has the column.
void fill_task_columns(const std::vector<MergeInput>& in, const Rows& rows, Campaign& out);

/// Phase 11, one cell: output cell `o` (configuration `label`) of `out` (its
/// R and E set) from `parts` (the inputs holding its row, input order):
/// memory (must agree), replicates concatenated, sampling probability, and
/// status / error / error_std / final_loss / train_seconds / per-epoch
/// values: one result as it is, several combined as `set_cell_replicates`
/// does. @throws InputError when the memory differs.
void merge_cell(const std::vector<MergeInput>& in, const std::vector<CellPart>& parts, const std::string& label,
                std::size_t o, Campaign& out);

/// Phase 11: every cell of `out` (`merge_cell`).
void merge_cells(const std::vector<MergeInput>& in, const Rows& rows, const std::vector<std::string>& configs,
                 Campaign& out);

/// Phase 12: optional columns that no input has are left absent (cleared).
void drop_absent_columns(const std::vector<MergeInput>& in, Campaign& out);

/// Phase 13: global attributes: what every input shares (but run-specific
/// ones), each input's own as `source_<k>_*`, and the recomputed ones
/// (campaign_name, merge_sources, synthetic, replicates, planned_cells,
/// complete, model, learning_rate(s)).
void merge_attributes(const std::vector<MergeInput>& in, const Shape& shape, Campaign& out);

}  // namespace peppp::io::merge_phase
