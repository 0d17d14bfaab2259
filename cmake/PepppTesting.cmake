# peppp_add_test: the ONE helper that registers every test.
#
#   peppp_add_test(NAME name
#                  [SOURCES a.cpp ...]        build a test executable (GoogleTest + peppp)
#                  [COMMAND cmd args ...]     or run a command (scripts, the peppp executable)
#                  [RANKS 1 2 3]              MPI rank counts: one ctest entry per count, run
#                                             through MPIEXEC_EXECUTABLE; omitted = serial
#                  [SPAWNS n]                 a serial test that starts its own MPI runs of at
#                                             most n ranks (test::mpi_launch, tests/support/
#                                             test_util.hpp; $PEPPP_MPIEXEC... in scripts)
#                  [LABELS unit|mpi|integration|slurm|bench ...]
#                  [TIMEOUT seconds] [FIXTURES_REQUIRED f ...] [FIXTURES_SETUP f] [FIXTURES_CLEANUP f]
#                  [ENVIRONMENT VAR=value ...] [WORKING_DIRECTORY dir] [RUN_SERIAL])
#
# MPI runs get oversubscription and run-as-root permission through the
# environment (never hard-coded mpirun flags), and PROCESSORS = rank count so
# ctest -j does not overload the machine. A test needing more ranks than
# PEPPP_TEST_MAX_RANKS is skipped (not failed).
#
# The launcher is the one FindMPI found (MPIEXEC_EXECUTABLE, MPIEXEC_NUMPROC_FLAG,
# MPIEXEC_PREFLAGS): the helper wraps RANKS tests in it and hands it to every
# test in the environment (PEPPP_MPIEXEC, PEPPP_MPIEXEC_NUMPROC_FLAG,
# PEPPP_MPIEXEC_PREFLAGS), so that tests starting their own runs (SPAWNS: the
# integration and fault tests through test::mpi_launch, the Slurm scripts
# through mpi_launch in their lib.sh) use the same launcher and environment.
set(PEPPP_TEST_MAX_RANKS 4 CACHE STRING "Largest MPI rank count a test may use")
set(PEPPP_TEST_TIMEOUT_FACTOR 1 CACHE STRING
    "Multiplies every test's TIMEOUT (a sanitizer Debug build runs several times slower)")
string(REPLACE ";" " " _peppp_mpiexec_preflags "${MPIEXEC_PREFLAGS}")
set(PEPPP_MPI_TEST_ENV
    "OMPI_MCA_rmaps_base_oversubscribe=1"
    "OMPI_ALLOW_RUN_AS_ROOT=1"
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    "OMPI_MCA_btl_vader_single_copy_mechanism=none"
    "OMPI_MCA_btl=self,vader"
    "OMP_NUM_THREADS=1"
    "PEPPP_MPIEXEC=${MPIEXEC_EXECUTABLE}"
    "PEPPP_MPIEXEC_NUMPROC_FLAG=${MPIEXEC_NUMPROC_FLAG}"
    "PEPPP_MPIEXEC_PREFLAGS=${_peppp_mpiexec_preflags}")

# PEPPP_SANITIZE (cmake/PepppSanitize.cmake): every test, and every peppp run
# it starts, stops at the first error with a stack trace. Leaks are checked
# by the test main (tests/support/gtest_mpi_main.cpp) after the tests, before
# MPI_Finalize, not at exit (leak_check_at_exit=0: Open MPI's finalize leaves
# leaks in unloaded components that no suppression can name); the peppp runs
# an integration test starts are not leak-checked. tests/support/lsan.supp
# names the third-party libraries whose own leaks are not ours to fix.
set(PEPPP_SANITIZE_TEST_ENV)
if(PEPPP_SANITIZE)
  set(PEPPP_SANITIZE_TEST_ENV
      "ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1:leak_check_at_exit=0"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
      "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/support/lsan.supp:print_suppressions=0")
endif()

function(peppp_add_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;SPAWNS;TIMEOUT;WORKING_DIRECTORY;FIXTURES_SETUP;FIXTURES_CLEANUP"
                        "SOURCES;COMMAND;RANKS;LABELS;ENVIRONMENT;FIXTURES_REQUIRED" ${ARGN})
  if(NOT T_NAME)
    message(FATAL_ERROR "peppp_add_test: NAME is required")
  endif()
  if(T_SOURCES)
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE peppp peppp_test_main GTest::gtest)
    set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
    set(_cmd $<TARGET_FILE:${T_NAME}>)
  elseif(T_COMMAND)
    set(_cmd ${T_COMMAND})
  else()
    message(FATAL_ERROR "peppp_add_test(${T_NAME}): give SOURCES or COMMAND")
  endif()
  if(T_RANKS AND T_SPAWNS)
    message(FATAL_ERROR "peppp_add_test(${T_NAME}): RANKS runs the test under MPI, SPAWNS lets it start its own runs; give one")
  endif()
  if(NOT T_RANKS)
    set(_ranks 0)
  else()
    set(_ranks ${T_RANKS})
  endif()
  foreach(n IN LISTS _ranks)
    if(n EQUAL 0)
      set(_test ${T_NAME})
      set(_full ${_cmd})
      set(_env ${PEPPP_MPI_TEST_ENV} ${PEPPP_SANITIZE_TEST_ENV} "PEPPP_TEST_RANKS=1")
      set(_procs 1)
      if(T_SPAWNS)
        list(APPEND _env "PEPPP_TEST_SPAWN_RANKS=${T_SPAWNS}")
        set(n ${T_SPAWNS})
        set(_procs ${T_SPAWNS})
      endif()
    else()
      set(_test ${T_NAME}.np${n})
      set(_full ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${MPIEXEC_PREFLAGS} ${_cmd} ${MPIEXEC_POSTFLAGS})
      set(_env ${PEPPP_MPI_TEST_ENV} ${PEPPP_SANITIZE_TEST_ENV} "PEPPP_TEST_RANKS=${n}")
      set(_procs ${n})
    endif()
    list(APPEND _env ${T_ENVIRONMENT})
    add_test(NAME ${_test} COMMAND ${_full})
    if(T_WORKING_DIRECTORY)
      set_tests_properties(${_test} PROPERTIES WORKING_DIRECTORY ${T_WORKING_DIRECTORY})
    endif()
    set_tests_properties(${_test} PROPERTIES
      LABELS "${T_LABELS}"
      PROCESSORS ${_procs}
      ENVIRONMENT "${_env}")
    if(T_TIMEOUT)
      math(EXPR _timeout "${T_TIMEOUT} * ${PEPPP_TEST_TIMEOUT_FACTOR}")
      set_tests_properties(${_test} PROPERTIES TIMEOUT ${_timeout})
    endif()
    if(T_RUN_SERIAL)
      set_tests_properties(${_test} PROPERTIES RUN_SERIAL TRUE)
    endif()
    if(T_FIXTURES_REQUIRED)
      set_tests_properties(${_test} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES_REQUIRED}")
    endif()
    if(T_FIXTURES_SETUP)
      set_tests_properties(${_test} PROPERTIES FIXTURES_SETUP "${T_FIXTURES_SETUP}")
    endif()
    if(T_FIXTURES_CLEANUP)
      set_tests_properties(${_test} PROPERTIES FIXTURES_CLEANUP "${T_FIXTURES_CLEANUP}")
    endif()
    if(n GREATER PEPPP_TEST_MAX_RANKS)
      set_tests_properties(${_test} PROPERTIES DISABLED TRUE)
    endif()
  endforeach()
endfunction()
