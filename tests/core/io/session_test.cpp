#include "core/io/session.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/engine/experiment.h"
#include "core/io/run_writer.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeFile(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("driftscope_session_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    RunConfig c;
    c.layers = {784, 12, 8, 10};
    c.epochs = 3;
    c.burnInEpochs = 1;
    c.recordEvery = 20;
    c.capacity = 6;  // fewer than the snapshots taken: the ring has wrapped
    c.baselineSamples = 30;
    c.evalSubset = 200;
    c.lrHistory = {{0, 0.05f}, {150, 0.02f}};
    auto e = Experiment::create(c);
    ASSERT_TRUE(e) << e.message();
    m_experiment = std::move(e).value();
    ASSERT_EQ(m_experiment->run().reason, StopReason::kCompleted);
    m_info.version = "test";
    m_info.threads = 1;
    m_info.steps = m_experiment->trainer().step();
    m_info.epochs = m_experiment->trainer().epoch();
    m_info.outcome = m_experiment->outcome();
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::string save() {
    const std::string path = (m_dir / "run.dsession").string();
    Status status = Status::error("not run");
    m_experiment->runWithRing([&](const SnapshotRing& ring,
                                  std::shared_ptr<const AnalysisState> state) {
      m_state = state;
      status = saveSession(path, m_experiment->resolvedConfig(), *state, ring, m_info);
      EXPECT_TRUE(writeRunOutputs((m_dir / "original").string(), m_experiment->resolvedConfig(),
                                  MlpLayout(m_experiment->config().layers), *state, ring, m_info));
    });
    EXPECT_TRUE(status) << status.message();
    return path;
  }

  fs::path m_dir;
  std::unique_ptr<Experiment> m_experiment;
  std::shared_ptr<const AnalysisState> m_state;
  RunInfo m_info;
};

TEST_F(SessionTest, ReopenedSessionExportsTheSameDataFiles) {
  const std::string path = save();
  auto loaded = loadSession(path);
  ASSERT_TRUE(loaded) << loaded.message();
  ASSERT_TRUE(writeRunOutputs((m_dir / "reopened").string(), loaded->config,
                              MlpLayout(loaded->config.layers), *loaded->state, *loaded->ring,
                              loaded->info));
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(m_dir / "original")) {
    const fs::path other = m_dir / "reopened" / entry.path().filename();
    ASSERT_TRUE(fs::exists(other)) << other;
    EXPECT_EQ(readFile(entry.path()), readFile(other)) << entry.path().filename();
    ++compared;
  }
  EXPECT_EQ(compared, 15);
  // The reopened state carries the same series and reference.
  EXPECT_EQ(loaded->state->distances.size(), m_state->distances.size());
  ASSERT_TRUE(loaded->state->reference);
  EXPECT_EQ(loaded->state->reference->index, 0);
  EXPECT_EQ(loaded->config.lrHistory.size(), 2u);
  EXPECT_EQ(loaded->ring->size(), 6);
}

TEST_F(SessionTest, CorruptTruncatedNewerAndForeignFilesAreRefusedWithTheirName) {
  const std::string path = save();
  const std::string bytes = readFile(path);

  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  const fs::path corrupt = m_dir / "corrupt.dsession";
  writeFile(corrupt, flipped);
  auto r = loadSession(corrupt.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find(corrupt.string() + ": session file is corrupt"), std::string::npos)
      << r.message();

  const fs::path truncated = m_dir / "truncated.dsession";
  writeFile(truncated, bytes.substr(0, bytes.size() / 3));
  r = loadSession(truncated.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find(truncated.string()), std::string::npos) << r.message();

  // A newer format version with a valid checksum: refused by version, not as corrupt.
  std::string newer = bytes.substr(0, bytes.size() - 4);
  const std::uint32_t version = kSessionFormatVersion + 1;
  std::memcpy(newer.data() + 16, &version, sizeof version);
  const std::uint32_t crc = static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(newer.data()),
            static_cast<uInt>(newer.size())));
  newer.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  const fs::path future = m_dir / "future.dsession";
  writeFile(future, newer);
  r = loadSession(future.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("is newer than this Driftscope reads"), std::string::npos)
      << r.message();

  const fs::path foreign = m_dir / "config.json";
  writeFile(foreign, std::string(200, 'x'));
  r = loadSession(foreign.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("bad magic"), std::string::npos) << r.message();
  EXPECT_FALSE(loadSession((m_dir / "missing").string()));
}

}  // namespace
}  // namespace driftscope
