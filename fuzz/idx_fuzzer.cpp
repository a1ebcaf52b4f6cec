// libFuzzer target for the IDX reader (plain and gzip; images and labels); see fuzz/fuzz_entries.h
// and scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)driftscope::fuzz::runIdxInput({data, size}, "fuzz-input.idx");
  return 0;
}
