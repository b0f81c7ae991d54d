// What every tokenizer offers the rest of astforge (Hugging Face tokenizer.json, SentencePiece .model).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace af::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// Token ids of `text`; special-token strings in the text ("<bos>") become their ids.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const = 0;
  /// Text of `ids`.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const = 0;
  /// The id of a token string, or -1.
  virtual int32_t token_to_id(std::string_view token) const = 0;
  /// Number of ids (the largest id + 1).
  virtual size_t vocab_size() const = 0;
  /// Whether `id` is a special or control token (<bos>, <end_of_turn>, ...), which stands for no text.
  virtual bool is_special(int32_t id) const = 0;
  /// The bytes token `id` adds to decoded text, byte-fallback tokens as their one raw byte (not always whole
  /// UTF-8 on its own); decode() of a sequence is these bytes joined, for text that is valid UTF-8.
  virtual std::string token_bytes(int32_t id) const = 0;
};

/// The most bytes one token of `tok` stands for (what bounds from below how many tokens a text takes).
size_t longest_token_bytes(const Tokenizer& tok);

}  // namespace af::text
