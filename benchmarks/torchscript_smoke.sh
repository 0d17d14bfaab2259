#!/bin/sh
# One tiny run of bench_nn's BM_TorchScriptOverhead (issue #29) so it does not
# rot: scripts the zoo's small-cnn (examples/models/export.py, 1 channel, 10
# classes, 32 px), times a few paired quantized steps against the C++ net and
# checks that the JSON reports the ratio. Exit 77 (skipped) without a Python
# that has torch.
# Usage: torchscript_smoke.sh BENCH_NN SOURCE_DIR WORK_DIR
set -u
bench=$1 src=$2 work=$3
py=""
for p in "${PEPPP_PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$p" ] && "$p" -c "import torch" >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then echo "skipped: no Python with torch (set PEPPP_PYTHON)"; exit 77; fi
mkdir -p "$work" || exit 1
net="$work/small-cnn-1-10-32.pt"
"$py" "$src/examples/models/export.py" small-cnn --channels 1 --classes 10 --resolution 32 --out "$net" || exit 1
out=$(PEPPP_BENCH_TORCHSCRIPT="$net" PEPPP_BENCH_PAIRS=3 "$bench" --benchmark_filter=BM_TorchScriptOverhead \
        --benchmark_format=json) || exit 1
echo "$out"
echo "$out" | grep -q '"error_occurred"' && { echo "BM_TorchScriptOverhead reported an error"; exit 1; }
echo "$out" | grep -q '"ratio"' || { echo "BM_TorchScriptOverhead reported no ratio"; exit 1; }
exit 0
