// The same catalog + seed give byte-identical task tensors on every rank,
// whatever each rank's torch thread count.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <fstream>

#include "peppp/data/catalog.hpp"
#include "peppp/data/loader.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

// Hash of every task of `cat` on this rank, gathered from all ranks.
std::vector<std::uint64_t> gathered_hashes(const data::Catalog& cat, std::vector<std::uint64_t>& mine) {
  data::DatasetCache cache(1);
  for (const auto& t : cat.tasks) mine.push_back(data::task_hash(data::load_task(t, cache)));
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<std::uint64_t> all(mine.size() * size);
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T, all.data(),
                static_cast<int>(mine.size()), MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

void expect_identical(const std::vector<std::uint64_t>& mine, const std::vector<std::uint64_t>& all) {
  const std::size_t n = mine.size();
  for (std::size_t r = 0; r < all.size() / n; ++r)
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(all[r * n + i], all[i]) << "rank " << r << " task " << i;
}

}  // namespace

TEST(DataTasks, IdenticalOnEveryRankSynthetic) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  torch::set_num_threads(1 + rank % 2);
  const auto dir = test::scratch_dir();
  if (rank == 0) {
    data::ImageSet s;
    s.channels = 3;
    s.height = s.width = 16;
    for (int i = 0; i < 200; ++i) {
      s.labels.push_back(i % 4);
      for (int p = 0; p < 3 * 256; ++p) s.pixels.push_back(static_cast<std::uint8_t>((i * 131 + p * 17) % 256));
    }
    std::filesystem::create_directories(dir + "/d");
    data::write_image_netcdf(dir + "/d/train.nc", s, {"a", "b", "c", "d"});
    s.labels.resize(100);
    s.pixels.resize(100 * 3 * 256);
    data::write_image_netcdf(dir + "/d/test.nc", s, {"a", "b", "c", "d"});
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto cat = data::parse_catalog("[dataset d]\nkind = netcdf\npath = d\n[defaults]\nseed = 9\n"
                                       "train_size = 60\ntest_size = 30\n"
                                       "[subsets s]\nfrom = a, b, c, d\nk = 3\nresolution = 16, 11\nchannels = 3\n"
                                       "[task grey]\nclasses = d, a\nresolution = 20\nchannels = 1\n",
                                       "mpi.ini", dir);
  std::vector<std::uint64_t> mine;
  const auto all = gathered_hashes(cat, mine);
  ASSERT_EQ(mine.size(), 9u);
  expect_identical(mine, all);
  EXPECT_EQ(std::set<std::uint64_t>(mine.begin(), mine.end()).size(), mine.size()) << "tasks must differ";
}

TEST(DataTasks, IdenticalOnEveryRankFashionCi) {
  const auto cat = data::read_catalog(test::source_path("inputs/tasks/fashion-ci.ini"));
  if (!data::missing_files(cat.tasks[0]).empty()) GTEST_SKIP() << "Fashion-MNIST package not installed";
  std::vector<std::uint64_t> mine;
  const auto all = gathered_hashes(cat, mine);
  expect_identical(mine, all);
}
