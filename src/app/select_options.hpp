#pragma once
// Private to the app layer: the options of `peppp select`, each key declared
// once and bound to a field of SelectArgs (cmd_select.cpp runs the command).
#include <string>

#include "commands.hpp"
#include "peppp/stage/select.hpp"

namespace peppp::app {

/// What `peppp select`'s options fill.
struct SelectArgs {
  CampaignArgs campaign;   ///< the new task's model and [train] settings, [run] resources
  stage::SelectJob job;    ///< budget, measurements, acquisition, ... bound directly
  std::string campaign_path, task, measured;
};

/// Declare select's keys into a new option set, bound to `a`.
OptionSet declare_select(SelectArgs& a);

}  // namespace peppp::app
