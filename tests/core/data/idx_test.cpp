#include "core/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/data/dataset.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

std::vector<std::uint8_t> imageFile(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                    std::uint32_t magic = 0x803) {
  std::vector<std::uint8_t> b;
  for (std::uint32_t v : {magic, count, rows, cols}) {
    auto x = be32(v);
    b.insert(b.end(), x.begin(), x.end());
  }
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

std::vector<std::uint8_t> labelFile(std::vector<std::uint8_t> labels, std::uint32_t magic = 0x801) {
  std::vector<std::uint8_t> b = be32(magic);
  auto c = be32(static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), c.begin(), c.end());
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& raw) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&zs, raw.size()) + 32);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("driftscope_idx_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const std::string p = (m_dir / name).string();
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  fs::path m_dir;
};

void expectError(const Status& s, const std::string& fragment, const std::string& file) {
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(file), std::string::npos)
      << "message must name the file: " << s.message();
}

TEST_F(IdxFiles, ReadsPlainAndGzipImagesIdentically) {
  const auto raw = imageFile(3, 2, 4);
  auto plain = readIdxImages(write("a.idx", raw));
  auto gz = readIdxImages(write("a.idx.gz", gzip(raw)));
  ASSERT_TRUE(plain) << plain.message();
  ASSERT_TRUE(gz) << gz.message();
  EXPECT_EQ(plain->count, 3);
  EXPECT_EQ(plain->rows, 2);
  EXPECT_EQ(plain->cols, 4);
  EXPECT_EQ(plain->pixels, gz->pixels);
  EXPECT_EQ(plain->pixels[5], 5);
}

TEST_F(IdxFiles, ReadsLabels) {
  auto l = readIdxLabels(write("l.gz", gzip(labelFile({3, 1, 4, 1, 5}))));
  ASSERT_TRUE(l) << l.message();
  EXPECT_EQ(l->labels, (std::vector<std::uint8_t>{3, 1, 4, 1, 5}));
}

TEST_F(IdxFiles, RejectsWrongMagic) {
  const std::string p = write("m", imageFile(1, 2, 2, 0x0804));
  expectError(readIdxImages(p).status(), "bad magic number 0x00000804", p);
  const std::string q = write("q", labelFile({1}, 0x1234));
  expectError(readIdxLabels(q).status(), "bad magic", q);
  expectError(readIdxImages(q).status(), "bad magic", q);
  const std::string lab = write("lab", labelFile({1, 2}));
  expectError(readIdxImages(lab).status(), "is an IDX label file", lab);
}

TEST_F(IdxFiles, RejectsBadDimensionsAndZeroCounts) {
  const std::string p = write("d", imageFile(1, 0, 5));
  expectError(readIdxImages(p).status(), "bad image dimensions 0x5", p);
  const std::string z = write("z", imageFile(0, 2, 2));
  expectError(readIdxImages(z).status(), "declares 0 images", z);
}

TEST_F(IdxFiles, RejectsTruncatedAndOversizedFiles) {
  auto raw = imageFile(4, 3, 3);
  raw.resize(raw.size() - 5);
  const std::string p = write("t", raw);
  expectError(readIdxImages(p).status(), "truncated", p);
  const std::string g = write("t.gz", gzip(raw));
  expectError(readIdxImages(g).status(), "truncated", g);
  auto extra = imageFile(1, 2, 2);
  extra.push_back(7);
  const std::string e = write("e", extra);
  expectError(readIdxImages(e).status(), "unexpected bytes", e);
  const std::string h = write("h", {0, 0, 8, 3, 0, 0});
  expectError(readIdxImages(h).status(), "too short", h);
}

TEST_F(IdxFiles, HugeDeclaredSizeIsRejectedWithoutAllocatingIt) {
  // Declares 4e9 x 4096 x 4096 bytes but holds 16; the check must come before allocation.
  auto raw = imageFile(0, 1, 1);
  raw[4] = raw[5] = raw[6] = raw[7] = 0xff;
  raw[8] = 0, raw[9] = 0, raw[10] = 0x10, raw[11] = 0;
  raw[12] = 0, raw[13] = 0, raw[14] = 0x10, raw[15] = 0;
  const std::string p = write("huge", raw);
  expectError(readIdxImages(p).status(), "truncated", p);
}

TEST_F(IdxFiles, RejectsCorruptAndTruncatedGzip) {
  auto gz = gzip(imageFile(5, 4, 4));
  auto corrupt = gz;
  for (std::size_t i = 12; i < corrupt.size() - 8; ++i) corrupt[i] ^= 0x5a;
  const std::string c = write("c.gz", corrupt);
  expectError(readIdxImages(c).status(), "gzip data is corrupt", c);
  gz.resize(gz.size() / 2);
  const std::string t = write("t.gz", gz);
  expectError(readIdxImages(t).status(), "gzip data is truncated", t);
}

