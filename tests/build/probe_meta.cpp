// Compile probe (tests/build): a meta translation unit, compiled with the
// meta layer's usage requirements only. With PEPPP_PROBE_FORBIDDEN it also
// includes <mpi.h>, which the meta layer must not reach (DESIGN.md §2).
#include "peppp/meta/pareto.hpp"
#ifdef PEPPP_PROBE_FORBIDDEN
#include <mpi.h>
#endif

int peppp_probe_meta() { return 0; }
