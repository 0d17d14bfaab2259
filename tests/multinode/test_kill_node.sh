#!/bin/bash
# A node dies mid-campaign on 2 nodes x 2 ranks: (1) every rank of nodeB is
# killed, (2) nodeB's network link goes down. Either way `--resume` on the
# remaining node (nodeA, 2 ranks) completes the campaign with nothing lost:
# every cell finished before is taken from the journals (not retrained) and
# the results equal an uninterrupted 1-rank run.
source "$(dirname "$0")/lib.sh"
W=$(workdir kill_node)
cd "$PEPPP_SOURCE_DIR"
# Cells of 1 s: the rest of the campaign after the 8th cell (about 7 s on 4 ranks) outlasts the
# kill command on a loaded machine (with 0.3 s cells the job once finished before nodeB died).
SYN=(--synthetic.seconds 1 --synthetic.spread 0)
single "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/ref.nc" --synthetic.seconds 0.01 --synthetic.spread 0 \
  --quiet || fail "reference run failed"

cleanup() {
  [ -n "${job:-}" ] && kill -9 "$job" 2>/dev/null || true
  "$CLUSTER" link nodeB up --state "$PEPPP_CLUSTER_DIR" 2>/dev/null || true
}
trap cleanup EXIT

# Finished cells as rank 0 reports them (one progress line per update).
finished() { sed -n 's/^measure: \([0-9]*\)\/36 cells.*/\1/p' "$1" | tail -1; }

scenario() {
  local how=$1 out="$W/$1.nc" log="$W/$1.log"
  across "$PEPPP_EXE" measure --config inputs/ci.ini --output "$out" "${SYN[@]}" --run.progress_interval 0 > "$log" 2>&1 &
  job=$!
  for _ in $(seq 1 200); do
    [ "$(finished "$log")" -ge 8 ] 2>/dev/null && break
    kill -0 $job 2>/dev/null || { cat "$log"; fail "$how: the job ended before the failure"; }
    sleep 0.1
  done
  local before; before=$(finished "$log")
  [ "$before" -ge 8 ] && [ "$before" -lt 36 ] || { cat "$log"; fail "$how: $before cells finished, not mid-campaign"; }
  case $how in
    kill) "$CLUSTER" kill nodeB --state "$PEPPP_CLUSTER_DIR" ;;
    link) "$CLUSTER" link nodeB down --state "$PEPPP_CLUSTER_DIR" ;;
  esac
  # Killed ranks: Open MPI aborts the job. A cut link: nothing tells the
  # launcher; nodeA's ranks finish what they can, then wait for nodeB
  # forever. The job is given up (as a scheduler would) once no cell has
  # finished for 5 s, and nodeB counts as dead.
  local last=-1 still=0
  while kill -0 $job 2>/dev/null; do
    sleep 0.5
    local now; now=$(finished "$log")
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; last=$now; fi
    [ $still -ge 10 ] && { kill -TERM $job 2>/dev/null || true; sleep 2; kill -9 $job 2>/dev/null || true; }
  done
  wait $job && rc=0 || rc=$?
  job=
  echo "$how: the 2-node job ended with exit $rc after $(finished "$log") cells reported"
  [ $rc -ne 0 ] || { cat "$log"; fail "$how: the job succeeded although nodeB died"; }
  "$CLUSTER" kill nodeB --state "$PEPPP_CLUSTER_DIR" > /dev/null
  "$CLUSTER" link nodeB up --state "$PEPPP_CLUSTER_DIR"
  # What mpirun left on nodeA dies with it; make sure before resuming.
  for _ in $(seq 1 50); do
    [ "$("$CLUSTER" status --state "$PEPPP_CLUSTER_DIR" | awk '$1 == "nodeA" {print $NF}')" = 0 ] && break
    sleep 0.1
  done
  [ -f "$out" ] && fail "$how: a campaign file was written by the failed job"
  mpi_launch 2 --host nodeA:2 "$PEPPP_EXE" measure --config inputs/ci.ini --output "$out" --resume \
    "${SYN[@]}" > "$W/$how-resume.log" 2>&1 || { cat "$W/$how-resume.log"; fail "$how: resume on nodeA failed"; }
  cat "$W/$how-resume.log"
  local summary; summary=$(grep "^measure: 36 measured" "$W/$how-resume.log") || fail "$how: the resume is incomplete"
  local from trained
  from=$(echo "$summary" | sed -n 's/.*(\([0-9]*\) from journals, \([0-9]*\) trained now).*/\1/p')
  trained=$(echo "$summary" | sed -n 's/.*(\([0-9]*\) from journals, \([0-9]*\) trained now).*/\2/p')
  [ "$from" -ge "$before" ] || fail "$how: $from cells from the journals, but $before had finished before the failure"
  [ $((from + trained)) -eq 36 ] || fail "$how: $from from journals + $trained trained != 36 (a cell trained twice or lost)"
  same_files "$W/ref.nc" "$out"
  echo "PASS ($how): $before cells had finished when nodeB died; resume took $from from the journals, trained $trained"
}

scenario kill
scenario link
echo "PASS: a dead node (ranks killed, or link down) loses nothing: --resume on the other node completes"