TEST_F(IdxFiles, RejectsLabelsOutOfRange) {
  const std::string p = write("l", labelFile({0, 9, 10, 2}));
  expectError(readIdxLabels(p).status(), "label 10 at index 2 is out of range 0..9", p);
}

TEST_F(IdxFiles, RejectsEmptyMissingAndDirectory) {
  const std::string e = write("empty", {});
  expectError(readIdxImages(e).status(), "file is empty", e);
  const std::string missing = (m_dir / "nope.gz").string();
  expectError(readIdxImages(missing).status(), "file not found", missing);
  expectError(readIdxLabels(m_dir.string()).status(), "is a directory", m_dir.string());
}

TEST_F(IdxFiles, DatasetRejectsCountMismatchNamingBothFiles) {
  const std::string im = write("im", imageFile(3, 28, 28));
  const std::string lb = write("lb", labelFile({1, 2}));
  DataSource src;
  src.kind = DataSource::Kind::kIdxFiles;
  src.paths = {im, lb, im, lb};
  auto split = loadDataSplit(src);
  ASSERT_FALSE(split);
  EXPECT_NE(split.message().find(im + " holds 3 images but " + lb + " holds 2 labels"),
            std::string::npos)
      << split.message();
}

TEST_F(IdxFiles, DatasetFromUserIdxFilesScalesPixelsToUnitRange) {
  const std::string im = write("im.gz", gzip(imageFile(2, 2, 2)));
  const std::string lb = write("lb", labelFile({7, 8}));
  auto src = DataSource::parse("idx:" + im + "," + lb + "," + im + "," + lb);
  ASSERT_TRUE(src) << src.message();
  DataOptions raw;
  raw.standardize = false;
  auto split = loadDataSplit(*src, raw);
  ASSERT_TRUE(split) << split.message();
  EXPECT_EQ(split->train.size(), 2);
  EXPECT_FLOAT_EQ(split->train.images(1, 3), 7.0f / 255.0f);
  EXPECT_EQ(split->test.labels[1], 8);
}

TEST(DataSource, ParsesSpecsAndNamesBadOnes) {
  EXPECT_EQ(DataSource::parse("mnist-embedded")->kind, DataSource::Kind::kEmbeddedMnist);
  EXPECT_EQ(DataSource::parse("fashion-mnist")->kind, DataSource::Kind::kFashionMnist);
  auto bad = DataSource::parse("cifar");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("\"cifar\""), std::string::npos);
  EXPECT_FALSE(DataSource::parse("idx:a,b,c"));
  EXPECT_FALSE(DataSource::parse("idx:a,,c,d"));
}

TEST(EmbeddedMnist, Holds8000TrainAnd2000TestDigitsOfEveryClass) {
  DataOptions raw;
  raw.standardize = false;
  auto split = loadDataSplit(DataSource{}, raw);
  ASSERT_TRUE(split) << split.message();
  EXPECT_EQ(split->train.size(), 8000);
  EXPECT_EQ(split->test.size(), 2000);
  EXPECT_EQ(split->train.features(), 784);
  std::array<int, 10> counts{};
  for (auto y : split->train.labels) ++counts[y];
  for (int c : counts) EXPECT_GT(c, 600);
  EXPECT_GE(split->train.images.minCoeff(), 0.0f);
  EXPECT_LE(split->train.images.maxCoeff(), 1.0f);
  EXPECT_GT(split->train.images.maxCoeff(), 0.99f);
}

TEST(FashionMnist, LoadsSeventyThousandImagesWhenInstalled) {
  if (!fashionMnistInstalled()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto split = loadDataSplit(*DataSource::parse("fashion-mnist"));
  ASSERT_TRUE(split) << split.message();
  EXPECT_EQ(split->train.size() + split->test.size(), 70000);
}

TEST(DataOptions, StandardisationGivesZeroMeanUnitVarianceOnTrain) {
  DataOptions o;
  o.standardize = true;
  auto split = loadDataSplit(DataSource{}, o);
  ASSERT_TRUE(split);
  const Eigen::ArrayXXd x = split->train.images.cast<double>().array();
  EXPECT_NEAR(x.mean(), 0.0, 1e-4);
  EXPECT_NEAR((x - x.mean()).square().mean(), 1.0, 1e-3);
}

}  // namespace
}  // namespace driftscope
