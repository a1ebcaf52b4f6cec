// Replays every kept crash input (fuzz/regressions/<target>/, see its README.md) and the
// seed corpora (fuzz/corpus/<target>/) through the fuzz entry points, in the normal test
// suite: no crash (under the asan preset no memory error, leak or UB either); a
// regression input is refused with a message naming its source unless its name says
// `.loads`; seeds are valid files and load.
#include "fuzz/fuzz_entries.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace driftscope::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs(const std::string& kind, const std::string& target) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(DRIFTSCOPE_FUZZ_DIR) / kind / target;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::uint8_t> bytesOf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Outcome replay(const std::string& target, const fs::path& file) {
  const std::vector<std::uint8_t> data = bytesOf(file);
  if (target == "idx") return runIdxInput(data, file.string());
  if (target == "config") return runConfigInput(data, file.string());
  return runSessionInput(data);
}

std::string sourceName(const std::string& target, const fs::path& file) {
  return target == "session" ? sessionPath() : file.string();
}

class FuzzRegressions : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzRegressions, EveryKeptCrashInputIsRefusedWithItsNameUnlessMarkedToLoad) {
  const std::string target = GetParam();
  const auto files = inputs("regressions", target);
  ASSERT_FALSE(files.empty()) << "no regression inputs for " << target;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const Outcome o = replay(target, f);
    if (f.filename().string().find(".loads") != std::string::npos) {
      EXPECT_TRUE(o.ok) << o.message;
    } else {
      ASSERT_FALSE(o.ok) << "a malformed input was accepted";
      EXPECT_NE(o.message.find(sourceName(target, f)), std::string::npos)
          << "message must name the source: " << o.message;
    }
  }
}

TEST_P(FuzzRegressions, EverySeedInputLoads) {
  const std::string target = GetParam();
  const auto files = inputs("corpus", target);
  ASSERT_FALSE(files.empty()) << "no seed corpus for " << target;
  for (const fs::path& f : files) {
    const Outcome o = replay(target, f);
    EXPECT_TRUE(o.ok) << f.string() << ": " << o.message;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressions, ::testing::Values("idx", "config", "session"),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace driftscope::fuzz
