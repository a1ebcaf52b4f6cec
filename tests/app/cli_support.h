// Runs the real driftscope binary (DRIFTSCOPE_EXE) for the end-to-end CLI tests and
// captures its exit code and combined output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#ifndef DRIFTSCOPE_EXE
#error "DRIFTSCOPE_EXE must name the driftscope binary"
#endif

namespace driftscope::testing {

struct ProcessResult {
  int exitCode = -1;
  std::string output;
};

// `args` follows the binary name, e.g. "run --out /tmp/x -q".
inline ProcessResult runDriftscopeCli(const std::string& args) {
  // One log per process: ctest runs the tests in parallel processes.
  const std::string log = (std::filesystem::temp_directory_path() /
                           ("driftscope_e2e_log_" + std::to_string(::getpid()) + ".txt"))
                              .string();
  const std::string cmd = std::string(DRIFTSCOPE_EXE) + " " + args + " >" + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  ProcessResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

}  // namespace driftscope::testing
