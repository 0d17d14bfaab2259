#!/bin/sh
# Campaign scaling with synthetic sleeping cells at 1..32 ranks (oversubscribed
# on small machines): makespan / ideal and queue cost per fetch.
# Usage: benchmarks/run_par_scaling.sh BUILD_DIR [RANKS...]
set -eu
build=${1:?usage: run_par_scaling.sh BUILD_DIR [RANKS...]}
shift
ranks=${*:-"1 2 4 8 16 32"}
export OMPI_MCA_rmaps_base_oversubscribe=1   # more ranks than cores: cells sleep
for n in $ranks; do
  mpirun -np "$n" "$build/benchmarks/bench_par" --benchmark_filter='Scaling/200/|QueueNext' \
    --benchmark_format=json --benchmark_out="par_scaling_np$n.json" --benchmark_out_format=json \
    --benchmark_format=console
done
