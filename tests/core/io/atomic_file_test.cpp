#include "core/io/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace driftscope {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() / (std::string("driftscope_atomic_") + info->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(m_dir)) {
      names.insert(fs::relative(e.path(), m_dir).string());
    }
    return names;
  }

  fs::path m_dir;
};

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(AtomicFileTest, WriteCreatesFileWithExactContent) {
  const std::string content = std::string("a,b\n1,2\n") + '\0' + "binary";
  ASSERT_TRUE(writeTextFileAtomically(path("x.csv"), content));
  EXPECT_EQ(readAll(path("x.csv")), content);
  EXPECT_EQ(listing(), (std::set<std::string>{"x.csv"}));
}

TEST_F(AtomicFileTest, WriteReplacesOldContentWhole) {
  ASSERT_TRUE(writeTextFileAtomically(path("x.csv"), std::string(1000, 'o')));
  ASSERT_TRUE(writeTextFileAtomically(path("x.csv"), "new\n"));
  EXPECT_EQ(readAll(path("x.csv")), "new\n");  // no tail of the longer old file
  EXPECT_EQ(listing(), (std::set<std::string>{"x.csv"}));
}

TEST_F(AtomicFileTest, FailingWriterKeepsOldFileAndLeavesNoTemporary) {
  ASSERT_TRUE(writeTextFileAtomically(path("x.csv"), "old content\n"));
  const Status s = writeFileAtomically(path("x.csv"), [](std::ostream& out) {
    out << "half of the new cont";
    return Status::error("generator gave up");
  });
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("generator gave up"), std::string::npos) << s.message();
  EXPECT_EQ(readAll(path("x.csv")), "old content\n");
  EXPECT_EQ(listing(), (std::set<std::string>{"x.csv"}));
}

TEST_F(AtomicFileTest, FailingWriterCreatesNothingWhenNoOldFile) {
  const Status s = writeFileAtomically(path("y.csv"), [](std::ostream& out) {
    out << "partial";
    return Status::error("no");
  });
  EXPECT_FALSE(s);
  EXPECT_TRUE(listing().empty());
}

TEST_F(AtomicFileTest, DirectoryAsTargetIsAnErrorNamingThePath) {
  fs::create_directories(m_dir / "sub");
  const Status s = writeTextFileAtomically(path("sub"), "x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(path("sub")), std::string::npos) << s.message();
  EXPECT_TRUE(fs::is_directory(m_dir / "sub"));
  EXPECT_EQ(listing(), (std::set<std::string>{"sub"}));
}

TEST_F(AtomicFileTest, PathUnderARegularFileIsAnErrorAndCreatesNothing) {
  ASSERT_TRUE(writeTextFileAtomically(path("somefile"), "plain"));
  const std::string target = path("somefile") + "/x.csv";
  const Status s = writeTextFileAtomically(target, "x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(target), std::string::npos) << s.message();
  EXPECT_EQ(readAll(path("somefile")), "plain");
  EXPECT_EQ(listing(), (std::set<std::string>{"somefile"}));
}

TEST_F(AtomicFileTest, MissingFolderIsAnErrorNamingThePath) {
  const std::string target = path("no/such/folder/x.csv");
  const Status s = writeTextFileAtomically(target, "x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(target), std::string::npos) << s.message();
  EXPECT_TRUE(listing().empty());
}

TEST_F(AtomicFileTest, EnsureDirectoryCreatesParentsAndRejectsAFile) {
  EXPECT_TRUE(ensureDirectory(path("a/b/c")));
  EXPECT_TRUE(fs::is_directory(m_dir / "a/b/c"));
  EXPECT_TRUE(ensureDirectory(path("a/b/c")));  // exists already: fine
  ASSERT_TRUE(writeTextFileAtomically(path("f"), "x"));
  const Status s = ensureDirectory(path("f"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(path("f")), std::string::npos) << s.message();
  const Status under = ensureDirectory(path("f") + "/g");
  ASSERT_FALSE(under);
  EXPECT_NE(under.message().find(path("f") + "/g"), std::string::npos) << under.message();
}

}  // namespace
}  // namespace driftscope
