#include "peppp/core/version.hpp"

#include "peppp/config.hpp"

namespace peppp {
const char* version() { return PEPPP_VERSION; }
}  // namespace peppp
