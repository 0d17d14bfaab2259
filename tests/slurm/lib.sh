# Helpers for the Slurm tests (sourced).
set -euo pipefail
: "${SLURM_CONF:?}" "${PEPPP_EXE:?}" "${PEPPP_SOURCE_DIR:?}"
# mpi_launch N ...: the test helper's launcher and MPI environment (oversubscription, root).
source "$PEPPP_SOURCE_DIR/tests/support/mpi_launch.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

# A fresh work folder for this test.
workdir() {
  local d="$PEPPP_TEST_TMP/slurm_$1"
  rm -rf "$d"; mkdir -p "$d"; echo "$d"
}

# The data section of chosen variables of a NetCDF file (no header, no
# provenance attributes), for comparing two files' values.
nc_values() {
  local file=$1 vars=$2
  ncdump -v "$vars" "$file" | sed -n '/^data:/,$p'
}

# Wait until job $1 has left the queue (completed, failed or cancelled).
wait_job_gone() {
  local id=$1 limit=${2:-300} t=0
  while squeue -h -j "$id" 2>/dev/null | grep -q .; do
    sleep 1; t=$((t + 1))
    [ $t -lt "$limit" ] || fail "job $id still in the queue after $limit s"
  done
}
