#!/usr/bin/env bash
# Campaign scaling across virtual nodes: benchmarks/bench_par (synthetic
# sleeping cells through the real measure driver, queue takes, journal
# appends, the record gather) on 1, 2, 4, ... 64 ranks spread evenly over 1, 2
# and 4 virtual nodes of scripts/local-cluster.sh (ranks on different nodes
# talk over TCP; Open MPI defaults, no --mca osc). Writes one JSON per run,
# a Markdown table, and with --update replaces the generated part of
# BENCHMARKS.md (between the multinode-scaling markers).
#
#   benchmarks/run_multinode_scaling.sh BUILD_DIR [--ranks "1 2 4 8 16 32 64"] [--nodes "1 2 4"]
#                                       [--loocv-ranks "1 2 4 8"] [--out DIR] [--update BENCHMARKS.md]
#
# LOOCV work items (benchmarks/bench_loocv: settings I + IV, all methods, a
# synthetic 40 x 99 matrix, lambda cross-validated in every fold: 560 items
# and 40 setting-IV completions over the same queue) run on --loocv-ranks
# over the same node counts ("" skips them). They are compute: beyond the 2
# cores of this machine extra ranks only share them, so those runs measure
# the distribution's overhead, not a speedup.
#
# Needs root (namespaces). Ranks beyond the cores are oversubscribed: cells
# sleep, so such runs measure coordination cost (queue, fsync, gather,
# wake-ups), not compute. The load average is recorded with every run.
set -euo pipefail
build=${1:?usage: run_multinode_scaling.sh BUILD_DIR [--ranks LIST] [--nodes LIST] [--out DIR] [--update FILE]}
shift
RANKS="1 2 4 8 16 32 64"
NODES="1 2 4"
LOOCV_RANKS="1 2 4 8"
OUT=${PWD}/multinode_scaling
UPDATE=""
FILTER=${PEPPP_SCALING_FILTER:-'CampaignScaling/200/16/|CampaignOrder|JournalAppend|GatherRecords/16/|QueueNext'}
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) RANKS=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --loocv-ranks) LOOCV_RANKS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --update) UPDATE=$2; shift 2 ;;
    *) echo "run_multinode_scaling: unknown option '$1'; allowed: --ranks, --nodes, --loocv-ranks, --out, --update" >&2; exit 1 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
bench=$(cd "$build" && pwd)/benchmarks/bench_par
[ -x "$bench" ] || { echo "run_multinode_scaling: $bench not built (cmake --build $build --target bench_par)" >&2; exit 1; }
bench_loocv=$(cd "$build" && pwd)/benchmarks/bench_loocv
if [ -n "$LOOCV_RANKS" ] && [ ! -x "$bench_loocv" ]; then
  echo "run_multinode_scaling: $bench_loocv not built (cmake --build $build --target bench_loocv), or pass --loocv-ranks \"\"" >&2
  exit 1
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
max_nodes=1
for n in $NODES; do [ "$n" -gt "$max_nodes" ] && max_nodes=$n; done
cluster="$src/scripts/local-cluster.sh"
state="$OUT/cluster"
"$cluster" down --state "$state" > /dev/null 2>&1 || true
trap '"$cluster" down --state "$state" > /dev/null 2>&1 || true' EXIT
"$cluster" up --nodes "$((max_nodes < 2 ? 2 : max_nodes))" --state "$state"
eval "$("$cluster" env --state "$state")"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1
unset OMPI_MCA_btl OMPI_MCA_osc
names=(nodeA nodeB nodeC nodeD nodeE nodeF nodeG nodeH)
cd "$OUT"
# One benchmark run: PREFIX (tag prefix and log label), BINARY, FILTER, RANK
# LIST; every rank count that splits evenly over each node count.
run_all() {
  local prefix=$1 binary=$2 filter=$3 list=$4 nodes ranks per hosts tag load0 load1 t0 i
  for nodes in $NODES; do
    for ranks in $list; do
      [ "$ranks" -ge "$nodes" ] || continue
      [ $((ranks % nodes)) -eq 0 ] || continue
      per=$((ranks / nodes)) hosts=""
      for ((i = 0; i < nodes; i++)); do hosts+="${hosts:+,}${names[$i]}:$per"; done
      tag="${prefix}n${nodes}_r${ranks}"
      load0=$(cut -d' ' -f1 /proc/loadavg)
      t0=$(date +%s)
      echo "== ${prefix:+${prefix%_}: }$ranks ranks on $nodes node(s) ($hosts), load $load0, $(date -u +%H:%M:%S)"
      # Only rank 0 writes the JSON (every rank would open and truncate it).
      OUT_JSON="$OUT/$tag.json" mpirun -x OUT_JSON --host "$hosts" -np "$ranks" /bin/sh -c \
        'if [ "$OMPI_COMM_WORLD_RANK" = 0 ]; then exec "$0" "$@" --benchmark_out="$OUT_JSON" --benchmark_out_format=json; else exec "$0" "$@"; fi' \
        "$binary" --benchmark_filter="$filter" --benchmark_format=console \
        > "$OUT/$tag.log" 2>&1 || { tail -20 "$OUT/$tag.log"; echo "run_multinode_scaling: $tag failed" >&2; exit 1; }
      load1=$(cut -d' ' -f1 /proc/loadavg)
      echo "{\"nodes\": $nodes, \"ranks\": $ranks, \"load_before\": $load0, \"load_after\": $load1, \"wall_s\": $(( $(date +%s) - t0 ))}" > "$OUT/$tag.meta.json"
      grep -E "^BM_|efficiency" "$OUT/$tag.log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-200 || true
    done
  done
}
run_all "" "$bench" "$FILTER" "$RANKS"
# LOOCV work items over the same nodes.
run_all loocv_ "$bench_loocv" 'BM_LoocvSettingsIandIV/tasks:40/cv_lambda:1' "$LOOCV_RANKS"
/usr/bin/python3 "$here/scaling_table.py" "$OUT" ${UPDATE:+--update "$UPDATE"}
