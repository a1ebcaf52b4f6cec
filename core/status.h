// Expected failures (bad files, bad configuration, divergence) travel as values:
// a Status with a message that names the file/field/value, or a Result<T> holding
// either a value or such a Status. Broken invariants use assert instead.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace driftscope {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.m_ok = false;
    s.m_message = std::move(message);
    return s;
  }

  bool isOk() const { return m_ok; }
  explicit operator bool() const { return m_ok; }
  const std::string& message() const { return m_message; }

 private:
  bool m_ok = true;
  std::string m_message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_value(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : m_status(std::move(status)) {  // NOLINT: implicit by design
    assert(!m_status.isOk() && "Result from an OK status needs a value");
  }

  bool isOk() const { return m_value.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return m_status; }
  const std::string& message() const { return m_status.message(); }

  T& value() & {
    assert(isOk());
    return *m_value;
  }
  const T& value() const& {
    assert(isOk());
    return *m_value;
  }
  T&& value() && {
    assert(isOk());
    return std::move(*m_value);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> m_value;
  Status m_status;
};

}  // namespace driftscope
