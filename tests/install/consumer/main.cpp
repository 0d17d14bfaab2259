// A separate project using the installed peppp.
#include <cstdio>
#include <cstring>

#include "peppp/core/strings.hpp"
#include "peppp/core/version.hpp"

int main() {
  std::printf("consumer linked peppp %s (git %s)\n", peppp::version(), peppp::git_commit());
  return std::strlen(peppp::version()) > 0 && peppp::trim("  x ") == "x" ? 0 : 1;
}
