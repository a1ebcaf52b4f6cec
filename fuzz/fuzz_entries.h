// Entry points shared by the libFuzzer targets (fuzz/*_fuzzer.cpp) and by the regression
// test that replays every kept crash input (tests/fuzz/fuzz_entries_test.cpp): each feeds
// one input through a reader the way a user's file reaches it and reports the outcome.
// For any input they must return (no crash, hang, leak, undefined behaviour or allocation
// of a size the input merely declares); an error must name the source. Besides the
// readers' own checks they test properties: a configuration that validates survives a
// JSON round trip unchanged, and a session that loads can be exported. A property
// violation aborts (the fuzzer reports it as a crash). Not thread-safe (the session entry
// reuses one temporary file per process).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace driftscope::fuzz {

struct Outcome {
  bool ok = false;
  std::string message;  // the reader's error when !ok
};

// Bytes of an IDX file (plain or gzip): gunzip, then parse as images and as labels.
// ok when either parse succeeds.
Outcome runIdxInput(std::span<const std::uint8_t> data, const std::string& name);

// Bytes of a config.json: parse (comments allowed, as loadConfigFile does), merge over the
// defaults, validate against the embedded data's shape (784 inputs, 10 classes).
Outcome runConfigInput(std::span<const std::uint8_t> data, const std::string& name);

// Bytes of a .dsession file WITHOUT its trailing CRC-32: the entry appends the correct
// checksum (otherwise nearly every mutation would stop at the checksum test), writes the
// file to a temporary path and loads it; a loaded session is then exported to CSV text.
Outcome runSessionInput(std::span<const std::uint8_t> data);
// The temporary file runSessionInput writes (per process); session errors name it.
std::string sessionPath();

}  // namespace driftscope::fuzz
