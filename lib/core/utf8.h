// UTF-8 validation and text positions (line/column) for error messages.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
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

/// The first `n` code points of valid UTF-8 text (all of it when shorter): a cut never splits a character.
std::string_view utf8_first_chars(std::string_view text, size_t n);

/// The last `n` code points of valid UTF-8 text (all of it when shorter).
std::string_view utf8_last_chars(std::string_view text, size_t n);

/// `text` cut to at most `max_chars` code points, the last three of them "..." when it was cut: how messages
/// quote user text. Invalid bytes become U+FFFD first, so the result can always be written as JSON.
std::string utf8_shorten(std::string_view text, size_t max_chars);

/// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD: for text from outside (an HTTP
/// body, a file) quoted in a message or a JSON record.
std::string utf8_valid(std::string_view text);

}  // namespace af
