#include "text/sp_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "core/error.h"
#include "core/files.h"

namespace af::text {
namespace {

// Control tokens SentencePiece does not match in text: the chat template writes them, so they are found here.
const std::vector<std::string> kControl = {"<pad>", "<eos>", "<bos>"};

}  // namespace

struct SpTokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

SpTokenizer::SpTokenizer() : impl_(std::make_unique<Impl>()) {}
SpTokenizer::~SpTokenizer() = default;
SpTokenizer::SpTokenizer(SpTokenizer&&) noexcept = default;
SpTokenizer& SpTokenizer::operator=(SpTokenizer&&) noexcept = default;

SpTokenizer SpTokenizer::load(const std::string& path) {
  SpTokenizer tok;
  auto status = tok.impl_->sp.Load(path);
  if (!status.ok()) throw usage_error(path + ": cannot load the SentencePiece model: " + status.ToString());
  return tok;
}

void SpTokenizer::train(const std::vector<std::string>& texts, int vocab_size,
                        const std::string& model_path) {
  if (texts.empty()) throw usage_error("no text to train a tokenizer on");
  std::string prefix = model_path.substr(
      0, model_path.size() - (model_path.size() >= 6 && model_path.ends_with(".model") ? 6 : 0));
  std::string input = prefix + ".train.txt";
  ensure_parent_dir(input);
  {
    std::ofstream out(input, std::ios::binary);
    for (const auto& t : texts) {
      std::string line = t;
      for (char& c : line)
        if (c == '\n') c = ' ';  // one sentence per line
      out << line << '\n';
    }
  }
  std::unordered_map<std::string, std::string> args = {
      {"input", input},
      {"model_prefix", prefix},
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(vocab_size)},
      {"byte_fallback", "true"},
      {"character_coverage", "1.0"},
      {"pad_id", "0"},
      {"eos_id", "1"},
      {"bos_id", "2"},
      {"unk_id", "3"},
      {"pad_piece", "<pad>"},
      {"eos_piece", "<eos>"},
      {"bos_piece", "<bos>"},
      {"unk_piece", "<unk>"},
      {"user_defined_symbols", "<start_of_turn>,<end_of_turn>"},
      // Keep text exactly: JSON and whitespace runs must survive encode -> decode.
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"split_digits", "true"},
      {"max_sentence_length", "1000000"},
      {"num_threads", "2"},
      {"minloglevel", "2"},
  };
  auto status = sentencepiece::SentencePieceTrainer::Train(args);
  std::filesystem::remove(input);
  if (!status.ok()) throw runtime_error("training the tokenizer failed: " + status.ToString());
  if (prefix + ".model" != model_path) std::filesystem::rename(prefix + ".model", model_path);
  std::filesystem::remove(prefix + ".vocab");
}

std::vector<int32_t> SpTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> out;
  if (add_special_tokens) out.push_back(impl_->sp.bos_id());
  auto plain = [&](std::string_view part) {
    if (part.empty()) return;
    std::vector<int> ids;
    impl_->sp.Encode(std::string(part), &ids);
    out.insert(out.end(), ids.begin(), ids.end());
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    bool matched = false;
    for (const auto& c : kControl) {
      if (text.compare(i, c.size(), c) == 0) {
        plain(text.substr(start, i - start));
        out.push_back(impl_->sp.PieceToId(c));
        i += c.size();
        start = i;
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
  plain(text.substr(start));
  return out;
}

std::string SpTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string out;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string piece;
    impl_->sp.Decode(run, &piece);
    out += piece;
    run.clear();
  };
  for (int32_t id : ids) {
    if (impl_->sp.IsControl(id)) {
      flush();
      if (!skip_special_tokens) out += impl_->sp.IdToPiece(id);
    } else {
      run.push_back(id);
    }
  }
  flush();
  return out;
}

int32_t SpTokenizer::token_to_id(std::string_view token) const {
  int id = impl_->sp.PieceToId(std::string(token));
  // SentencePiece answers <unk>'s id for unknown pieces.
  if (id == impl_->sp.unk_id() && token != impl_->sp.IdToPiece(impl_->sp.unk_id())) return -1;
  return id;
}

size_t SpTokenizer::vocab_size() const {
  return static_cast<size_t>(impl_->sp.GetPieceSize());
}

}  // namespace af::text
