// Pre-tokenizers of the byte-level BPE families (GPT-2, Llama 3, Qwen 2, SmolLM): the split patterns written
// as scanners (the patterns' \s+(?!\S) lookahead is beyond RE2), digit splitting, the byte-to-character map
// of ByteLevel, and NFC normalisation. Character classes follow Unicode (utf8proc), as the reference regex
// engines do.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace af::text {

/// How a text is cut into words before BPE.
enum class SplitPattern {
  Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,  // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
           // ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  Qwen2,   // as Llama3 with \p{N} (one digit per word)
  Digits,  // every digit alone (Digits pre-tokenizer with individual_digits)
};

/// The pattern a tokenizer.json Split regex names, or false when it is not one astforge knows.
bool split_pattern_from_regex(std::string_view regex, SplitPattern& out);

/// Cuts `text` into words (byte ranges) by `pattern`; the pieces cover the text exactly, in order.
std::vector<std::string_view> split_words(std::string_view text, SplitPattern pattern);

/// ByteLevel: each byte as its printable stand-in character (GPT-2's bytes_to_unicode), UTF-8 encoded.
std::string bytes_to_chars(std::string_view bytes);
/// The inverse of bytes_to_chars; characters outside the map are kept as they are.
std::string chars_to_bytes(std::string_view chars);

/// Unicode NFC normalisation; invalid UTF-8 is returned unchanged.
std::string nfc(std::string_view text);

}  // namespace af::text
