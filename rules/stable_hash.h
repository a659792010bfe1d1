// stable_hash: FNV-1a over text, the same on every run and platform (unlike
// std::hash), for what must not move between restarts: a rule's schedule
// phase, its baseline refresh share, its kept counts' fingerprint. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace gapwatch {

inline std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;  // the 64-bit FNV offset basis
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;  // the 64-bit FNV prime
  }
  return hash;
}

}  // namespace gapwatch
