#include "core/io/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "core/io/atomic_file.h"

namespace driftscope {

void writeNpyHeader(std::ostream& out, const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // magic(6) + version(2) + header_len(2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t unpadded = 10 + dict.size() + 1;
  const std::size_t padded = (unpadded + 63) / 64 * 64;
  dict.append(padded - unpadded, ' ');
  dict += '\n';
  const std::uint16_t len = static_cast<std::uint16_t>(dict.size());
  const char magic[] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.write(magic, 8);
  const char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(lenBytes, 2);
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
}

Status writeNpyFloat32(const std::string& path, const std::vector<std::int64_t>& shape,
                       const float* data) {
  std::int64_t count = 1;
  for (std::int64_t s : shape) count *= s;
  return writeFileAtomically(path, [&](std::ostream& out) {
    writeNpyHeader(out, shape);
    out.write(reinterpret_cast<const char*>(data),
              static_cast<std::streamsize>(count * static_cast<std::int64_t>(sizeof(float))));
    return Status::ok();
  });
}

Result<NpyArray> readNpyFloat32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    return Status::error(path + ": not an NPY file (bad magic)");
  }
  if (bytes[6] != 1) return Status::error(path + ": unsupported NPY version");
  const std::size_t len = static_cast<unsigned char>(bytes[8]) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (bytes.size() < 10 + len) return Status::error(path + ": truncated NPY header");
  const std::string header(bytes.data() + 10, len);
  if (header.find("'descr': '<f4'") == std::string::npos) {
    return Status::error(path + ": NPY dtype is not little-endian float32");
  }
  if (header.find("'fortran_order': False") == std::string::npos) {
    return Status::error(path + ": NPY array is in Fortran order");
  }
  const auto open = header.find('(');
  const auto close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) {
    return Status::error(path + ": NPY header has no shape");
  }
  NpyArray a;
  std::int64_t count = 1;
  std::string dims = header.substr(open + 1, close - open - 1);
  std::size_t pos = 0;
  while (pos < dims.size()) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
    if (pos >= dims.size()) break;
    std::size_t end = pos;
    while (end < dims.size() && dims[end] >= '0' && dims[end] <= '9') ++end;
    if (end == pos) {
      std::string message = path;
      message += ": bad NPY shape \"";
      message += dims;
      message += "\"";
      return Status::error(std::move(message));
    }
    a.shape.push_back(std::stoll(dims.substr(pos, end - pos)));
    count *= a.shape.back();
    pos = end;
  }
  const std::size_t dataBytes = bytes.size() - 10 - len;
  if (dataBytes != static_cast<std::size_t>(count) * sizeof(float)) {
    return Status::error(path + ": NPY holds " + std::to_string(dataBytes) +
                         " data bytes, shape needs " + std::to_string(count * 4));
  }
  a.data.resize(static_cast<std::size_t>(count));
  if (dataBytes > 0) std::memcpy(a.data.data(), bytes.data() + 10 + len, dataBytes);
  return a;
}

}  // namespace driftscope
