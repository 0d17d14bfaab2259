// End to end: scripts/images-to-netcdf.py on a generated folder of PNGs, the
// result read by the C++ reader and loaded through `peppp tasks --load`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "peppp/data/images.hpp"
#include "test_util.hpp"

using peppp::test::run_command;
namespace fs = std::filesystem;

namespace {

const std::string kPython = "/usr/bin/python3";

bool python_ready() {
  return run_command(kPython + " -c 'import numpy, netCDF4, PIL'").exit_code == 0;
}

// root/<class>/img<i>.png: 3 classes of solid colours, 5 images each, 12 x 10.
void make_pngs(const std::string& root) {
  const std::string code =
      "import os, sys\n"
      "from PIL import Image\n"
      "root = sys.argv[1]\n"
      "colours = {'blue': (0, 0, 200), 'green': (0, 180, 0), 'red': (220, 0, 0)}\n"
      "for name, rgb in colours.items():\n"
      "    os.makedirs(os.path.join(root, name), exist_ok=True)\n"
      "    for i in range(5):\n"
      "        Image.new('RGB', (12, 10), rgb).save(os.path.join(root, name, 'img%d.png' % i))\n";
  const std::string script = (fs::path(root).parent_path() / "make-pngs.py").string();
  std::ofstream(script) << code;
  const auto r = run_command(kPython + " " + script + " " + root);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace

TEST(ImagesToNetcdf, ConvertsFolderTreeReadByCxxAndLoadable) {
  if (!python_ready()) GTEST_SKIP() << kPython << " lacks numpy, netCDF4 or PIL";
  const auto dir = peppp::test::scratch_dir();
  make_pngs(dir + "/pngs");
  const std::string script = peppp::test::source_path("scripts/images-to-netcdf.py");
  auto r = run_command(kPython + " " + script + " " + dir + "/pngs " + dir + "/nc --size 8 --test-fraction 0.4");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::vector<std::string> names;
  const auto train = peppp::data::read_image_netcdf(dir + "/nc/train.nc", names);
  EXPECT_EQ(names, (std::vector<std::string>{"blue", "green", "red"}));
  std::vector<std::string> test_names;
  const auto test = peppp::data::read_image_netcdf(dir + "/nc/test.nc", test_names);
  EXPECT_EQ(test_names, names);
  EXPECT_EQ(train.size(), 9u);  // 3 of 5 per class
  EXPECT_EQ(test.size(), 6u);   // round(0.4 * 5) = 2 per class
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.height, 8);
  EXPECT_EQ(train.width, 8);
  // Solid colours survive crop + bilinear resize exactly; labels match folders.
  const std::uint8_t rgb[3][3] = {{0, 0, 200}, {0, 180, 0}, {220, 0, 0}};
  for (std::size_t i = 0; i < train.size(); ++i) {
    const int l = train.labels[i];
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(train.pixels[i * train.image_bytes() + c * 64 + 27], rgb[l][c]) << "image " << i;
    }
  }

  // The same files through a catalog and the peppp executable.
  std::ofstream(dir + "/cat.ini") << "[dataset colours]\nkind = netcdf\npath = nc\nclasses = 3\n"
                                     "[defaults]\nresolution = 4\nchannels = 1\n"
                                     "[task rg]\nclasses = red, green\ntrain_size = 6\ntest_size = 4\n"
                                     "[task all]\nclasses = 0, 1, 2\n";
  r = run_command(peppp::test::peppp_exe() + " tasks --catalog " + dir + "/cat.ini --load");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("loaded all 2 tasks (15 train + 10 test images, 1 dataset read(s))"), std::string::npos)
      << r.output;
}

