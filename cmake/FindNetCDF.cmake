# FindNetCDF
# ----------
# Finds the NetCDF-C library (Debian: libnetcdf-dev) and defines the imported
# target NetCDF::NetCDF. Deliberately small: netCDF's own CMake config file in
# Debian pulls HDF5 targets that are not always installed.
#
# Result variables: NetCDF_FOUND, NetCDF_VERSION, NetCDF_INCLUDE_DIR, NetCDF_LIBRARY
find_path(NetCDF_INCLUDE_DIR NAMES netcdf.h HINTS ENV NETCDF_DIR PATH_SUFFIXES include)
find_library(NetCDF_LIBRARY NAMES netcdf HINTS ENV NETCDF_DIR PATH_SUFFIXES lib lib64)

if(NetCDF_INCLUDE_DIR AND EXISTS "${NetCDF_INCLUDE_DIR}/netcdf_meta.h")
  file(STRINGS "${NetCDF_INCLUDE_DIR}/netcdf_meta.h" _nc_ver REGEX "#define[ \t]+NC_VERSION_(MAJOR|MINOR|PATCH)")
  string(REGEX REPLACE ".*NC_VERSION_MAJOR[ \t]+([0-9]+).*" "\\1" _nc_major "${_nc_ver}")
  string(REGEX REPLACE ".*NC_VERSION_MINOR[ \t]+([0-9]+).*" "\\1" _nc_minor "${_nc_ver}")
  string(REGEX REPLACE ".*NC_VERSION_PATCH[ \t]+([0-9]+).*" "\\1" _nc_patch "${_nc_ver}")
  set(NetCDF_VERSION "${_nc_major}.${_nc_minor}.${_nc_patch}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NetCDF
  REQUIRED_VARS NetCDF_LIBRARY NetCDF_INCLUDE_DIR
  VERSION_VAR NetCDF_VERSION)

if(NetCDF_FOUND AND NOT TARGET NetCDF::NetCDF)
  add_library(NetCDF::NetCDF UNKNOWN IMPORTED)
  set_target_properties(NetCDF::NetCDF PROPERTIES
    IMPORTED_LOCATION "${NetCDF_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NetCDF_INCLUDE_DIR}")
endif()
mark_as_advanced(NetCDF_INCLUDE_DIR NetCDF_LIBRARY)
