// A seeded shuffle that is the same on every platform (std::shuffle's is implementation-defined): data
// splits, epoch orders and eval sample draws depend on it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace af {

/// 0..n-1 in the order of a Fisher-Yates shuffle driven by a 64-bit Mersenne Twister seeded with `seed`.
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);

}  // namespace af
