// One stable hash for the project's seeds, fingerprints and table versions: 64-bit FNV-1a.
#pragma once
#include <cstdint>
#include <string_view>

namespace af {

/// FNV-1a's 64-bit offset basis: the usual starting state.
inline constexpr uint64_t kFnvOffset = 1469598103934665603ull;

/// FNV-1a (64-bit) of `text`, continuing from `state` (kFnvOffset, or a seed mixed into it). Stable across
/// runs, compilers and platforms, unlike std::hash.
constexpr uint64_t fnv1a64(std::string_view text, uint64_t state = kFnvOffset) {
  for (unsigned char c : text) {
    state ^= c;
    state *= 1099511628211ull;
  }
  return state;
}

}  // namespace af
