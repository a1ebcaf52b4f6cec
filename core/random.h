// Portable random draws from std::mt19937_64 (whose output sequence the C++ standard
// fixes). The standard distributions are implementation-defined, so a seed would give
// different weights with another standard library; these do not.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace driftscope {

using Rng = std::mt19937_64;

// Uniform in [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n) without modulo bias (Lemire's rejection on 64 bits).
inline std::uint64_t uniformIndex(Rng& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Standard normal by Box-Muller (one draw per call; the second value is discarded so
// each call consumes exactly two engine outputs).
inline double standardNormal(Rng& rng) {
  double u1 = uniform01(rng);
  const double u2 = uniform01(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

// Derives independent stream seeds from one user seed (SplitMix64 finaliser).
inline std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Fisher-Yates shuffle with uniformIndex (std::shuffle's draws are unspecified).
template <typename It>
void shuffleRange(It first, It last, Rng& rng) {
  const auto n = last - first;
  for (auto i = n - 1; i > 0; --i) {
    const auto j = static_cast<decltype(i)>(uniformIndex(rng, static_cast<std::uint64_t>(i + 1)));
    std::swap(first[i], first[j]);
  }
}

}  // namespace driftscope
