// Configuration values at the edges of the types they are stored in (found while writing
// the config fuzz target; the inputs are kept in fuzz/regressions/config/).
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/config/run_config.h"

namespace driftscope {
namespace {

TEST(RunConfigLimits, RingSizeBeyondSixtyFourBitsSaturatesAndIsRejected) {
  RunConfig c;
  // 500 layers of 2^20 units: 2^49 parameters; x 100001 slots x 4 bytes > 2^64.
  c.layers = std::vector<int>(500, 1 << 20);
  c.layers.back() = 10;
  c.capacity = 100000;
  c.epochs = 20;
  EXPECT_EQ(ringBytes(c), std::numeric_limits<std::uint64_t>::max());
  const Status s = validateConfig(c);
  ASSERT_FALSE(s.isOk()) << "a ring of more than 2^64 bytes was accepted";
  EXPECT_NE(s.message().find("capacity"), std::string::npos) << s.message();
}

TEST(RunConfigLimits, MemoryLimitBeyondSixteenTebibytesIsAnErrorNamingTheField) {
  for (double mb : {1e300, 1.7e7, -1.0}) {
    auto r = configFromJson(nlohmann::json{{"memory_limit_mb", mb}});
    ASSERT_FALSE(r.isOk()) << mb;
    EXPECT_NE(r.message().find("memory_limit_mb"), std::string::npos) << r.message();
  }
  auto ok = configFromJson(nlohmann::json{{"memory_limit_mb", 16.0 * 1024 * 1024}});
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_EQ(ok->config.memoryLimitBytes, 16ull << 40);
}

}  // namespace
}  // namespace driftscope
