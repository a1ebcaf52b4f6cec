#include "core/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

namespace driftscope {
namespace {

// strerror() may share one buffer between threads (clang-tidy concurrency-mt-unsafe);
// the error category's message is thread-safe.
std::string errnoText(int err) { return std::generic_category().message(err); }

std::uint32_t readBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

bool isGzip(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

}  // namespace

Result<std::vector<std::uint8_t>> maybeGunzip(std::span<const std::uint8_t> bytes,
                                              const std::string& name) {
  if (!isGzip(bytes)) return std::vector<std::uint8_t>(bytes.begin(), bytes.end());

  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Status::error(name + ": cannot initialise gzip decompression");
  }
  std::vector<std::uint8_t> out;
  out.reserve(std::min<std::size_t>(bytes.size() * 4, std::size_t{64} << 20));
  zs.next_in = const_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::uint8_t chunk[1 << 16];
  int rc = Z_OK;
  while (true) {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
    if (out.size() > kMaxIdxBytes) {
      inflateEnd(&zs);
      return Status::error(name + ": decompresses to more than " +
                           std::to_string(kMaxIdxBytes >> 30) + " GiB; refusing");
    }
    if (rc == Z_STREAM_END) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_BUF_ERROR;  // input exhausted before the end of the stream
      break;
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR) return Status::error(name + ": gzip data is truncated");
    return Status::error(name + ": gzip data is corrupt (" +
                         std::string(zs.msg ? zs.msg : "zlib error " + std::to_string(rc)) + ")");
  }
  return out;
}

Result<std::vector<std::uint8_t>> readMaybeGzipFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return Status::error(path + ": file not found");
  }
  if (std::filesystem::is_directory(status)) {
    return Status::error(path + ": is a directory, not an IDX file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::error(path + ": cannot open for reading (" + errnoText(errno) + ")");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::error(path + ": cannot determine the file size");
  if (size > kMaxIdxBytes) return Status::error(path + ": file larger than 4 GiB; refusing");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (size > 0 &&
      !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    return Status::error(path + ": read error");
  }
  return maybeGunzip(bytes, path);
}

Result<IdxImages> parseIdxImages(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) return Status::error(name + ": file is empty");
  if (bytes.size() >= 4) {
    const std::uint32_t magic = readBigEndian32(bytes.data());
    if (magic == 0x00000801) {
      return Status::error(name + ": is an IDX label file (magic 0x00000801), expected images");
    }
    if (magic != 0x00000803) {
      return Status::error(name + ": bad magic number " + hex32(magic) +
                           ", expected 0x00000803 (unsigned byte, 3 dimensions)");
    }
  }
  if (bytes.size() < 16) {
    return Status::error(name + ": too short for an IDX image header (" +
                         std::to_string(bytes.size()) + " bytes, need 16)");
  }
  const std::uint64_t count = readBigEndian32(bytes.data() + 4);
  const std::uint64_t rows = readBigEndian32(bytes.data() + 8);
  const std::uint64_t cols = readBigEndian32(bytes.data() + 12);
  if (count == 0) return Status::error(name + ": declares 0 images");
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096) {
    return Status::error(name + ": bad image dimensions " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " (each must be 1..4096)");
  }
  const std::uint64_t need = count * rows * cols;
  const std::uint64_t have = bytes.size() - 16;
  if (have < need) {
    return Status::error(name + ": truncated: declares " + std::to_string(count) + " images of " +
                         std::to_string(rows) + "x" + std::to_string(cols) + " (" +
                         std::to_string(need) + " bytes) but holds " + std::to_string(have));
  }
  if (have > need) {
    return Status::error(name + ": " + std::to_string(have - need) +
                         " unexpected bytes after the declared " + std::to_string(count) +
                         " images");
  }
  if (count > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return Status::error(name + ": declares " + std::to_string(count) +
                         " images, more than Driftscope can index (2^31 - 1)");
  }
  IdxImages out;
  out.count = static_cast<int>(count);
  out.rows = static_cast<int>(rows);
  out.cols = static_cast<int>(cols);
  out.pixels.assign(bytes.begin() + 16, bytes.end());
  return out;
}

Result<IdxLabels> parseIdxLabels(std::span<const std::uint8_t> bytes, const std::string& name,
                                 int numClasses) {
  if (bytes.empty()) return Status::error(name + ": file is empty");
  if (bytes.size() >= 4) {
    const std::uint32_t magic = readBigEndian32(bytes.data());
    if (magic == 0x00000803) {
      return Status::error(name + ": is an IDX image file (magic 0x00000803), expected labels");
    }
    if (magic != 0x00000801) {
      return Status::error(name + ": bad magic number " + hex32(magic) +
                           ", expected 0x00000801 (unsigned byte, 1 dimension)");
    }
  }
  if (bytes.size() < 8) {
    return Status::error(name + ": too short for an IDX label header (" +
                         std::to_string(bytes.size()) + " bytes, need 8)");
  }
  const std::uint64_t count = readBigEndian32(bytes.data() + 4);
  if (count == 0) return Status::error(name + ": declares 0 labels");
  const std::uint64_t have = bytes.size() - 8;
  if (have < count) {
    return Status::error(name + ": truncated: declares " + std::to_string(count) +
                         " labels but holds " + std::to_string(have));
  }
  if (have > count) {
    return Status::error(name + ": " + std::to_string(have - count) +
                         " unexpected bytes after the declared " + std::to_string(count) +
                         " labels");
  }
  IdxLabels out;
  out.labels.assign(bytes.begin() + 8, bytes.end());
  for (std::size_t i = 0; i < out.labels.size(); ++i) {
    if (out.labels[i] >= numClasses) {
      return Status::error(name + ": label " + std::to_string(out.labels[i]) + " at index " +
                           std::to_string(i) + " is out of range 0.." +
                           std::to_string(numClasses - 1));
    }
  }
  return out;
}

Result<IdxImages> readIdxImages(const std::string& path) {
  auto bytes = readMaybeGzipFile(path);
  if (!bytes) return bytes.status();
  return parseIdxImages(*bytes, path);
}

Result<IdxLabels> readIdxLabels(const std::string& path, int numClasses) {
  auto bytes = readMaybeGzipFile(path);
  if (!bytes) return bytes.status();
  return parseIdxLabels(*bytes, path, numClasses);
}

}  // namespace driftscope
