// loocv_campaign N PATH [D]: write bench_loocv's synthetic N × D matrix (D = 99)
// (loocv_synthetic.hpp) as a fully measured campaign file, so that
// `peppp loocv --campaign PATH --cap 281` times the command line on exactly
// the matrix BM_LoocvSettingsIandIV uses (BENCHMARKS.md, Meta-LOOCV).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "loocv_synthetic.hpp"
#include "peppp/io/campaign.hpp"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: loocv_campaign N PATH [D] (N >= 3 tasks, D >= 1 configurations (99) of the synthetic "
                 "bench_loocv matrix)\n";
    return 1;
  }
  const int n = std::atoi(argv[1]);
  if (n < 3) {
    std::cerr << "loocv_campaign: N = '" << argv[1] << "'; allowed: an integer >= 3\n";
    return 1;
  }
  const int d = argc == 4 ? std::atoi(argv[3]) : 99;
  if (d < 1) {
    std::cerr << "loocv_campaign: D = '" << argv[3] << "'; allowed: an integer >= 1\n";
    return 1;
  }
  const auto data = peppp::bench::synthetic_loocv(n, d);
  peppp::io::Campaign c;
  c.task = data.task;
  c.config = data.config;
  for (int j = 0; j < d; ++j) {  // the bit counts the memory formula of synthetic_loocv uses
    c.a_exponent_bits.push_back(3);
    c.a_mantissa_bits.push_back(5 + (j / 9) % 5 - 4);
    c.b_exponent_bits.push_back(6);
    c.b_mantissa_bits.push_back(14 + j % 9 % 7 - 7);
  }
  c.allocate();
  // Campaign files hold misclassification rates: the few synthetic entries
  // below 0 (0.3 ± the rank-3 spread) are written as 0.
  for (std::size_t k = 0; k < data.error.size(); ++k) {
    c.error[k] = std::clamp(data.error[k], 0.0, 1.0);
    c.memory[k] = data.memory[k];
    c.status[k] = static_cast<std::uint8_t>(peppp::io::CellStatus::measured);
  }
  c.text_attributes["campaign"] = "synthetic bench_loocv matrix (benchmarks/loocv_synthetic.hpp)";
  try {
    peppp::io::write_campaign(argv[2], c);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
