#include "core/config/run_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace driftscope {
namespace {

using nlohmann::json;

// Field-by-field equality (RunConfig has no operator==); reports the first difference.
::testing::AssertionResult sameConfig(const RunConfig& a, const RunConfig& b) {
  auto fail = [](const char* field) {
    return ::testing::AssertionFailure() << "configs differ in " << field;
  };
  if (a.dataset != b.dataset) return fail("dataset");
  if (a.standardize != b.standardize) return fail("standardize");
  if (a.layers != b.layers) return fail("layers");
  if (a.activation != b.activation) return fail("activation");
  if (a.loss != b.loss) return fail("loss");
  if (a.sgd.learningRate != b.sgd.learningRate) return fail("lr");
  if (a.sgd.batchSize != b.sgd.batchSize) return fail("batch");
  if (a.sgd.momentum != b.sgd.momentum) return fail("momentum");
  if (a.sgd.weightDecay != b.sgd.weightDecay) return fail("weight_decay");
  if (a.sgd.withReplacement != b.sgd.withReplacement) return fail("sampling");
  if (a.sgd.seed != b.sgd.seed) return fail("seed");
  if (a.sgd.threads != b.sgd.threads) return fail("threads");
  if (a.burnInAuto != b.burnInAuto) return fail("burnInAuto");
  if (!a.burnInAuto && a.burnInEpochs != b.burnInEpochs) return fail("burnInEpochs");
  if (a.burnInPatience != b.burnInPatience) return fail("burn_in_patience");
  if (a.burnInImprovement != b.burnInImprovement) return fail("burn_in_improvement");
  if (a.epochs != b.epochs) return fail("epochs");
  if (a.recordEvery != b.recordEvery) return fail("record_every");
  if (a.capacity != b.capacity) return fail("capacity");
  if (a.memoryLimitBytes != b.memoryLimitBytes) return fail("memory_limit_mb");
  if (a.baselineSamples != b.baselineSamples) return fail("baseline_samples");
  if (a.alignEvery != b.alignEvery) return fail("align_every");
  if (a.pathPoints != b.pathPoints) return fail("path_points");
  if (a.evalSubset != b.evalSubset) return fail("eval_subset");
  if (a.msdLagMin != b.msdLagMin) return fail("msd_lag_min");
  if (a.msdLagMax != b.msdLagMax) return fail("msd_lag_max");
  if (a.liveAnalysisShare != b.liveAnalysisShare) return fail("live_analysis_share");
  if (a.lrHistory.size() != b.lrHistory.size()) return fail("lr_history size");
  for (std::size_t k = 0; k < a.lrHistory.size(); ++k) {
    if (a.lrHistory[k].step != b.lrHistory[k].step || a.lrHistory[k].lr != b.lrHistory[k].lr) {
      return fail("lr_history entry");
    }
  }
  return ::testing::AssertionSuccess();
}

// A configuration where every field differs from the defaults.
RunConfig unusualConfig() {
  RunConfig c;
  c.dataset = "mnist-embedded";
  c.standardize = false;
  c.layers = {784, 64, 32, 10};
  c.activation = Activation::kTanh;
  c.loss = LossKind::kMse;
  c.sgd.learningRate = 0.03f;
  c.sgd.batchSize = 17;
  c.sgd.momentum = 0.9f;
  c.sgd.weightDecay = 1e-4f;
  c.sgd.withReplacement = true;
  c.sgd.seed = 12345678901234ull;
  c.sgd.threads = 3;
  c.burnInEpochs = 7;
  c.burnInPatience = 5;
  c.burnInImprovement = 0.0125;
  c.epochs = 33;
  c.recordEvery = 11;
  c.capacity = 123;
  c.memoryLimitBytes = 300ull << 20;
  c.baselineSamples = 77;
  c.alignEvery = 4;
  c.pathPoints = 9;
  c.evalSubset = 555;
  c.msdLagMin = 2;
  c.msdLagMax = 40;
  c.liveAnalysisShare = 0.125;
  c.lrHistory = {{0, 0.03f}, {1500, 0.01f}, {4200, 0.1f}};
  return c;
}

Result<ConfigParse> roundTrip(const RunConfig& c) {
  const std::string text = configToJson(c).dump(2);
  return configFromJson(json::parse(text));
}

std::string validationMessage(const std::function<void(RunConfig&)>& change, int inputSize = 0,
                              int classes = 0) {
  RunConfig c;
  change(c);
  const Status s = validateConfig(c, inputSize, classes);
  return s ? std::string("<accepted>") : s.message();
}

TEST(RunConfig, DefaultConfigIsValidForMnist) {
  const Status s = validateConfig(RunConfig{}, 784, 10);
  EXPECT_TRUE(s) << s.message();
}

TEST(RunConfig, JsonRoundTripGivesEqualConfig) {
  const RunConfig c = unusualConfig();
  ASSERT_TRUE(validateConfig(c, 784, 10)) << validateConfig(c, 784, 10).message();
  auto back = roundTrip(c);
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(back->warnings.empty());
  EXPECT_TRUE(sameConfig(back->config, c));
  // Parsing over a base: absent keys must not leak the base into a full config.
  auto overDefaults = configFromJson(configToJson(c), RunConfig{});
  ASSERT_TRUE(overDefaults);
  EXPECT_TRUE(sameConfig(overDefaults->config, c));
}

TEST(RunConfig, JsonRoundTripKeepsAutoBurnIn) {
  RunConfig c = unusualConfig();
  c.burnInAuto = true;
  EXPECT_EQ(configToJson(c).at("burn_in"), "auto");
  auto back = roundTrip(c);
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(back->config.burnInAuto);
  EXPECT_TRUE(sameConfig(back->config, c));
  // And a numeric burn_in switches auto off again.
  auto numeric = configFromJson(json{{"burn_in", 4}}, back->config);
  ASSERT_TRUE(numeric);
  EXPECT_FALSE(numeric->config.burnInAuto);
  EXPECT_EQ(numeric->config.burnInEpochs, 4);
}

TEST(RunConfig, JsonRoundTripThroughFileGivesEqualConfig) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "driftscope_run_config_test.json").string();
  {
    std::ofstream out(path);
    out << "// a comment is allowed\n" << configToJson(unusualConfig()).dump(2);
  }
  auto back = loadConfigFile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(sameConfig(back->config, unusualConfig()));
}

