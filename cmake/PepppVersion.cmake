# Version and git commit. The commit is re-read at every build (not only at
# configure time) by a small script, and the generated source is rewritten
# only when it changes, so `peppp --version` never reports a stale commit.
set(PEPPP_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
configure_file(${PROJECT_SOURCE_DIR}/cmake/config.hpp.in
               ${PEPPP_GENERATED_DIR}/include/peppp/config.hpp @ONLY)
add_custom_target(peppp_git_commit
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DOUTPUT=${PEPPP_GENERATED_DIR}/git_commit.cpp
          -P ${PROJECT_SOURCE_DIR}/cmake/GitCommit.cmake
  BYPRODUCTS ${PEPPP_GENERATED_DIR}/git_commit.cpp
  COMMENT "peppp: reading git commit"
  VERBATIM)
