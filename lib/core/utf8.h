// UTF-8 validation and text positions (line/column) for error messages.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace af {

/// Byte offset of the first byte that is not part of valid UTF-8 (overlongs, surrogates and >U+10FFFF are
/// invalid), or nullopt when the whole text is valid.
std::optional<size_t> first_invalid_utf8(std::string_view text);

/// 1-based line and column of a byte offset (columns count bytes).
struct TextPos {
  size_t line = 1;
  size_t column = 1;
};
TextPos text_pos_of(std::string_view text, size_t offset);

/// Number of code points in valid UTF-8 text.
size_t utf8_length(std::string_view text);

}  // namespace af
