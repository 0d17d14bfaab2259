#!/usr/bin/env bash
# The main job: install what is missing, build, and run the demo pipeline
# (measure -> complete -> loocv -> figures) on Fashion-MNIST with 2 MPI ranks.
# Usage: scripts/run-demo.sh [OUTPUT_DIR]      (default results/demo)
# Environment: BUILD_DIR (default build), RANKS (default 2), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
RANKS=${RANKS:-2}
OUT=${1:-results/demo}
scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target peppp_exe
# Open MPI refuses root unless asked; oversubscribe lets RANKS exceed the cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# --resume: a re-run continues an interrupted demo instead of starting over.
mpirun -np "$RANKS" "$BUILD_DIR/bin/peppp" run --config inputs/demo.ini --output-dir "$OUT" --resume
echo "demo: results in $OUT (report: $OUT/report.md)"
