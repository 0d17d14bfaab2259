# Layer targets of the peppp library; the table is PepppLayerTable.cmake.
include(PepppLayerTable)

# Common settings of every peppp object: C++17, the public include folders,
# and the Eigen alignment that keeps Eigen's ABI the same inside and outside
# the library (peppp may be built with -march=native, AVX-512: 64 bytes).
add_library(peppp_layer_common INTERFACE)
target_compile_features(peppp_layer_common INTERFACE cxx_std_17)
target_include_directories(peppp_layer_common INTERFACE
  ${PROJECT_SOURCE_DIR}/include ${PEPPP_GENERATED_DIR}/include)

# peppp_layer_requirements(<target> <layer>): give <target> the compile
# environment of <layer>: its own headers' and the used layers' usage
# requirements, nothing else. Used for the layer's object library, the
# header self-containment objects and the layering probes.
function(peppp_layer_requirements target layer)
  target_link_libraries(${target} PRIVATE peppp_layer_common)
  foreach(dep IN LISTS PEPPP_LAYER_${layer}_USES layer)
    if(dep STREQUAL "layer")
      set(dep ${layer})
    endif()
    target_link_libraries(${target} PRIVATE ${PEPPP_LAYER_${dep}_PUBLIC})
    if(dep STREQUAL "meta")
      target_compile_definitions(${target} PRIVATE EIGEN_MAX_ALIGN_BYTES=64 EIGEN_MAX_STATIC_ALIGN_BYTES=64)
    endif()
  endforeach()
  target_link_libraries(${target} PRIVATE ${PEPPP_LAYER_${layer}_PRIVATE})
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>)
  if(PEPPP_NATIVE)
    target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-march=native>)
  endif()
endfunction()

# peppp_add_layer(<layer>): the OBJECT library peppp_<layer>; the layer's
# CMakeLists.txt adds its sources with target_sources(peppp_<layer> ...).
function(peppp_add_layer layer)
  add_library(peppp_${layer} OBJECT)
  peppp_layer_requirements(peppp_${layer} ${layer})
  add_dependencies(peppp_${layer} peppp_layer_check)
endfunction()
