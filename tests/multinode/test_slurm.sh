#!/bin/bash
# Slurm over the virtual nodes (one slurmctld, one slurmd per node): a
# 2-node x 2-task measure job equals 1 rank and binds one (fake) GPU per task
# on each node; a 2-node job interrupted by USR1 requeues itself and resumes
# to a complete campaign with every cell trained once.
source "$(dirname "$0")/lib.sh"
W=$(workdir slurm)
cd "$PEPPP_SOURCE_DIR"
trap '"$CLUSTER" slurm down --state "$PEPPP_CLUSTER_DIR" > /dev/null' EXIT
eval "$("$CLUSTER" slurm up --state "$PEPPP_CLUSTER_DIR")"
wait_job_gone() {
  local id=$1 t=0
  while squeue -h -j "$id" 2>/dev/null | grep -q .; do
    sleep 1; t=$((t + 1)); [ $t -lt 240 ] || fail "job $id still in the queue after 240 s"
  done
}
single "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/ref.nc" --quiet --synthetic.seconds 0.01 --synthetic.spread 0 \
  || fail "reference run failed"

# 1. As on a GPU cluster: sbatch --nodes=2 --ntasks-per-node=2 --gpus-per-task=1.
timeout 240 sbatch --wait --nodes=2 --ntasks-per-node=2 --gpus-per-task=1 --output="$W/job.out" \
  jobs/slurm/measure.sbatch inputs/ci.ini "$W/slurm.nc" --synthetic.seconds 0.05 --synthetic.spread 0 \
  || { cat "$W/job.out"; fail "2-node sbatch job failed"; }
grep -v "cells (" "$W/job.out"
grep -q "on 4 ranks" "$W/job.out" || fail "the job did not get 2 x 2 = 4 ranks"
same_files "$W/ref.nc" "$W/slurm.nc"
for node in nodeA nodeB; do
  lines=$(grep "placement: host $node," "$W/job.out" || true)
  [ "$(echo "$lines" | grep -c .)" = 2 ] || fail "$node: expected 2 ranks, got: $lines"
  echo "$lines" | grep -q "node-local rank 0 of 2" && echo "$lines" | grep -q "node-local rank 1 of 2" \
    || fail "$node: node-local ranks are not 0 and 1: $lines"
  # One GPU per task, a different one for each task of the node.
  gpus=$(echo "$lines" | sed -n 's/.*CUDA_VISIBLE_DEVICES=\([0-9]*\),.*/\1/p' | sort -u | wc -l)
  [ "$gpus" = 2 ] || fail "$node: the 2 tasks do not see 2 different GPUs: $lines"
done

# 2. A requeued 2-node job resumes.
id=$(sbatch --parsable --nodes=2 --ntasks-per-node=2 --output="$W/requeue.out" \
       jobs/slurm/measure.sbatch inputs/ci.ini "$W/requeue.nc" --synthetic.seconds 1.5 --synthetic.spread 0 --run.progress_interval 1)
for _ in $(seq 1 200); do
  grep -qE "^measure: ([89]|[1-9][0-9])/36 cells" "$W/requeue.out" 2>/dev/null && break
  sleep 0.2
done
scancel --signal=USR1 --batch "$id"
wait_job_gone "$id"
grep -v "cells (" "$W/requeue.out"
grep -q "requeueing job $id" "$W/requeue.out" || fail "the job did not requeue itself"
grep -q "restart 1" "$W/requeue.out" || fail "the job did not run again after the requeue"
summary=$(grep "^measure: 36 measured" "$W/requeue.out" | tail -1) || fail "the requeued job did not complete"
from=$(echo "$summary" | sed -n 's/.*(\([0-9]*\) from journals, \([0-9]*\) trained now).*/\1/p')
[ "$from" -gt 0 ] || fail "the requeued run took nothing from the journals: $summary"
# Every cell once: the interrupted run's trained cells plus the rerun's equal 36.
first=$(grep -m1 "from journals" "$W/requeue.out" | sed -n 's/.*(\([0-9]*\) from journals, \([0-9]*\) trained now).*/\2/p')
[ "$from" -ge "${first:-0}" ] || fail "cells finished before the requeue are missing from the journals"
same_files "$W/ref.nc" "$W/requeue.nc"
echo "PASS: 2-node Slurm jobs equal 1 rank, bind one GPU per task, and a requeued 2-node job resumes"
