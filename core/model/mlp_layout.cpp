#include "core/model/mlp_layout.h"

#include <cctype>
#include <sstream>
#include <utility>

namespace driftscope {

MlpLayout::MlpLayout(std::vector<int> sizes) : m_sizes(std::move(sizes)) {
  assert(m_sizes.size() >= 2);
  std::size_t offset = 0;
  for (std::size_t l = 0; l + 1 < m_sizes.size(); ++l) {
    assert(m_sizes[l] > 0 && m_sizes[l + 1] > 0);
    LayerSlice s;
    s.in = m_sizes[l];
    s.out = m_sizes[l + 1];
    s.wOffset = offset;
    s.bOffset = offset + static_cast<std::size_t>(s.in) * s.out;
    offset = s.bOffset + static_cast<std::size_t>(s.out);
    m_layers.push_back(s);
  }
  m_paramCount = offset;
}

Result<MlpLayout> MlpLayout::fromSizes(const std::vector<int>& sizes) {
  if (sizes.size() < 2) {
    return Status::error("layers: need at least an input and an output size, got " +
                         std::to_string(sizes.size()) + " entr" +
                         (sizes.size() == 1 ? "y" : "ies"));
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] <= 0 || sizes[i] > (1 << 20)) {
      return Status::error("layers: entry " + std::to_string(i + 1) + " is " +
                           std::to_string(sizes[i]) + "; sizes must be between 1 and 1048576");
    }
  }
  return MlpLayout(sizes);
}

std::string MlpLayout::toString() const {
  std::string s;
  for (std::size_t i = 0; i < m_sizes.size(); ++i) {
    if (i) s += '-';
    s += std::to_string(m_sizes[i]);
  }
  return s;
}

RowMatrixMap MlpLayout::weights(float* params, int l) const {
  const LayerSlice& s = layer(l);
  return RowMatrixMap(params + s.wOffset, s.out, s.in);
}
ConstRowMatrixMap MlpLayout::weights(const float* params, int l) const {
  const LayerSlice& s = layer(l);
  return ConstRowMatrixMap(params + s.wOffset, s.out, s.in);
}
VectorMap MlpLayout::bias(float* params, int l) const {
  const LayerSlice& s = layer(l);
  return VectorMap(params + s.bOffset, s.out);
}
ConstVectorMap MlpLayout::bias(const float* params, int l) const {
  const LayerSlice& s = layer(l);
  return ConstVectorMap(params + s.bOffset, s.out);
}

namespace {

Result<std::vector<int>> parseIntList(const std::string& text, const std::string& what) {
  std::vector<int> out;
  std::string token;
  auto flush = [&](std::size_t position) -> Status {
    std::size_t b = token.find_first_not_of(" \t");
    std::size_t e = token.find_last_not_of(" \t");
    std::string t = b == std::string::npos ? std::string() : token.substr(b, e - b + 1);
    token.clear();
    if (t.empty()) {
      return Status::error(what + ": empty entry at position " + std::to_string(position) +
                           " in \"" + text + "\"");
    }
    for (char c : t) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        std::string message = what;
        message += ": \"" + t;
        message += "\" is not a positive whole number (in \"" + text;
        message += "\")";
        return Status::error(std::move(message));
      }
    }
    if (t.size() > 7) return Status::error(what + ": \"" + t + "\" is too large");
    int v = std::stoi(t);
    if (v <= 0) return Status::error(what + ": sizes must be positive, got " + t);
    out.push_back(v);
    return Status::ok();
  };
  std::size_t position = 1;
  for (char c : text) {
    if (c == ',' || c == '-') {
      if (Status s = flush(position); !s) return s;
      ++position;
    } else {
      token += c;
    }
  }
  if (Status s = flush(position); !s) return s;
  return out;
}

}  // namespace

Result<std::vector<int>> parseLayerSizes(const std::string& text) {
  return parseIntList(text, "layers");
}

Result<std::vector<int>> parseHiddenSizes(const std::string& text) {
  if (text.find_first_not_of(" \t") == std::string::npos) return std::vector<int>{};
  return parseIntList(text, "hidden layers");
}

}  // namespace driftscope
