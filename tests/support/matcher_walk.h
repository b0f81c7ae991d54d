// Random documents drawn through the constrained-decoding matcher: each step takes one byte the matcher
// allows, so a walk that ends complete is what a constrained generator could emit.
#pragma once
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace af::test {

/// A random walk through the matcher for `schema` (sorted keys); past 60 bytes it closes what is open.
/// `stuck` is set when the walk met a state with no allowed byte before the document was complete (a dead
/// end).
std::string random_walk(const nlohmann::json& schema, std::mt19937& rng, bool* stuck);

}  // namespace af::test
