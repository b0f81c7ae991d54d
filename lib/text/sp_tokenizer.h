// SentencePiece tokenizers (`tokenizer.model`), and training one on a corpus for the scratch student: BPE
// with byte fallback, <pad> <eos> <bos> <unk> at Gemma's ids 0-3 and <start_of_turn>/<end_of_turn> as
// symbols.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace af::text {

class SpTokenizer : public Tokenizer {
 public:
  /// Loads a SentencePiece model file; a missing or invalid file is a usage error naming it.
  static SpTokenizer load(const std::string& path);
  /// Trains a model on `texts` (one sentence each) and writes it to `model_path`.
  static void train(const std::vector<std::string>& texts, int vocab_size, const std::string& model_path);
  ~SpTokenizer() override;
  SpTokenizer(SpTokenizer&&) noexcept;
  SpTokenizer& operator=(SpTokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const override;
  int32_t token_to_id(std::string_view token) const override;
  size_t vocab_size() const override;
  bool is_special(int32_t id) const override;
  std::string token_bytes(int32_t id) const override;

 private:
  SpTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A SentencePiece model (ModelProto bytes) without the paths its training recorded (TrainerSpec's input and
/// model_prefix), so the same corpus and settings always give the same bytes wherever they were trained.
std::string without_training_paths(const std::string& model);

/// One entry of a SentencePiece model's vocabulary, as the model file stores it.
struct SentencePiece {
  std::string piece;
  float score = 0;
  int32_t type = 1;  // NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6 (llama.cpp's too)
};
/// What other runtimes need to tokenize as a SentencePiece model does.
struct SentencePieceVocab {
  std::vector<SentencePiece> pieces;  // in id order
  bool add_dummy_prefix = true;       // NormalizerSpec's, with their protobuf defaults
  bool remove_extra_whitespaces = true;
};
/// The vocabulary and normalizer flags of a SentencePiece model (ModelProto bytes).
SentencePieceVocab sentencepiece_vocab(const std::string& model);

}  // namespace af::text
