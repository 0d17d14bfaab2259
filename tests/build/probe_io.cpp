// Compile probe (tests/build): an io translation unit, compiled with the io
// layer's usage requirements only. With PEPPP_PROBE_FORBIDDEN it also
// includes <torch/torch.h>, which the io layer must not reach (DESIGN.md §2).
#include "peppp/io/journal.hpp"
#ifdef PEPPP_PROBE_FORBIDDEN
#include <torch/torch.h>
#endif

int peppp_probe_io() { return 0; }
