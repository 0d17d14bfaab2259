# Shared by the peppp job scripts: environment, the peppp executable, and
# signal forwarding with requeue. Sourced, not run.

# Site settings: $PEPPP_ENV, else env.sh beside the scripts, if present.
_peppp_dir=${PEPPP_JOBS_DIR:-${SLURM_SUBMIT_DIR:-$PWD}/jobs/slurm}
if [ -n "${PEPPP_ENV:-}" ]; then
  # shellcheck disable=SC1090
  source "$PEPPP_ENV"
elif [ -f "$_peppp_dir/env.sh" ]; then
  # shellcheck disable=SC1091
  source "$_peppp_dir/env.sh"
fi
PEPPP_EXE=${PEPPP_EXE:-${SLURM_SUBMIT_DIR:-$PWD}/build/bin/peppp}
PEPPP_SRUN_MPI=${PEPPP_SRUN_MPI:-pmix}
[ -x "$PEPPP_EXE" ] || { echo "peppp job: PEPPP_EXE=$PEPPP_EXE is not an executable (set it in env.sh)" >&2; exit 1; }

# Run "srun ... peppp <args>" so that a USR1/TERM sent to this batch shell
# (by --signal=B:USR1@T before the time limit, or scancel --signal=USR1
# --batch) is forwarded to the ranks: peppp then stops taking work, saves
# what exists and exits 3 (incomplete). On 3 the job requeues itself; the
# next run resumes from the journals. Returns peppp's exit code otherwise.
peppp_srun() {
  local rc
  srun --mpi="$PEPPP_SRUN_MPI" "$@" &
  _peppp_srun_pid=$!
  # `wait` returns early (>128) when a trapped signal arrives: wait again
  # for srun itself to finish.
  trap 'echo "peppp job: signal received, asking the ranks to stop" >&2; kill -USR1 $_peppp_srun_pid 2>/dev/null' USR1 TERM
  while true; do
    wait $_peppp_srun_pid && rc=0 || rc=$?
    if kill -0 $_peppp_srun_pid 2>/dev/null; then continue; fi
    break
  done
  trap - USR1 TERM
  return $rc
}

# Requeue this job when peppp said "incomplete" (exit 3).
peppp_requeue_if_incomplete() {
  local rc=$1
  if [ "$rc" -eq 3 ]; then
    echo "peppp job: incomplete (exit 3): requeueing job $SLURM_JOB_ID to resume" >&2
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  exit "$rc"
}
