# The layers of the peppp library (DESIGN.md §2), in one table. Plain
# variables only: included by the build (PepppLayers.cmake) and by the
# include scan in script mode (PepppLayerCheck.cmake).
#
# PEPPP_LAYERS is the layer order. For each layer:
#   PEPPP_LAYER_<layer>_USES      the peppp layers it may include (itself implied)
#   PEPPP_LAYER_<layer>_PUBLIC    imported targets its public headers need
#   PEPPP_LAYER_<layer>_PRIVATE   imported targets only its sources need
# Every layer's OBJECT library (peppp_<layer>) is compiled with exactly these
# usage requirements, so a layer cannot reach a header it may not use; the
# same table drives the include scan (cmake/PepppLayerCheck.cmake) and the
# header self-containment test. Keep them in step with DESIGN.md §2.
set(PEPPP_LAYERS core meta quant data nn io par stage app)

set(PEPPP_LAYER_core_USES    "")
set(PEPPP_LAYER_meta_USES    core)
set(PEPPP_LAYER_quant_USES   core)
set(PEPPP_LAYER_data_USES    core)
set(PEPPP_LAYER_nn_USES      core quant data)
set(PEPPP_LAYER_io_USES      core)
set(PEPPP_LAYER_par_USES     core meta quant data nn io)
set(PEPPP_LAYER_stage_USES   core meta quant data nn io par)
set(PEPPP_LAYER_app_USES     core meta quant data nn io par stage)

set(PEPPP_LAYER_core_PUBLIC  "")
set(PEPPP_LAYER_meta_PUBLIC  Eigen3::Eigen)
set(PEPPP_LAYER_quant_PUBLIC torch)
set(PEPPP_LAYER_data_PUBLIC  torch)
set(PEPPP_LAYER_nn_PUBLIC    torch)
set(PEPPP_LAYER_io_PUBLIC    "")
set(PEPPP_LAYER_par_PUBLIC   MPI::MPI_CXX)
set(PEPPP_LAYER_stage_PUBLIC MPI::MPI_CXX)
set(PEPPP_LAYER_app_PUBLIC   MPI::MPI_CXX)

set(PEPPP_LAYER_core_PRIVATE  "")
set(PEPPP_LAYER_meta_PRIVATE  "")
set(PEPPP_LAYER_quant_PRIVATE "")
set(PEPPP_LAYER_data_PRIVATE  ZLIB::ZLIB NetCDF::NetCDF)
set(PEPPP_LAYER_nn_PRIVATE    "")
set(PEPPP_LAYER_io_PRIVATE    NetCDF::NetCDF)
set(PEPPP_LAYER_par_PRIVATE   "")
set(PEPPP_LAYER_stage_PRIVATE "")
set(PEPPP_LAYER_app_PRIVATE   Boost::program_options)

# Third-party headers and the only layers that may include them (the "Only
# ..." sentences of DESIGN.md §2; Eigen and zlib by the "depends on" column).
set(PEPPP_EXTERNALS MPI LibTorch NetCDF Boost Eigen zlib)
set(PEPPP_EXTERNAL_MPI_REGEX      "^mpi\\.h$")
set(PEPPP_EXTERNAL_MPI_LAYERS     par stage app)
set(PEPPP_EXTERNAL_LibTorch_REGEX "^(torch|ATen|c10)/")
set(PEPPP_EXTERNAL_LibTorch_LAYERS quant data nn)
set(PEPPP_EXTERNAL_NetCDF_REGEX   "^netcdf(_[a-z]+)?\\.h$")
set(PEPPP_EXTERNAL_NetCDF_LAYERS  io data)
set(PEPPP_EXTERNAL_Boost_REGEX    "^boost/")
set(PEPPP_EXTERNAL_Boost_LAYERS   app)
set(PEPPP_EXTERNAL_Eigen_REGEX    "^(Eigen|unsupported/Eigen)/")
set(PEPPP_EXTERNAL_Eigen_LAYERS   meta par stage app)
set(PEPPP_EXTERNAL_zlib_REGEX     "^zlib\\.h$")
set(PEPPP_EXTERNAL_zlib_LAYERS    data)
