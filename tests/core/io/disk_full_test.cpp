// Disk full, simulated for real file-system writes without root: RLIMIT_FSIZE makes
// every write past the limit fail with EFBIG, exactly where ENOSPC would (SIGXFSZ is
// ignored so the write returns the error instead of killing the process). The writes go
// through writeFileAtomically: an error naming the file, no partial or temporary file,
// and an older file of the same name intact. (A 64 KiB tmpfs, which needs root, gives the
// same results: docs/reliability.md.)
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/engine/experiment.h"
#include "core/io/atomic_file.h"
#include "core/io/run_writer.h"
#include "core/io/session.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;

constexpr rlim_t kFullAfterBytes = 4096;

// Lowers the file-size limit of this process for its lifetime (tests run one per process).
class DiskFullAfter {
 public:
  explicit DiskFullAfter(rlim_t bytes) {
    m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &m_old);
    rlimit lower = m_old;
    lower.rlim_cur = bytes;
    m_ok = ::setrlimit(RLIMIT_FSIZE, &lower) == 0;
  }
  ~DiskFullAfter() {
    ::setrlimit(RLIMIT_FSIZE, &m_old);
    std::signal(SIGXFSZ, m_oldHandler);
  }
  bool ok() const { return m_ok; }

 private:
  rlimit m_old{};
  void (*m_oldHandler)(int) = nullptr;
  bool m_ok = false;
};

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() / (std::string("driftscope_diskfull_") + info->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  int temporaries() const {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(m_dir)) {
      if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
    }
    return n;
  }
  fs::path m_dir;
};

TEST_F(DiskFull, OverwritingWhenTheDiskFillsKeepsTheOldFileAndNamesThePath) {
  const std::string path = (m_dir / "metrics.csv").string();
  ASSERT_TRUE(writeTextFileAtomically(path, "old,content\n"));
  const std::string big(1 << 20, 'x');
  Status s;
  {
    DiskFullAfter full(kFullAfterBytes);
    ASSERT_TRUE(full.ok());
    s = writeTextFileAtomically(path, big);
  }
  ASSERT_FALSE(s.isOk()) << "a 1 MiB write past a 4 KiB limit succeeded";
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_EQ(readAll(path), "old,content\n");
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(DiskFull, StreamedWriteThatFillsTheDiskLeavesNoFile) {
  const std::string path = (m_dir / "snapshots.npy").string();
  Status s;
  {
    DiskFullAfter full(kFullAfterBytes);
    ASSERT_TRUE(full.ok());
    s = writeFileAtomically(path, [](std::ostream& out) {
      const std::string chunk(1000, 'y');
      for (int k = 0; k < 100; ++k)
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return Status::ok();
    });
  }
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(DiskFull, SessionSaveAndExportWhenTheDiskFillsKeepTheEarlierOnes) {
  RunConfig c;
  c.layers = {784, 8, 10};
  c.sgd.batchSize = 50;
  c.epochs = 2;
  c.burnInEpochs = 1;
  c.recordEvery = 2;
  c.capacity = 8;
  c.baselineSamples = 8;
  c.pathPoints = 3;
  c.evalSubset = 100;
  auto created =
      Experiment::create(c, std::make_shared<const DataSplit>(testing::smallSplit(600, 200)));
  ASSERT_TRUE(created) << created.message();
  auto e = std::move(created).value();
  ASSERT_EQ(e->run().reason, StopReason::kCompleted);
  const std::string session = (m_dir / "run.dsession").string();
  const fs::path out = m_dir / "export";
  e->runWithRing([&](const SnapshotRing& ring, std::shared_ptr<const AnalysisState> state) {
    const RunConfig resolved = e->resolvedConfig();
    const MlpLayout layout(resolved.layers);
    ASSERT_TRUE(saveSession(session, resolved, *state, ring, e->runInfo()));
    ASSERT_TRUE(writeRunOutputs(out.string(), resolved, layout, *state, ring, e->runInfo()));
    const std::string oldSession = readAll(session);
    const std::string oldSnapshots = readAll(out / "snapshots.npy");
    ASSERT_GT(oldSession.size(), kFullAfterBytes);
    ASSERT_GT(oldSnapshots.size(), kFullAfterBytes);
    Status saved, exported;
    {
      DiskFullAfter full(kFullAfterBytes);
      ASSERT_TRUE(full.ok());
      saved = saveSession(session, resolved, *state, ring, e->runInfo());
      exported = writeRunOutputs(out.string(), resolved, layout, *state, ring, e->runInfo());
    }
    ASSERT_FALSE(saved.isOk());
    EXPECT_NE(saved.message().find(session), std::string::npos) << saved.message();
    ASSERT_FALSE(exported.isOk());
    EXPECT_NE(exported.message().find(out.string()), std::string::npos) << exported.message();
    EXPECT_EQ(readAll(session), oldSession);
    EXPECT_EQ(readAll(out / "snapshots.npy"), oldSnapshots);
  });
  EXPECT_EQ(temporaries(), 0);
  EXPECT_TRUE(loadSession(session)) << "the earlier session no longer loads";
}

}  // namespace
}  // namespace driftscope
