#pragma once
// Private to the app layer: the meta-LOOCV keys shared by `peppp loocv`
// (plain names, command line only) and `peppp run` ([loocv] section).
#include <mpi.h>

#include <map>
#include <string>

#include "peppp/app/options.hpp"
#include "peppp/meta/loocv.hpp"

namespace peppp::app {

/// Declare settings, methods, measurements, cap, repeats, rank, lambda,
/// seed, ratio, p_min, p_max under `prefix` ("" or "loocv.").
void add_loocv_options(OptionSet& set, const std::string& prefix, bool in_config);

/// The spec those keys describe (not validated against a campaign yet).
/// @throws InputError naming the key and value.
meta::LoocvSpec loocv_spec_from(const Options& o, const std::string& prefix);

/// The provenance and option attributes of an output file.
std::map<std::string, std::string> output_attributes(const Options& o, MPI_Comm comm, const std::string& command);

}  // namespace peppp::app
