#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>

namespace driftscope {

namespace fs = std::filesystem;

namespace {

// strerror() may share one buffer between threads (clang-tidy concurrency-mt-unsafe);
// the error category's message is thread-safe.
std::string errnoText(int err) { return std::generic_category().message(err); }

std::string temporaryName(const std::string& path) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp-%08llx",
                static_cast<unsigned long long>(rng() & 0xffffffffull));
  return path + suffix;
}

Status syncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Status::error(path + ": cannot reopen to sync (" + errnoText(errno) + ")");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::error(path + ": fsync failed (" + errnoText(err) + ")");
  return Status::ok();
}

}  // namespace

Status ensureDirectory(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) {
      return Status::error(path + ": exists and is not a folder");
    }
    return Status::ok();
  }
  fs::create_directories(path, ec);
  if (ec) return Status::error(path + ": cannot create folder (" + ec.message() + ")");
  return Status::ok();
}

Status writeFileAtomically(const std::string& path,
                           const std::function<Status(std::ostream&)>& write) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Status::error(path + ": is a folder; cannot write a file there");
  }
  const std::string tmp = temporaryName(path);
  Status status;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Status::error(path + ": cannot write (" + errnoText(errno) + ")");
    }
    status = write(out);
    out.flush();
    if (status && !out) {
      status = Status::error(path + ": write failed (" + errnoText(errno) + "; disk full?)");
    }
    out.close();
    if (status && out.fail()) status = Status::error(path + ": closing the file failed");
  }
  if (status) status = syncFile(tmp);
  if (status && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Status::error(path + ": cannot replace the file (" + errnoText(errno) + ")");
  }
  if (!status) fs::remove(tmp, ec);
  return status;
}

Status writeTextFileAtomically(const std::string& path, const std::string& content) {
  return writeFileAtomically(path, [&](std::ostream& out) {
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return Status::ok();
  });
}

}  // namespace driftscope
