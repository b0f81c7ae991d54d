#include "text/pretokenize.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>

namespace af::text {
namespace {

constexpr std::string_view kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// One code point of the text, decoded leniently: an invalid byte counts as one "other" character.
struct Cp {
  int32_t cp = -1;  // -1 at the end of the text
  size_t len = 0;
};

Cp at(std::string_view s, size_t i) {
  if (i >= s.size()) return {};
  utf8proc_int32_t cp = 0;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                            static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  if (n <= 0) return {0xFFFD, 1};
  return {cp, static_cast<size_t>(n)};
}

bool is_letter(int32_t cp) {
  if (cp < 0) return false;
  if (cp < 128) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  auto c = utf8proc_category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}
bool is_number(int32_t cp) {
  if (cp < 0) return false;
  if (cp < 128) return cp >= '0' && cp <= '9';
  auto c = utf8proc_category(cp);
  return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}
// \s: tab to carriage return, NEL, and the Unicode space, line and paragraph separators.
bool is_space(int32_t cp) {
  if (cp < 0) return false;
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return true;
  if (cp < 128) return false;
  auto c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}
bool is_cr_lf(int32_t cp) {
  return cp == '\r' || cp == '\n';
}
bool is_other(int32_t cp) {
  return cp >= 0 && !is_space(cp) && !is_letter(cp) && !is_number(cp);
}

// End of the contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t contraction(std::string_view s, size_t i, bool ignore_case) {
  if (i >= s.size() || s[i] != '\'') return 0;
  static constexpr std::array<std::string_view, 7> kTails = {"s", "t", "re", "ve", "m", "ll", "d"};
  for (auto tail : kTails) {
    if (i + 1 + tail.size() > s.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < tail.size() && ok; ++k) {
      char c = s[i + 1 + k];
      if (ignore_case && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      ok = c == tail[k];
    }
    if (ok) return i + 1 + tail.size();
  }
  return 0;
}

template <typename Pred>
size_t run_end(std::string_view s, size_t i, Pred pred, size_t max_count = SIZE_MAX) {
  size_t count = 0;
  for (Cp c = at(s, i); c.cp >= 0 && pred(c.cp) && count < max_count; c = at(s, i), ++count) i += c.len;
  return i;
}

// The whitespace alternatives shared by the patterns: \s+(?!\S) then \s+.
size_t whitespace_end(std::string_view s, size_t i) {
  size_t end = run_end(s, i, is_space);
  if (end == s.size()) return end;
  // Not at the end: leave the last space to the word after it, unless the run is that one space.
  size_t last = i;
  for (size_t k = i; k < end; k += at(s, k).len) last = k;
  return last > i ? last : end;
}

size_t gpt2_match(std::string_view s, size_t i) {
  if (size_t e = contraction(s, i, false)) return e;
  Cp c = at(s, i);
  size_t j = c.cp == ' ' ? i + 1 : i;
  Cp d = at(s, j);
  if (is_letter(d.cp)) return run_end(s, j, is_letter);
  if (is_number(d.cp)) return run_end(s, j, is_number);
  if (is_other(d.cp)) return run_end(s, j, is_other);
  if (is_space(c.cp)) return whitespace_end(s, i);
  return i + c.len;
}

size_t llama3_match(std::string_view s, size_t i, size_t max_digits) {
  if (size_t e = contraction(s, i, true)) return e;
  Cp c = at(s, i);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!is_cr_lf(c.cp) && !is_letter(c.cp) && !is_number(c.cp) && is_letter(at(s, i + c.len).cp))
    return run_end(s, i + c.len, is_letter);
  if (is_letter(c.cp)) return run_end(s, i, is_letter);
  if (is_number(c.cp)) return run_end(s, i, is_number, max_digits);
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t j = c.cp == ' ' ? i + 1 : i;
  if (is_other(at(s, j).cp)) return run_end(s, run_end(s, j, is_other), is_cr_lf);
  if (is_space(c.cp)) {
    // \s*[\r\n]+ ends after the last line break of the whitespace run.
    size_t end = run_end(s, i, is_space), last_break = SIZE_MAX;
    for (size_t k = i; k < end; k += at(s, k).len)
      if (is_cr_lf(at(s, k).cp)) last_break = k;
    if (last_break != SIZE_MAX) return last_break + 1;
    return whitespace_end(s, i);
  }
  return i + c.len;
}

const std::array<std::string, 256>& byte_chars() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      int cp = printable ? b : 256 + extra++;
      utf8proc_uint8_t buf[4];
      auto n = utf8proc_encode_char(cp, buf);
      t[static_cast<size_t>(b)] = std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
    }
    return t;
  }();
  return table;
}

}  // namespace

bool split_pattern_from_regex(std::string_view regex, SplitPattern& out) {
  if (regex == kLlama3Regex)
    out = SplitPattern::Llama3;
  else if (regex == kQwen2Regex)
    out = SplitPattern::Qwen2;
  else if (regex == kGpt2Regex)
    out = SplitPattern::Gpt2;
  else
    return false;
  return true;
}

std::vector<std::string_view> split_words(std::string_view text, SplitPattern pattern) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    size_t end = 0;
    switch (pattern) {
      case SplitPattern::Gpt2:
        end = gpt2_match(text, i);
        break;
      case SplitPattern::Llama3:
        end = llama3_match(text, i, 3);
        break;
      case SplitPattern::Qwen2:
        end = llama3_match(text, i, 1);
        break;
      case SplitPattern::Digits: {
        Cp c = at(text, i);
        end = is_number(c.cp) ? i + c.len : run_end(text, i, [](int32_t cp) { return !is_number(cp); });
        break;
      }
    }
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string bytes_to_chars(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += byte_chars()[b];
  return out;
}

std::string chars_to_bytes(std::string_view chars) {
  static const std::vector<int> inverse = [] {
    std::vector<int> inv(512, -1);
    for (int b = 0; b < 256; ++b) {
      utf8proc_int32_t cp = 0;
      const std::string& s = byte_chars()[static_cast<size_t>(b)];
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                       static_cast<utf8proc_ssize_t>(s.size()), &cp);
      inv[static_cast<size_t>(cp)] = b;
    }
    return inv;
  }();
  std::string out;
  for (size_t i = 0; i < chars.size();) {
    Cp c = at(chars, i);
    if (c.cp >= 0 && c.cp < 512 && inverse[static_cast<size_t>(c.cp)] >= 0)
      out.push_back(static_cast<char>(inverse[static_cast<size_t>(c.cp)]));
    else
      out.append(chars.substr(i, c.len));
    i += c.len;
  }
  return out;
}

std::string nfc(std::string_view text) {
  utf8proc_uint8_t* result = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                        static_cast<utf8proc_ssize_t>(text.size()), &result,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return std::string(text);
  std::string out(reinterpret_cast<char*>(result), static_cast<size_t>(n));
  std::free(result);
  return out;
}

}  // namespace af::text
