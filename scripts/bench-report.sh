#!/usr/bin/env bash
# Run the benchmark suites on this machine and rewrite the generated summary
# of BENCHMARKS.md (every target next to its limit, measured in the same run,
# with the machine, the load and the commands). Run it on an idle machine.
#
#   scripts/bench-report.sh BUILD_DIR [--update BENCHMARKS.md] [--out DIR] [--quick] [--skip quant,nn,meta,loocv,campaign]
#
# BUILD_DIR needs the benchmarks (cmake -DPEPPP_BUILD_BENCHMARKS=ON). The
# scaling runs across virtual nodes have their own script
# (benchmarks/run_multinode_scaling.sh, root only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/env python3 "$here/bench_report.py" "$@"
