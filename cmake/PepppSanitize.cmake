# PEPPP_SANITIZE: build every peppp object (library, executable, tests,
# benchmarks) with AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The flags are set for the whole project on purpose: a sanitizer needs every
# object and every link instrumented (the runtime must come first at link), and
# a target left out would hide its errors or fail to link. Third-party
# libraries (Open MPI, LibTorch, NetCDF) are not instrumented; the test helper
# (PepppTesting.cmake) sets the run-time options and the leak suppressions.
option(PEPPP_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer (-fsanitize=address,undefined); for Debug builds" OFF)

if(PEPPP_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "PEPPP_SANITIZE=ON needs GCC or Clang (compiler: ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(PEPPP_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer)
  add_compile_options(${PEPPP_SANITIZE_FLAGS})
  add_link_options(${PEPPP_SANITIZE_FLAGS})
endif()
