# mpi_launch N [LAUNCHER OPTIONS] PROGRAM [ARGS...] (sourced by the test
# scripts' lib.sh): PROGRAM on N MPI ranks through the launcher that
# peppp_add_test (cmake/PepppTesting.cmake) hands every test, with the MPI
# environment it sets (oversubscription, run as root). The scripts'
# counterpart of test::mpi_launch in test_util.hpp.
mpi_launch() {
  local n=$1
  shift
  # PEPPP_MPIEXEC_PREFLAGS is a space-separated list: split on purpose.
  # shellcheck disable=SC2086
  "${PEPPP_MPIEXEC:?run the test through ctest: peppp_add_test sets PEPPP_MPIEXEC}" \
    "${PEPPP_MPIEXEC_NUMPROC_FLAG:?}" "$n" ${PEPPP_MPIEXEC_PREFLAGS:-} "$@"
}
