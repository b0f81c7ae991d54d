#include "text/sp_tokenizer.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.h"
#include "core/files.h"
#include "text/sentencepiece_shim.h"

namespace af::text {
namespace {

// Control tokens SentencePiece does not match in text: the chat template writes them, so they are found here.
const std::vector<std::string> kControl = {"<pad>", "<eos>", "<bos>"};

// The functions of libastforge_sentencepiece, loaded once (see sentencepiece_shim.h for why it is dlopen'ed).
struct Shim {
  decltype(&afsp_load) load;
  decltype(&afsp_free) free;
  decltype(&afsp_encode) encode;
  decltype(&afsp_decode) decode;
  decltype(&afsp_piece_to_id) piece_to_id;
  decltype(&afsp_id_to_piece) id_to_piece;
  decltype(&afsp_is_control) is_control;
  decltype(&afsp_unk_id) unk_id;
  decltype(&afsp_bos_id) bos_id;
  decltype(&afsp_vocab_size) vocab_size;
  decltype(&afsp_train) train;
};

void anchor() {}

const Shim& shim() {
  static const Shim loaded = [] {
    // The shim sits next to the library this function is in.
    Dl_info info{};
    std::string dir = ".";
    if (dladdr(reinterpret_cast<void*>(&anchor), &info) != 0 && info.dli_fname != nullptr)
      dir = std::filesystem::path(info.dli_fname).parent_path().string();
    std::string path = dir + "/libastforge_sentencepiece.so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (handle == nullptr)
      throw runtime_error(std::string("cannot load the SentencePiece shim: ") + dlerror(),
                          "rebuild astforge (make build); the shim is built next to libastforge");
    Shim s{};
    auto get = [&](auto& fn, const char* name) {
      void* sym = dlsym(handle, name);
      if (sym == nullptr) throw runtime_error(path + ": missing symbol " + name);
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
    };
    get(s.load, "afsp_load");
    get(s.free, "afsp_free");
    get(s.encode, "afsp_encode");
    get(s.decode, "afsp_decode");
    get(s.piece_to_id, "afsp_piece_to_id");
    get(s.id_to_piece, "afsp_id_to_piece");
    get(s.is_control, "afsp_is_control");
    get(s.unk_id, "afsp_unk_id");
    get(s.bos_id, "afsp_bos_id");
    get(s.vocab_size, "afsp_vocab_size");
    get(s.train, "afsp_train");
    return s;
  }();
  return loaded;
}

std::string id_to_piece(void* sp, int32_t id) {
  char buf[256];
  size_t n = shim().id_to_piece(sp, id, buf, sizeof buf);
  if (n <= sizeof buf) return std::string(buf, n);
  std::string out(n, '\0');
  shim().id_to_piece(sp, id, out.data(), n);
  return out;
}

}  // namespace

struct SpTokenizer::Impl {
  void* sp = nullptr;
  ~Impl() {
    if (sp != nullptr) shim().free(sp);
  }
};

SpTokenizer::SpTokenizer() : impl_(std::make_unique<Impl>()) {}
SpTokenizer::~SpTokenizer() = default;
SpTokenizer::SpTokenizer(SpTokenizer&&) noexcept = default;
SpTokenizer& SpTokenizer::operator=(SpTokenizer&&) noexcept = default;

SpTokenizer SpTokenizer::load(const std::string& path) {
  SpTokenizer tok;
  char err[512] = {0};
  tok.impl_->sp = shim().load(path.c_str(), err, sizeof err);
  if (tok.impl_->sp == nullptr) throw usage_error(path + ": cannot load the SentencePiece model: " + err);
  return tok;
}

namespace {

// Protocol-buffer wire format, as much as rewriting one field needs.
uint64_t read_varint(const std::string& b, size_t& at) {
  uint64_t v = 0;
  for (int shift = 0; at < b.size() && shift < 64; shift += 7) {
    auto byte = static_cast<uint8_t>(b[at++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  throw runtime_error("a SentencePiece model with a malformed varint");
}

void write_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// The fields of one message, as (field number, wire type, encoded field) in order.
struct WireField {
  uint64_t number, type;
  std::string encoded;  // tag and value, as they were
  std::string payload;  // a length-delimited or fixed-width field's bytes
  uint64_t varint = 0;  // a varint field's value
};

std::vector<WireField> wire_fields(const std::string& b) {
  std::vector<WireField> out;
  for (size_t at = 0; at < b.size();) {
    size_t start = at;
    uint64_t tag = read_varint(b, at);
    WireField f{tag >> 3, tag & 7, "", "", 0};
    if (f.type == 0) {
      f.varint = read_varint(b, at);
    } else if (f.type == 1 || f.type == 5) {
      size_t width = f.type == 1 ? 8 : 4;
      if (width > b.size() - std::min(at, b.size()))
        throw runtime_error("a SentencePiece model with a truncated field");
      f.payload = b.substr(at, width);
      at += width;
    } else if (f.type == 2) {
      uint64_t len = read_varint(b, at);
      if (len > b.size() - at) throw runtime_error("a SentencePiece model with a truncated field");
      f.payload = b.substr(at, len);
      at += len;
    } else {
      throw runtime_error("a SentencePiece model with an unknown wire type");
    }
    if (at > b.size()) throw runtime_error("a SentencePiece model with a truncated field");
    f.encoded = b.substr(start, at - start);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::string without_training_paths(const std::string& model) {
  // ModelProto.trainer_spec (field 2) records the training run's paths: TrainerSpec.input (1) and
  // model_prefix (2). They name a temporary folder, so two identical trainings would write different bytes.
  std::string out;
  for (const WireField& f : wire_fields(model)) {
    if (f.number != 2 || f.type != 2) {
      out += f.encoded;
      continue;
    }
    std::string spec;
    for (const WireField& g : wire_fields(f.payload))
      if (!((g.number == 1 || g.number == 2) && g.type == 2)) spec += g.encoded;
    write_varint(out, (2 << 3) | 2);
    write_varint(out, spec.size());
    out += spec;
  }
  return out;
}

SentencePieceVocab sentencepiece_vocab(const std::string& model) {
  // ModelProto.pieces (field 1): SentencePiece {piece (1), score (2, float), type (3, NORMAL when absent)};
  // ModelProto.normalizer_spec (3): NormalizerSpec {add_dummy_prefix (3), remove_extra_whitespaces (4)}.
  SentencePieceVocab vocab;
  for (const WireField& f : wire_fields(model)) {
    if (f.number == 3 && f.type == 2) {
      for (const WireField& g : wire_fields(f.payload)) {
        if (g.number == 3 && g.type == 0) vocab.add_dummy_prefix = g.varint != 0;
        if (g.number == 4 && g.type == 0) vocab.remove_extra_whitespaces = g.varint != 0;
      }
    }
    if (f.number != 1 || f.type != 2) continue;
    SentencePiece p;
    for (const WireField& g : wire_fields(f.payload)) {
      if (g.number == 1 && g.type == 2) p.piece = g.payload;
      if (g.number == 2 && g.type == 5) std::memcpy(&p.score, g.payload.data(), 4);
      if (g.number == 3 && g.type == 0) p.type = static_cast<int32_t>(g.varint);
    }
    vocab.pieces.push_back(std::move(p));
  }
  return vocab;
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
  std::map<std::string, std::string> args = {
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
      // The space (SentencePiece's U+2581) is a piece of its own, never the start of a word's piece: a word
      // is then the same tokens in the request (" pending") and in the JSON answer ("\"pending\""), so
      // the student copies a value token for token instead of learning a second spelling of every word.
      {"user_defined_symbols", "<start_of_turn>,<end_of_turn>,\xe2\x96\x81"},
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
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : args) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  char err[512] = {0};
  int status = shim().train(keys.data(), values.data(), keys.size(), err, sizeof err);
  std::filesystem::remove(input);
  if (status != 0) throw runtime_error(std::string("training the tokenizer failed: ") + err);
  std::string model = without_training_paths(read_file(prefix + ".model"));
  write_file_atomic(model_path, model);
  if (prefix + ".model" != model_path) std::filesystem::remove(prefix + ".model");
  std::filesystem::remove(prefix + ".vocab");
}

std::vector<int32_t> SpTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> out;
  void* sp = impl_->sp;
  if (add_special_tokens) out.push_back(shim().bos_id(sp));
  auto plain = [&](std::string_view part) {
    if (part.empty()) return;
    size_t at = out.size();
    out.resize(at + part.size() + 1);  // never more ids than bytes (byte fallback is one id per byte)
    size_t n = shim().encode(sp, part.data(), part.size(), out.data() + at, part.size() + 1);
    if (n > part.size() + 1) {
      out.resize(at + n);
      shim().encode(sp, part.data(), part.size(), out.data() + at, n);
    }
    out.resize(at + n);
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    bool matched = false;
    for (const auto& c : kControl) {
      if (text.compare(i, c.size(), c) == 0) {
        plain(text.substr(start, i - start));
        out.push_back(shim().piece_to_id(sp, c.data(), c.size()));
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
  std::vector<int32_t> run;
  auto flush = [&] {
    if (run.empty()) return;
    size_t at = out.size();
    out.resize(at + run.size() * 16);
    size_t n = shim().decode(impl_->sp, run.data(), run.size(), out.data() + at, run.size() * 16);
    if (n > run.size() * 16) {
      out.resize(at + n);
      shim().decode(impl_->sp, run.data(), run.size(), out.data() + at, n);
    }
    out.resize(at + n);
    run.clear();
  };
  for (int32_t id : ids) {
    if (shim().is_control(impl_->sp, id) != 0) {
      flush();
      if (!skip_special_tokens) out += id_to_piece(impl_->sp, id);
    } else {
      run.push_back(id);
    }
  }
  flush();
  return out;
}

int32_t SpTokenizer::token_to_id(std::string_view token) const {
  int32_t id = shim().piece_to_id(impl_->sp, token.data(), token.size());
  // SentencePiece answers <unk>'s id for unknown pieces.
  int32_t unk = shim().unk_id(impl_->sp);
  if (id == unk && token != id_to_piece(impl_->sp, unk)) return -1;
  return id;
}

size_t SpTokenizer::vocab_size() const {
  return shim().vocab_size(impl_->sp);
}

bool SpTokenizer::is_special(int32_t id) const {
  if (shim().is_control(impl_->sp, id) != 0 || id == shim().unk_id(impl_->sp)) return true;
  // The chat template's turn markers are user-defined symbols: whole tokens, but not text.
  std::string piece = id_to_piece(impl_->sp, id);
  return std::find(kControl.begin(), kControl.end(), piece) != kControl.end() || piece == "<start_of_turn>" ||
         piece == "<end_of_turn>";
}

std::string SpTokenizer::token_bytes(int32_t id) const {
  if (is_special(id)) return "";
  std::string piece = id_to_piece(impl_->sp, id);
  // Byte pieces are written <0xNN>; "▁" stands for a space (no dummy prefix is added or removed here).
  if (piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece.back() == '>')
    return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, 3, "\xe2\x96\x81") == 0) {
      out += ' ';
      i += 3;
    } else {
      out += piece[i++];
    }
  }
  return out;
}

}  // namespace af::text