TEST(ImagesToNetcdf, UsesTrainValFoldersGreyAndCentreCrop) {
  if (!python_ready()) GTEST_SKIP() << kPython << " lacks numpy, netCDF4 or PIL";
  const auto dir = peppp::test::scratch_dir();
  // 30 x 10 JPEGs: a grey band in the middle third (the centre crop) and
  // black/white sides that the crop must remove.
  const std::string code =
      "import os, sys\n"
      "from PIL import Image\n"
      "root = sys.argv[1]\n"
      "for split, n in (('train', 3), ('val', 2)):\n"
      "    for cls, v in (('dark', 60), ('light', 200)):\n"
      "        os.makedirs(os.path.join(root, split, cls), exist_ok=True)\n"
      "        for i in range(n):\n"
      "            im = Image.new('L', (30, 10), 0)\n"
      "            im.paste(255, (20, 0, 30, 10))\n"
      "            im.paste(v, (10, 0, 20, 10))\n"
      "            im.convert('RGB').save(os.path.join(root, split, cls, 'i%d.JPG' % i), quality=100)\n";
  std::ofstream(dir + "/make.py") << code;
  auto r = run_command(kPython + " " + dir + "/make.py " + dir + "/tree");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(kPython + " " + peppp::test::source_path("scripts/images-to-netcdf.py") + " " + dir + "/tree " +
                  dir + "/nc --size 5 --channels 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> names;
  const auto train = peppp::data::read_image_netcdf(dir + "/nc/train.nc", names);
  const auto test = peppp::data::read_image_netcdf(dir + "/nc/test.nc", names);
  EXPECT_EQ(names, (std::vector<std::string>{"dark", "light"}));
  EXPECT_EQ(train.size(), 6u);
  EXPECT_EQ(test.size(), 4u);
  EXPECT_EQ(train.channels, 1);
  for (std::size_t i = 0; i < train.size(); ++i) {
    const int want = train.labels[i] == 0 ? 60 : 200;
    for (std::size_t p = 0; p < 25; ++p)  // JPEG may shift a level by a few
      EXPECT_NEAR(train.pixels[i * 25 + p], want, 4) << "image " << i << " pixel " << p;
  }
}

TEST(ImagesToNetcdf, RejectsUnreadableImageAndEmptyClass) {
  if (!python_ready()) GTEST_SKIP() << kPython << " lacks numpy, netCDF4 or PIL";
  const auto dir = peppp::test::scratch_dir();
  make_pngs(dir + "/pngs");
  std::ofstream(dir + "/pngs/red/broken.png") << "not a png";
  const std::string script = peppp::test::source_path("scripts/images-to-netcdf.py");
  auto r = run_command(kPython + " " + script + " " + dir + "/pngs " + dir + "/nc --size 8 --test-fraction 0.5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("broken.png: cannot read as an image"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/nc/test.nc") && fs::exists(dir + "/nc/train.nc"));

  fs::create_directories(dir + "/pngs2/empty");
  r = run_command(kPython + " " + script + " " + dir + "/pngs2 " + dir + "/nc2 --size 8");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("empty: no image files"), std::string::npos) << r.output;
}

TEST(TasksCommand, ListsTasksAndReportsMissingFiles) {
  const auto dir = peppp::test::scratch_dir();
  std::ofstream(dir + "/cat.ini") << "[dataset c]\nkind = cifar100\npath = nowhere\n"
                                     "[defaults]\nresolution = 32\n"
                                     "[partition s]\ngroup.fish = aquarium_fish, flatfish, ray, shark, trout\n"
                                     "group.people = baby, boy, girl, man, woman\n";
  auto r = run_command(peppp::test::peppp_exe() + " tasks --catalog " + dir + "/cat.ini");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("missing file " + dir + "/nowhere/train.bin"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 dataset file(s) missing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("s-people"), std::string::npos) << r.output;
  EXPECT_LT(r.output.find("missing file"), r.output.find("s-people")) << "missing files come first";

  std::ofstream(dir + "/bad.ini") << "[dataset c]\nkind = cifar10\npath = x\n[defaults]\nresolution = 32\n"
                                     "[task t]\nclasses = cat, dgo\n";
  r = run_command(peppp::test::peppp_exe() + " tasks --catalog " + dir + "/bad.ini");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.ini:7: [task t] classes = 'cat, dgo': dataset c has no class 'dgo' (did you mean 'dog'?)"),
            std::string::npos) << r.output;
}
