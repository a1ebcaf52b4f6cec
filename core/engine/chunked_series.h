// ChunkedSeries<T>: an append-only series that published states share cheaply. Full
// chunks of kChunk records are immutable and shared by pointer between copies; only the
// tail (fewer than kChunk records) is copied. Publishing the scalar series of a long run
// is then O(n / kChunk + kChunk) instead of O(n). A copy is an independent value: it is
// safe to read a copy on one thread while the original grows on another.
#pragma once

#include <cassert>
#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

namespace driftscope {

template <typename T>
class ChunkedSeries {
 public:
  static constexpr std::size_t kChunk = 512;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    const_iterator() = default;
    const_iterator(const ChunkedSeries* s, std::size_t i) : m_series(s), m_index(i) {}
    reference operator*() const { return (*m_series)[m_index]; }
    pointer operator->() const { return &(*m_series)[m_index]; }
    const_iterator& operator++() {
      ++m_index;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++m_index;
      return old;
    }
    bool operator==(const const_iterator& o) const { return m_index == o.m_index; }
    bool operator!=(const const_iterator& o) const { return m_index != o.m_index; }

   private:
    const ChunkedSeries* m_series = nullptr;
    std::size_t m_index = 0;
  };

  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  const T& operator[](std::size_t i) const {
    assert(i < m_size);
    const std::size_t chunk = i / kChunk;
    if (chunk < m_chunks.size()) return (*m_chunks[chunk])[i % kChunk];
    return m_tail[i - m_chunks.size() * kChunk];
  }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[m_size - 1]; }
  // The last record, writable: if it sits in a shared chunk, that chunk becomes the tail.
  T& back() {
    assert(m_size > 0);
    if (m_tail.empty()) {
      m_tail = *m_chunks.back();
      m_chunks.pop_back();
    }
    return m_tail.back();
  }
  void push_back(T value) {
    m_tail.push_back(std::move(value));
    ++m_size;
    if (m_tail.size() == kChunk) {
      m_chunks.push_back(std::make_shared<const std::vector<T>>(std::move(m_tail)));
      m_tail = std::vector<T>();
      m_tail.reserve(kChunk);
    }
  }
  void clear() {
    m_chunks.clear();
    m_tail.clear();
    m_size = 0;
  }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, m_size}; }

 private:
  std::vector<std::shared_ptr<const std::vector<T>>> m_chunks;
  std::vector<T> m_tail;
  std::size_t m_size = 0;
};

}  // namespace driftscope
