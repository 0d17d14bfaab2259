#!/usr/bin/env bash
# Install what is missing, configure, build, and run every test (unit, MPI at
# 1/2/3 ranks, integration, install-consumer, benchmark smoke runs, Slurm when
# present). Usage: scripts/run-tests.sh [extra ctest arguments]
# Environment: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache: paths relative to the checkout, so a clone in another folder reuses
# the objects of an earlier build (the build has no -g; nothing else differs).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
JOBS=${JOBS:-2}
start=$(date +%s)
scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPEPPP_BUILD_TESTS=ON -DPEPPP_BUILD_BENCHMARKS=ON
cmake --build "$BUILD_DIR" -j"$JOBS"
built=$(date +%s)
echo "run-tests: build took $((built - start)) s"
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" "$@" || status=$?
echo "run-tests: tests took $(( $(date +%s) - built )) s (total $(( $(date +%s) - start )) s)"
exit $status
