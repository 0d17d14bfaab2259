# Script mode: the include scan of the layer rules (DESIGN.md §2).
#
#   cmake -DSOURCE_DIR=<tree> [-DSTAMP=<file>] -P PepppLayerCheck.cmake
#
# Reads every file of <tree>/src/<layer>/ and <tree>/include/peppp/<layer>/
# and fails, one line per offence "file:line: ...", when a layer includes a
# header of a layer it may not use ("peppp/<layer>/...") or a third-party
# header reserved to other layers (PepppLayerTable.cmake). Writes STAMP on
# success. Run by the build before any layer compiles (target
# peppp_layer_check) and by the tests build_layer_check_*.
cmake_minimum_required(VERSION 3.18)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "PepppLayerCheck.cmake: give -DSOURCE_DIR=<tree>")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/PepppLayerTable.cmake)

set(_include_re "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
set(_offences 0)
set(_files 0)

# Line number of the first line of `file` equal to `text`.
function(_line_of file text out)
  file(READ "${file}" content)
  string(FIND "${content}" "${text}" pos)
  string(SUBSTRING "${content}" 0 ${pos} before)
  string(REGEX REPLACE "[^\n]" "" newlines "${before}")
  string(LENGTH "${newlines}" n)
  math(EXPR n "${n} + 1")
  set(${out} ${n} PARENT_SCOPE)
endfunction()

foreach(layer IN LISTS PEPPP_LAYERS)
  set(_allowed ${layer} ${PEPPP_LAYER_${layer}_USES})
  file(GLOB_RECURSE _layer_files LIST_DIRECTORIES false
       "${SOURCE_DIR}/src/${layer}/*" "${SOURCE_DIR}/include/peppp/${layer}/*")
  list(FILTER _layer_files EXCLUDE REGEX "(CMakeLists\\.txt|\\.cmake|\\.md)$")
  list(SORT _layer_files)
  foreach(f IN LISTS _layer_files)
    math(EXPR _files "${_files} + 1")
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
    file(STRINGS "${f}" lines REGEX "${_include_re}")
    foreach(line IN LISTS lines)
      string(REGEX MATCH "${_include_re}" _ "${line}")
      set(inc "${CMAKE_MATCH_1}")
      set(why "")
      if(inc MATCHES "^peppp/([a-z_]+)/")
        set(target "${CMAKE_MATCH_1}")
        if(target IN_LIST PEPPP_LAYERS AND NOT target IN_LIST _allowed)
          string(REPLACE ";" ", " uses "${_allowed}")
          set(why "layer ${layer} includes ${inc} of layer ${target}; ${layer} may use only ${uses}")
        endif()
      else()
        foreach(ext IN LISTS PEPPP_EXTERNALS)
          if(inc MATCHES "${PEPPP_EXTERNAL_${ext}_REGEX}" AND NOT layer IN_LIST PEPPP_EXTERNAL_${ext}_LAYERS)
            string(REPLACE ";" ", " only "${PEPPP_EXTERNAL_${ext}_LAYERS}")
            set(why "layer ${layer} includes <${inc}>; ${ext} is allowed only in ${only}")
          endif()
        endforeach()
      endif()
      if(why)
        _line_of("${f}" "${line}" n)
        message(NOTICE "${rel}:${n}: ${why} (DESIGN.md §2)")
        math(EXPR _offences "${_offences} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

if(_offences GREATER 0)
  message(FATAL_ERROR "peppp layer check: ${_offences} layering violation(s) in ${SOURCE_DIR}")
endif()
if(STAMP)
  file(WRITE "${STAMP}" "${_files} files checked\n")
endif()
message(STATUS "peppp layer check: ${_files} files, no violation")
