#include "core/io/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace driftscope {
namespace {

namespace fs = std::filesystem;

// A fresh, empty folder per test, removed at the end.
class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() / (std::string("driftscope_npy_") + info->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

  fs::path m_dir;
};

std::vector<char> fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<float> ramp(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = 0.25f * static_cast<float>(k) - 3.0f;
  return v;
}

// Header: magic, version 1.0, little-endian length; total header size a multiple of 64.
void expectValidHeader(const std::vector<char>& bytes, std::size_t dataBytes) {
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(std::string(bytes.data(), 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  const std::size_t len = static_cast<unsigned char>(bytes[8]) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  EXPECT_EQ((10 + len) % 64, 0u) << "header length " << len;
  EXPECT_EQ(bytes[10 + len - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + len + dataBytes);
}

TEST_F(NpyTest, OneDimensionalRoundTripIsExact) {
  const std::vector<float> data = ramp(7);
  ASSERT_TRUE(writeNpyFloat32(path("a.npy"), {7}, data.data()));
  expectValidHeader(fileBytes(path("a.npy")), 7 * sizeof(float));
  const std::vector<char> bytes = fileBytes(path("a.npy"));
  EXPECT_NE(std::string(bytes.begin(), bytes.end()).find("'shape': (7,)"), std::string::npos);
  auto back = readNpyFloat32(path("a.npy"));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->shape, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(back->data, data);
}

TEST_F(NpyTest, TwoDimensionalRoundTripIsExact) {
  const std::vector<float> data = ramp(3 * 5);
  ASSERT_TRUE(writeNpyFloat32(path("b.npy"), {3, 5}, data.data()));
  expectValidHeader(fileBytes(path("b.npy")), 15 * sizeof(float));
  auto back = readNpyFloat32(path("b.npy"));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(back->data, data);
}

TEST_F(NpyTest, HeaderIsPaddedTo64ForManyShapeLengths) {
  // Shapes whose dict text lengths cross the 64-byte boundary at different places.
  for (std::int64_t n : {1, 9, 99, 12345, 1234567890}) {
    for (const std::vector<std::int64_t>& shape :
         {std::vector<std::int64_t>{n}, std::vector<std::int64_t>{n, 1},
          std::vector<std::int64_t>{1, n}}) {
      std::ostringstream os;
      writeNpyHeader(os, shape);
      const std::string h = os.str();
      const std::vector<char> bytes(h.begin(), h.end());
      SCOPED_TRACE("n = " + std::to_string(n));
      expectValidHeader(bytes, 0);
    }
  }
}

TEST_F(NpyTest, EmptyArrayRoundTrips) {
  ASSERT_TRUE(writeNpyFloat32(path("e.npy"), {0, 4}, nullptr));
  auto back = readNpyFloat32(path("e.npy"));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->shape, (std::vector<std::int64_t>{0, 4}));
  EXPECT_TRUE(back->data.empty());
}

TEST_F(NpyTest, TruncatedDataIsAnErrorNamingTheFile) {
  const std::vector<float> data = ramp(12);
  ASSERT_TRUE(writeNpyFloat32(path("t.npy"), {3, 4}, data.data()));
  std::vector<char> bytes = fileBytes(path("t.npy"));
  bytes.resize(bytes.size() - 3);
  writeBytes(path("t.npy"), bytes);
  auto back = readNpyFloat32(path("t.npy"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.message().find(path("t.npy")), std::string::npos) << back.message();
}

TEST_F(NpyTest, TruncatedHeaderIsAnErrorNamingTheFile) {
  const std::vector<float> data = ramp(4);
  ASSERT_TRUE(writeNpyFloat32(path("h.npy"), {4}, data.data()));
  std::vector<char> bytes = fileBytes(path("h.npy"));
  bytes.resize(40);
  writeBytes(path("h.npy"), bytes);
  auto back = readNpyFloat32(path("h.npy"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.message().find(path("h.npy")), std::string::npos) << back.message();
}

TEST_F(NpyTest, CorruptFilesAreErrorsNamingTheFile) {
  const std::vector<float> data = ramp(4);
  ASSERT_TRUE(writeNpyFloat32(path("good.npy"), {4}, data.data()));
  const std::vector<char> good = fileBytes(path("good.npy"));
  auto corrupt = [&](const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string s(good.begin(), good.end());
    edit(s);
    writeBytes(path(name), std::vector<char>(s.begin(), s.end()));
    auto back = readNpyFloat32(path(name));
    EXPECT_FALSE(back) << name << " was read";
    if (!back) {
      EXPECT_NE(back.message().find(path(name)), std::string::npos) << back.message();
    }
  };
  corrupt("magic.npy", [](std::string& s) { s[1] = 'X'; });
  corrupt("version.npy", [](std::string& s) { s[6] = 3; });
  corrupt("dtype.npy", [](std::string& s) { s.replace(s.find("<f4"), 3, "<f8"); });
  corrupt("fortran.npy", [](std::string& s) { s.replace(s.find("False"), 5, "True "); });
  corrupt("shape.npy", [](std::string& s) { s.replace(s.find("(4,)"), 4, "(x,)"); });
  corrupt("bigger.npy", [](std::string& s) { s.replace(s.find("(4,)"), 4, "(5,)"); });
  corrupt("tiny.npy", [](std::string& s) { s.resize(5); });
  // Missing file.
  auto missing = readNpyFloat32(path("missing.npy"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find(path("missing.npy")), std::string::npos);
}

TEST_F(NpyTest, NumpyLoadReadsOurFile) {
  const char* python = "/usr/bin/python3";
  if (!fs::exists(python) ||
      std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 with numpy not available";
  }
  const std::vector<float> data = ramp(2 * 3);
  ASSERT_TRUE(writeNpyFloat32(path("np.npy"), {2, 3}, data.data()));
  ASSERT_TRUE(writeNpyFloat32(path("np1.npy"), {3}, data.data()));
  // Exit code 0 only if shape, dtype and every value match.
  const std::string script =
      "import numpy as np, sys\n"
      "a = np.load(sys.argv[1]); b = np.load(sys.argv[2])\n"
      "ok = a.shape == (2, 3) and a.dtype == np.float32 and "
      "np.array_equal(a.ravel(), 0.25 * np.arange(6, dtype=np.float32) - 3) and "
      "b.shape == (3,) and np.array_equal(b, a.ravel()[:3])\n"
      "sys.exit(0 if ok else 1)\n";
  std::ofstream(path("check.py")) << script;
  const std::string cmd =
      std::string(python) + " " + path("check.py") + " " + path("np.npy") + " " + path("np1.npy");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace driftscope
