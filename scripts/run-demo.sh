#!/usr/bin/env bash
# The main job: install what is missing, build, and run the demo on
# Fashion-MNIST with 2 MPI ranks, in three parts (about 7 minutes after the build
# on 2 cores):
#   1. a small fresh campaign over the MPI ranks: peppp run --config inputs/demo.ini
#      (measure a 25 % sample of 16 tasks x 15 configurations -> complete -> loocv);
#   2. meta-LOOCV on the shipped reference matrix (24 tasks x 99 configurations,
#      every cell measured twice): settings I and IV, 3-10 measurements, every method;
#   3. peppp select for a task that is not in the reference (cold start: no campaign
#      given), then the whole row of that task measured, so the pick can be judged.
# Figures and tables: OUTPUT_DIR/figures/ (scripts/plot_demo.py).
# Usage: scripts/run-demo.sh [OUTPUT_DIR]      (default results/demo)
# Environment: BUILD_DIR (default build), RANKS (default 2), JOBS (default 2).
# A rerun resumes: finished parts are kept, interrupted training continues.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache: paths relative to the checkout, so a clone in another folder reuses
# the objects of an earlier build (the build has no -g; nothing else differs).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
RANKS=${RANKS:-2}
OUT=${1:-results/demo}
scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target peppp_exe
# Open MPI refuses root unless asked; oversubscribe lets RANKS exceed the cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
PEPPP="$BUILD_DIR/bin/peppp"
REF=inputs/reference/fashion-small-cnn.nc
NEW_TASK=inputs/tasks/fashion-new.ini:pullover-coat-shirt   # a one-task catalog
BUDGET=0.53   # MiB: about the median memory of a 14-px 3-class task (half the 99 configurations fit)
mkdir -p "$OUT/reference" "$OUT/new-task" "$OUT/figures"
step() { echo; echo "=== demo $1 ($(date +%T))"; }

step "1/3: a fresh campaign on $RANKS ranks (measure -> complete -> loocv)"
mpirun -np "$RANKS" "$PEPPP" run --config inputs/demo.ini --output-dir "$OUT/campaign" --resume --figures false

step "2/3: meta-LOOCV on the reference matrix ($REF)"
if [[ ! -s "$OUT/reference/loocv.nc" ]]; then
  mpirun -np "$RANKS" "$PEPPP" loocv --campaign "$REF" --settings I,IV --measurements 3,4,5,6,8,10 \
    --cap task-median --output "$OUT/reference/loocv.nc"
else
  echo "kept $OUT/reference/loocv.nc"
fi

step "3/3: select for the new task ${NEW_TASK#*:} (not in the reference; cold start), budget $BUDGET MiB"
mpirun -np "$RANKS" "$PEPPP" select --task "$NEW_TASK" --budget "$BUDGET" --measurements 5 \
  --output "$OUT/new-task/selection.nc" --resume
echo "--- and the whole row of the new task, measured afterwards to judge the pick (99 cells, 1 replicate)"
mpirun -np "$RANKS" "$PEPPP" measure --config inputs/reference/fashion-small-cnn.ini \
  --campaign.tasks "$(pwd)/${NEW_TASK%%:*}" --train.replicates 1 --output "$OUT/new-task/row.nc" --resume

step "figures"
PY=""
for p in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [[ -n "$p" ]] && "$p" -c "import numpy, matplotlib" 2>/dev/null; then PY=$p; break; fi
done
if [[ -n "$PY" ]]; then
  "$PY" scripts/plot_demo.py --loocv "$OUT/reference/loocv.nc" --selection "$OUT/new-task/selection.nc" \
    --row "$OUT/new-task/row.nc" --output-dir "$OUT/figures" | tee "$OUT/figures/tables.md"
else
  echo "python3 with numpy and matplotlib not found: figures skipped"
fi
echo "demo: results in $OUT (figures and tables: $OUT/figures)"
