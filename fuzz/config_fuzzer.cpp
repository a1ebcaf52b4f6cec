// libFuzzer target for the config.json reader and validator (with a JSON round-trip property); see
// fuzz/fuzz_entries.h and scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)driftscope::fuzz::runConfigInput({data, size}, "fuzz-config.json");
  return 0;
}
