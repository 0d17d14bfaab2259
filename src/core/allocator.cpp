#include "peppp/core/allocator.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace peppp {

bool keep_freed_memory() {
  const char* env = std::getenv("PEPPP_MALLOC_KEEP");
  if (env && std::strcmp(env, "0") == 0) return false;
#if defined(__GLIBC__)
  // Fixed values also switch off glibc's dynamic threshold, which would otherwise
  // start at 128 KiB and only rise after the first frees.
  const bool a = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
  const bool b = mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
  return a && b;
#else
  return false;
#endif
}

}  // namespace peppp