TEST(RunConfig, LearningRateSerialisesAsTypedDecimal) {
  RunConfig c;
  c.sgd.learningRate = 0.05f;
  c.sgd.momentum = 0.9f;
  c.lrHistory = {{0, 0.05f}, {10, 0.001f}};
  const std::string text = configToJson(c).dump();
  EXPECT_NE(text.find("\"lr\":0.05,"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.0500000"), std::string::npos) << text;
  EXPECT_NE(text.find("\"momentum\":0.9,"), std::string::npos) << text;
  EXPECT_NE(text.find("{\"lr\":0.001,\"step\":10}"), std::string::npos) << text;
}

TEST(RunConfig, PartialJsonKeepsBaseValues) {
  RunConfig base = unusualConfig();
  auto r = configFromJson(json{{"lr", 0.2}, {"layers", "784-50-10"}}, base);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->config.sgd.learningRate, 0.2f);
  EXPECT_EQ(r->config.layers, (std::vector<int>{784, 50, 10}));
  EXPECT_EQ(r->config.capacity, base.capacity);
  EXPECT_EQ(r->config.lrHistory.size(), base.lrHistory.size());
}

TEST(RunConfig, UnknownKeysAreWarningsNotErrors) {
  auto r = configFromJson(json{{"lr", 0.1}, {"learning_rate", 0.3}, {"colour", "blue"}});
  ASSERT_TRUE(r) << r.message();
  ASSERT_EQ(r->warnings.size(), 2u);
  const std::string all = r->warnings[0] + " | " + r->warnings[1];
  EXPECT_NE(all.find("learning_rate"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
  EXPECT_EQ(r->config.sgd.learningRate, 0.1f);
}

TEST(RunConfig, WrongJsonTypeNamesFieldAndType) {
  struct Case {
    json j;
    const char* field;
    const char* type;
  };
  const Case cases[] = {
      {{{"batch", "abc"}}, "batch", "string"},
      {{{"lr", "fast"}}, "lr", "string"},
      {{{"epochs", 2.5}}, "epochs", "number"},
      {{{"standardize", 1}}, "standardize", "number"},
      {{{"layers", {784, "x", 10}}}, "layers", "array"},
      {{{"burn_in", true}}, "burn_in", "boolean"},
      {{{"seed", -3}}, "seed", "number"},
      {{{"lr_history", {{{"step", 0}}}}}, "lr_history", "object"},
      {{{"dataset", 5}}, "dataset", "number"},
      {{{"sampling", "sometimes"}}, "sampling", "sometimes"},
      {{{"activation", "sigmoid"}}, "activation", "sigmoid"},
  };
  for (const Case& c : cases) {
    auto r = configFromJson(c.j);
    ASSERT_FALSE(r) << c.j.dump() << " was accepted";
    EXPECT_NE(r.message().find(c.field), std::string::npos) << r.message();
    EXPECT_NE(r.message().find(c.type), std::string::npos) << r.message();
  }
}

TEST(RunConfig, NonObjectJsonIsRejected) {
  EXPECT_FALSE(configFromJson(json::array({1, 2})));
  EXPECT_FALSE(configFromJson(json("lr")));
}

TEST(RunConfig, NewerFormatVersionIsRefused) {
  auto r = configFromJson(json{{"format_version", kConfigFormatVersion + 1}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("format_version"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(std::to_string(kConfigFormatVersion + 1)), std::string::npos);
  EXPECT_TRUE(configFromJson(json{{"format_version", kConfigFormatVersion}}));
  EXPECT_FALSE(configFromJson(json{{"format_version", 0}}));
}

TEST(RunConfig, OutOfRangeFieldsAreRejectedNamingFieldAndValue) {
  struct Case {
    std::function<void(RunConfig&)> change;
    const char* field;
    const char* value;
  };
  const Case cases[] = {
      {[](RunConfig& c) { c.sgd.learningRate = -1.0f; }, "\"lr\"", "-1"},
      {[](RunConfig& c) { c.sgd.learningRate = 0.0f; }, "\"lr\"", "0"},
      {[](RunConfig& c) { c.sgd.learningRate = 1e4f; }, "\"lr\"", "10000"},
      {[](RunConfig& c) { c.sgd.batchSize = 0; }, "\"batch\"", "0"},
      {[](RunConfig& c) { c.sgd.momentum = 1.0f; }, "\"momentum\"", "1"},
      {[](RunConfig& c) { c.sgd.momentum = -0.5f; }, "\"momentum\"", "-0.5"},
      {[](RunConfig& c) { c.sgd.weightDecay = -0.1f; }, "\"weight_decay\"", "-0.1"},
      {[](RunConfig& c) { c.sgd.threads = 0; }, "\"threads\"", "0"},
      {[](RunConfig& c) { c.epochs = 0; }, "\"epochs\"", "0"},
      {[](RunConfig& c) { c.burnInEpochs = 40; }, "\"burn_in\"", "40"},
      {[](RunConfig& c) { c.burnInEpochs = -1; }, "\"burn_in\"", "-1"},
      {[](RunConfig& c) { c.burnInPatience = 0; }, "\"burn_in_patience\"", "0"},
      {[](RunConfig& c) { c.burnInImprovement = 1.5; }, "\"burn_in_improvement\"", "1.5"},
      {[](RunConfig& c) { c.recordEvery = 0; }, "\"record_every\"", "0"},
      {[](RunConfig& c) { c.capacity = 1; }, "\"capacity\"", "1"},
      {[](RunConfig& c) { c.baselineSamples = 1; }, "\"baseline_samples\"", "1"},
      {[](RunConfig& c) { c.alignEvery = -2; }, "\"align_every\"", "-2"},
      {[](RunConfig& c) { c.pathPoints = 1; }, "\"path_points\"", "1"},
      {[](RunConfig& c) { c.evalSubset = 0; }, "\"eval_subset\"", "0"},
      {[](RunConfig& c) { c.msdLagMin = 0; }, "\"msd_lag_min\"", "0"},
      {[](RunConfig& c) { c.msdLagMax = 1; }, "\"msd_lag_max\"", "1"},
      {[](RunConfig& c) { c.liveAnalysisShare = 1.5; }, "\"live_analysis_share\"", "1.5"},
      {[](RunConfig& c) { c.liveAnalysisShare = -0.01; }, "\"live_analysis_share\"", "-0.01"},
      {[](RunConfig& c) { c.dataset = "no-such-source:"; }, "\"dataset\"", "no-such-source"},
      {[](RunConfig& c) {
         c.layers = {784, 0, 10};
       },
       "\"layers\"", "0"},
      {[](RunConfig& c) {
         c.lrHistory = {{0, 0.05f}, {100, -1.0f}};
       },
       "\"lr_history\"", "-1"},
      {[](RunConfig& c) {
         c.lrHistory = {{-5, 0.05f}};
       },
       "\"lr_history\"", "-5"},
      {[](RunConfig& c) {
         c.lrHistory = {{100, 0.1f}, {50, 0.2f}};
       },
       "\"lr_history\"", "50"},
  };
  for (const Case& c : cases) {
    const std::string m = validationMessage(c.change);
    EXPECT_NE(m.find(c.field), std::string::npos) << "expected " << c.field << ": " << m;
    EXPECT_NE(m.find(c.value), std::string::npos) << "expected " << c.value << ": " << m;
  }
}

TEST(RunConfig, BurnInEqualToEpochsIsRejectedButAutoIsNot) {
  EXPECT_NE(validationMessage([](RunConfig& c) { c.burnInEpochs = c.epochs; }).find("burn_in"),
            std::string::npos);
  EXPECT_EQ(validationMessage([](RunConfig& c) { c.burnInEpochs = c.epochs - 1; }), "<accepted>");
  EXPECT_EQ(validationMessage([](RunConfig& c) {
              c.burnInEpochs = c.epochs;
              c.burnInAuto = true;
            }),
            "<accepted>");
}

TEST(RunConfig, LayersNotMatchingTheDataAreRejected) {
  const std::string in = validationMessage([](RunConfig& c) { c.layers = {100, 32, 10}; }, 784, 10);
  EXPECT_NE(in.find("layers"), std::string::npos) << in;
  EXPECT_NE(in.find("100"), std::string::npos) << in;
  EXPECT_NE(in.find("784"), std::string::npos) << in;
  const std::string out = validationMessage([](RunConfig& c) { c.layers = {784, 32, 7}; }, 784, 10);
  EXPECT_NE(out.find("layers"), std::string::npos) << out;
  EXPECT_NE(out.find("7"), std::string::npos) << out;
  EXPECT_NE(out.find("10 classes"), std::string::npos) << out;
  EXPECT_EQ(validationMessage(
                [](RunConfig& c) {
                  c.layers = {784, 32, 10};
                },
                784, 10),
            "<accepted>");
}

TEST(RunConfig, RingLargerThanMemoryLimitIsRejected) {
  RunConfig c;
  c.layers = {784, 128, 10};  // P = 101770 floats = 407080 bytes per snapshot
  const std::uint64_t perSnapshot = 101770ull * sizeof(float);
  c.capacity = 500;
  EXPECT_EQ(ringBytes(c), 501 * perSnapshot);
  c.memoryLimitBytes = 100ull << 20;  // 100 MiB < 501 * 407080 B ~ 194.5 MiB
  const Status s = validateConfig(c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("capacity"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("500"), std::string::npos) << s.message();
  c.capacity = 200;  // 201 * 407080 B ~ 78 MiB fits
  EXPECT_TRUE(validateConfig(c)) << validateConfig(c).message();
  // From JSON: memory_limit_mb is in MiB.
  auto r = configFromJson(json{{"memory_limit_mb", 100}, {"capacity", 500}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->config.memoryLimitBytes, 100ull << 20);
  EXPECT_FALSE(validateConfig(r->config));
}

TEST(RunConfig, NegativeMemoryLimitIsRejected) {
  auto r = configFromJson(json{{"memory_limit_mb", -1}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("memory_limit_mb"), std::string::npos);
}

TEST(RunConfig, FormatBytesUsesBinaryUnits) {
  EXPECT_EQ(formatBytes(512), "512 B");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(3ull << 20), "3.0 MiB");
  EXPECT_EQ(formatBytes(5ull << 30), "5.0 GiB");
}

}  // namespace
}  // namespace driftscope
