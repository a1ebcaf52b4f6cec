// libFuzzer target for the .dsession reader (checksum fixed up, then exported); see
// fuzz/fuzz_entries.h and scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)driftscope::fuzz::runSessionInput({data, size});
  return 0;
}
