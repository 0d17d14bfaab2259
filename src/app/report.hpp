#pragma once
// Private to the app layer: what the commands print, one section per command
// (the stages return data; the app formats it on rank 0).
#include <string>

#include "peppp/io/selection.hpp"
#include "peppp/stage/info.hpp"

namespace peppp::app {

// ---- select

/// Log the estimated Pareto frontier of `s` (memory, predicted error ± std,
/// measured, p_best; the recommendation marked) and the recommendation line.
void print_selection(const io::Selection& s);

// ---- info

/// The text `peppp info` prints for `info`: kind, dimensions, variables, a
/// campaign's cells, rows, per-epoch record and noise, a completion's
/// noise, the global attributes; or a journal folder's records.
std::string format_info(const stage::FileInfo& info);

}  // namespace peppp::app
