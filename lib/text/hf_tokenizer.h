// Hugging Face `tokenizer.json` BPE tokenizers, added tokens matched first, of two families:
//  - Gemma 3's: normalizer Replace(" " -> "▁"), BPE with byte fallback, <bos> from the post-processor, and
//  the
//    decoder Replace("▁" -> " ") + ByteFallback + Fuse;
//  - byte-level (GPT-2, Llama 3, Qwen 2, SmolLM): optional NFC, Split/ByteLevel/Digits pre-tokenizers, bytes
//    mapped to stand-in characters, BPE per word (ignore_merges honoured), and the ByteLevel decoder.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace af::text {

class HfTokenizer : public Tokenizer {
 public:
  /// Reads a tokenizer.json; an unsupported model, normalizer or decoder is a usage error naming it.
  static HfTokenizer load(const std::string& path);
  ~HfTokenizer() override;
  HfTokenizer(HfTokenizer&&) noexcept;
  HfTokenizer& operator=(HfTokenizer&&) noexcept;

  /// Token ids of `text`; with `add_special_tokens`, the post-processor's tokens (<bos>) too.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const override;
  /// Text of `ids` (byte-fallback tokens fused back into UTF-8); special tokens are kept unless skipped.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const override;
  /// The id of a token string, or -1.
  int32_t token_to_id(std::string_view token) const override;
  /// The string of a token id.
  const std::string& id_to_token(int32_t id) const;
  size_t vocab_size() const override;
  bool is_special(int32_t id) const override;
  std::string token_bytes(int32_t id) const override;

 private:
  HfTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::text
