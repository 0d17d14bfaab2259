# peppp_add_test: the ONE helper that registers every test.
#
#   peppp_add_test(NAME name
#                  [SOURCES a.cpp ...]        build a test executable (GoogleTest + peppp)
#                  [COMMAND cmd args ...]     or run a command (scripts, the peppp executable)
#                  [RANKS 1 2 3]              MPI rank counts: one ctest entry per count, run
#                                             through MPIEXEC_EXECUTABLE; omitted = serial
#                  [LABELS unit|mpi|integration|slurm|bench ...]
#                  [TIMEOUT seconds] [FIXTURES_REQUIRED f ...] [FIXTURES_SETUP f] [FIXTURES_CLEANUP f]
#                  [ENVIRONMENT VAR=value ...] [WORKING_DIRECTORY dir] [RUN_SERIAL])
#
# MPI runs get oversubscription and run-as-root permission through the
# environment (never hard-coded mpirun flags), and PROCESSORS = rank count so
# ctest -j does not overload the machine. A test needing more ranks than
# PEPPP_TEST_MAX_RANKS is skipped (not failed).
set(PEPPP_TEST_MAX_RANKS 4 CACHE STRING "Largest MPI rank count a test may use")
set(PEPPP_MPI_TEST_ENV
    "OMPI_MCA_rmaps_base_oversubscribe=1"
    "OMPI_ALLOW_RUN_AS_ROOT=1"
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    "OMPI_MCA_btl_vader_single_copy_mechanism=none"
    "OMPI_MCA_btl=self,vader"
    "OMP_NUM_THREADS=1")

function(peppp_add_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;TIMEOUT;WORKING_DIRECTORY;FIXTURES_SETUP;FIXTURES_CLEANUP"
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
  if(NOT T_RANKS)
    set(_ranks 0)
  else()
    set(_ranks ${T_RANKS})
  endif()
  foreach(n IN LISTS _ranks)
    if(n EQUAL 0)
      set(_test ${T_NAME})
      set(_full ${_cmd})
      set(_procs 1)
    else()
      set(_test ${T_NAME}.np${n})
      set(_full ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${MPIEXEC_PREFLAGS} ${_cmd} ${MPIEXEC_POSTFLAGS})
      set(_procs ${n})
    endif()
    add_test(NAME ${_test} COMMAND ${_full})
    if(T_WORKING_DIRECTORY)
      set_tests_properties(${_test} PROPERTIES WORKING_DIRECTORY ${T_WORKING_DIRECTORY})
    endif()
    set(_env ${PEPPP_MPI_TEST_ENV} "PEPPP_TEST_RANKS=${_procs}" ${T_ENVIRONMENT})
    set_tests_properties(${_test} PROPERTIES
      LABELS "${T_LABELS}"
      PROCESSORS ${_procs}
      ENVIRONMENT "${_env}")
    if(T_TIMEOUT)
      set_tests_properties(${_test} PROPERTIES TIMEOUT ${T_TIMEOUT})
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
