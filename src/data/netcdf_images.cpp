// peppp's NetCDF image-array format: images(n, channel, y, x) ubyte,
// labels(n) int, class_names(class) string.
#include <netcdf.h>

#include <memory>

#include "peppp/core/error.hpp"
#include "peppp/data/images.hpp"

namespace peppp::data {
namespace {

struct NcFile {
  int id = -1;
  ~NcFile() {
    if (id >= 0) nc_close(id);
  }
};

void check_write(int status, const std::string& path, const char* what) {
  if (status != NC_NOERR)
    throw RuntimeError(path + ": NetCDF error while " + what + ": " + nc_strerror(status));
}

int var_id(int nc, const std::string& path, const char* name, nc_type type, int ndims) {
  int id = -1;
  if (nc_inq_varid(nc, name, &id) != NC_NOERR)
    throw InputError(path + ": not a peppp image file: variable '" + name + "' is missing");
  nc_type t;
  int nd = 0;
  nc_inq_vartype(nc, id, &t);
  nc_inq_varndims(nc, id, &nd);
  if (nd != ndims)
    throw InputError(path + ": variable '" + name + "' has " + std::to_string(nd) + " dims, expected " +
                     std::to_string(ndims));
  const bool ok = t == type || (type == NC_INT && (t == NC_SHORT || t == NC_BYTE || t == NC_UBYTE ||
                                                   t == NC_USHORT || t == NC_INT64));
  if (!ok)
    throw InputError(path + ": variable '" + name + "' has NetCDF type " + std::to_string(t) +
                     ", expected " + (type == NC_UBYTE ? "ubyte" : type == NC_STRING ? "string" : "integer"));
  return id;
}

std::vector<std::size_t> var_dims(int nc, int var) {
  int nd = 0;
  nc_inq_varndims(nc, var, &nd);
  std::vector<int> ids(nd);
  nc_inq_vardimid(nc, var, ids.data());
  std::vector<std::size_t> len(nd);
  for (int d = 0; d < nd; ++d) nc_inq_dimlen(nc, ids[d], &len[d]);
  return len;
}

}  // namespace

ImageSet read_image_netcdf(const std::string& path, std::vector<std::string>& class_names) {
  NcFile f;
  int status = nc_open(path.c_str(), NC_NOWRITE, &f.id);
  if (status != NC_NOERR) {
    f.id = -1;
    throw InputError(path + ": cannot open as NetCDF: " + nc_strerror(status));
  }
  const int vi = var_id(f.id, path, "images", NC_UBYTE, 4);
  const int vl = var_id(f.id, path, "labels", NC_INT, 1);
  const int vn = var_id(f.id, path, "class_names", NC_STRING, 1);
  const auto di = var_dims(f.id, vi), dl = var_dims(f.id, vl), dn = var_dims(f.id, vn);
  if (di[1] != 1 && di[1] != 3)
    throw InputError(path + ": images has " + std::to_string(di[1]) + " channels, expected 1 or 3");
  if (di[2] == 0 || di[3] == 0)
    throw InputError(path + ": images have zero size " + std::to_string(di[2]) + " x " + std::to_string(di[3]));
  if (dl[0] != di[0])
    throw InputError(path + ": labels has " + std::to_string(dl[0]) + " entries, expected " +
                     std::to_string(di[0]) + " (one per image)");
  if (dn[0] == 0) throw InputError(path + ": class_names is empty, expected at least one class");

  ImageSet s;
  s.channels = static_cast<int>(di[1]);
  s.height = static_cast<int>(di[2]);
  s.width = static_cast<int>(di[3]);
  s.pixels.resize(di[0] * di[1] * di[2] * di[3]);
  s.labels.resize(di[0]);
  if (!s.pixels.empty() && (status = nc_get_var_uchar(f.id, vi, s.pixels.data())) != NC_NOERR)
    throw InputError(path + ": cannot read images: " + nc_strerror(status));
  if (!s.labels.empty() && (status = nc_get_var_int(f.id, vl, s.labels.data())) != NC_NOERR)
    throw InputError(path + ": cannot read labels: " + nc_strerror(status));
  std::vector<char*> names(dn[0], nullptr);
  if ((status = nc_get_var_string(f.id, vn, names.data())) != NC_NOERR)
    throw InputError(path + ": cannot read class_names: " + nc_strerror(status));
  class_names.assign(names.size(), "");
  for (std::size_t i = 0; i < names.size(); ++i) class_names[i] = names[i] ? names[i] : "";
  nc_free_string(names.size(), names.data());

  const auto classes = static_cast<std::int32_t>(class_names.size());
  for (std::size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] < 0 || s.labels[i] >= classes)
      throw InputError(path + ": label out of range at image " + std::to_string(i) + ": found " +
                       std::to_string(s.labels[i]) + ", expected 0.." + std::to_string(classes - 1));
  return s;
}

void write_image_netcdf(const std::string& path, const ImageSet& s, const std::vector<std::string>& names) {
  if (s.pixels.size() != s.size() * s.image_bytes())
    throw InputError(path + ": image set has " + std::to_string(s.pixels.size()) + " pixel bytes, expected " +
                     std::to_string(s.size() * s.image_bytes()));
  for (auto l : s.labels)
    if (l < 0 || l >= static_cast<std::int32_t>(names.size()))
      throw InputError(path + ": label " + std::to_string(l) + " outside 0.." + std::to_string(names.size() - 1));
  NcFile f;
  check_write(nc_create(path.c_str(), NC_CLOBBER | NC_NETCDF4, &f.id), path, "creating");
  int dn, dc, dy, dx, dk;
  check_write(nc_def_dim(f.id, "n", s.size(), &dn), path, "defining dims");
  check_write(nc_def_dim(f.id, "channel", s.channels, &dc), path, "defining dims");
  check_write(nc_def_dim(f.id, "y", s.height, &dy), path, "defining dims");
  check_write(nc_def_dim(f.id, "x", s.width, &dx), path, "defining dims");
  check_write(nc_def_dim(f.id, "class", names.size(), &dk), path, "defining dims");
  int vi, vl, vn;
  const int dims_i[4] = {dn, dc, dy, dx};
  check_write(nc_def_var(f.id, "images", NC_UBYTE, 4, dims_i, &vi), path, "defining images");
  check_write(nc_def_var(f.id, "labels", NC_INT, 1, &dn, &vl), path, "defining labels");
  check_write(nc_def_var(f.id, "class_names", NC_STRING, 1, &dk, &vn), path, "defining class_names");
  const char* fmt = "peppp-images-1";
  nc_put_att_text(f.id, NC_GLOBAL, "peppp_format", std::string(fmt).size(), fmt);
  const char* ln = "image pixels, 0..255";
  nc_put_att_text(f.id, vi, "long_name", std::string(ln).size(), ln);
  check_write(nc_enddef(f.id), path, "ending define mode");
  if (!s.pixels.empty()) check_write(nc_put_var_uchar(f.id, vi, s.pixels.data()), path, "writing images");
  if (!s.labels.empty()) check_write(nc_put_var_int(f.id, vl, s.labels.data()), path, "writing labels");
  std::vector<const char*> p;
  for (const auto& n : names) p.push_back(n.c_str());
  check_write(nc_put_var_string(f.id, vn, p.data()), path, "writing class_names");
  const int id = f.id;
  f.id = -1;
  check_write(nc_close(id), path, "closing");
}

}  // namespace peppp::data
