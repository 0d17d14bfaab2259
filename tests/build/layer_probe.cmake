# Script mode: proves that the include scan (cmake/PepppLayerCheck.cmake)
# passes on a copy of this tree and fails, naming file:line, on a copy with
# one forbidden include added.
#
#   cmake -DSOURCE_DIR=<peppp tree> -DWORK_DIR=<scratch> -DMODE=<mode> -P layer_probe.cmake
#
# MODE  clean     the copy as it is: the scan must pass
#       meta_mpi  `#include <mpi.h>` in a meta source: must fail on that line
#       io_torch  `#include <torch/torch.h>` in an io header: must fail on that line
#       io_meta   an io source including a meta header: must fail on that line
set(tree ${WORK_DIR}/${MODE})
file(REMOVE_RECURSE ${tree})
file(MAKE_DIRECTORY ${tree})
file(COPY ${SOURCE_DIR}/src ${SOURCE_DIR}/include DESTINATION ${tree})

# Insert `line` as line 2 of `file` (after its first line).
function(inject file line)
  file(READ ${tree}/${file} content)
  string(FIND "${content}" "\n" nl)
  math(EXPR nl "${nl} + 1")
  string(SUBSTRING "${content}" 0 ${nl} first)
  string(SUBSTRING "${content}" ${nl} -1 rest)
  file(WRITE ${tree}/${file} "${first}${line}\n${rest}")
endfunction()

if(MODE STREQUAL "clean")
  set(expect "")
elseif(MODE STREQUAL "meta_mpi")
  inject(src/meta/pareto.cpp "#include <mpi.h>")
  set(expect "src/meta/pareto\\.cpp:2: layer meta includes <mpi\\.h>; MPI is allowed only in par, stage, app")
elseif(MODE STREQUAL "io_torch")
  inject(include/peppp/io/journal.hpp "#include <torch/torch.h>")
  set(expect "include/peppp/io/journal\\.hpp:2: layer io includes <torch/torch\\.h>; LibTorch is allowed only in quant, data, nn")
elseif(MODE STREQUAL "io_meta")
  inject(src/io/campaign.cpp "#include \"peppp/meta/pareto.hpp\"")
  set(expect "src/io/campaign\\.cpp:2: layer io includes peppp/meta/pareto\\.hpp of layer meta; io may use only io, core")
else()
  message(FATAL_ERROR "layer_probe.cmake: unknown MODE '${MODE}'")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${tree} -P ${SOURCE_DIR}/cmake/PepppLayerCheck.cmake
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(expect STREQUAL "")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "layer check failed on an unchanged copy of the tree:\n${out}${err}")
  endif()
  message(STATUS "clean copy passes: ${out}")
else()
  if(rc EQUAL 0)
    message(FATAL_ERROR "layer check PASSED although ${MODE} was injected:\n${out}${err}")
  endif()
  # One line, from the start of a line: file:line: rule.
  if(NOT err MATCHES "(^|\n)(${expect}[^\n]*)\n")
    message(FATAL_ERROR "layer check failed, but without the expected line\n"
                        "  want: ${expect}\n  got:\n${err}")
  endif()
  set(first "${CMAKE_MATCH_2}")
  message(STATUS "injected ${MODE} rejected as expected: ${first}")
endif()
file(REMOVE_RECURSE ${tree})
