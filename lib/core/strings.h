// Small string helpers shared across modules.
#pragma once
#include <string>
#include <string_view>

namespace af {

/// `s` with every occurrence of `from` (non-empty) replaced by `to`, scanning left to right.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace af
