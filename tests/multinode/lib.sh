# Helpers for the multinode tests (sourced): a virtual cluster of
# scripts/local-cluster.sh, started by the multinode_cluster fixture.
set -euo pipefail
: "${PEPPP_EXE:?}" "${PEPPP_SOURCE_DIR:?}" "${PEPPP_CLUSTER_DIR:?}" "${PEPPP_TEST_TMP:?}"
# mpi_launch N ...: the test helper's launcher and MPI environment (oversubscription, root).
source "$PEPPP_SOURCE_DIR/tests/support/mpi_launch.sh"
# Open MPI's default transports: the test environment's btl = self,vader
# (one node) would forbid TCP between the nodes. Nothing else is tuned: no
# --mca osc (the work queue must find a working queue by itself).
unset OMPI_MCA_btl
CLUSTER="$PEPPP_SOURCE_DIR/scripts/local-cluster.sh"
eval "$("$CLUSTER" env --state "$PEPPP_CLUSTER_DIR")"
export PYTHON=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; exit 1; }

workdir() {
  local d="$PEPPP_TEST_TMP/multinode_$1"
  rm -rf "$d"; mkdir -p "$d"; echo "$d"
}

# 2 nodes x 2 ranks over TCP, launched from the host through the node agent.
across() { mpi_launch 4 --host nodeA:2,nodeB:2 "$@"; }
# One rank on the host, the reference.
single() { mpi_launch 1 "$@"; }

# Two peppp files agree on every variable (wall times excluded).
same_files() {
  "$PYTHON" "$PEPPP_SOURCE_DIR/scripts/compare_outputs.py" "$1" "$2" || fail "$1 and $2 differ"
}
