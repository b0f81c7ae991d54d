// Built into libastforge_sentencepiece only (see sentencepiece_shim.h); nothing else includes sentencepiece.
#include "text/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

void copy_message(const std::string& message, char* err, size_t cap) {
  if (cap == 0) return;
  size_t n = std::min(message.size(), cap - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

sentencepiece::SentencePieceProcessor* processor(void* sp) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(sp);
}

}  // namespace

extern "C" {

void* afsp_load(const char* path, char* err, size_t err_cap) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  auto status = sp->Load(path);
  if (!status.ok()) {
    copy_message(status.ToString(), err, err_cap);
    delete sp;
    return nullptr;
  }
  return sp;
}

void afsp_free(void* sp) {
  delete processor(sp);
}

size_t afsp_encode(void* sp, const char* text, size_t len, int32_t* out, size_t cap) {
  std::vector<int> ids;
  processor(sp)->Encode(std::string_view(text, len), &ids);
  for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
  return ids.size();
}

size_t afsp_decode(void* sp, const int32_t* ids, size_t n, char* out, size_t cap) {
  std::vector<int> v(ids, ids + n);
  std::string text;
  processor(sp)->Decode(v, &text);
  std::memcpy(out, text.data(), std::min(cap, text.size()));
  return text.size();
}

int32_t afsp_piece_to_id(void* sp, const char* piece, size_t len) {
  return processor(sp)->PieceToId(std::string_view(piece, len));
}

size_t afsp_id_to_piece(void* sp, int32_t id, char* out, size_t cap) {
  const std::string& piece = processor(sp)->IdToPiece(id);
  std::memcpy(out, piece.data(), std::min(cap, piece.size()));
  return piece.size();
}

int afsp_is_control(void* sp, int32_t id) {
  return processor(sp)->IsControl(id) ? 1 : 0;
}
int32_t afsp_unk_id(void* sp) {
  return processor(sp)->unk_id();
}
int32_t afsp_bos_id(void* sp) {
  return processor(sp)->bos_id();
}
size_t afsp_vocab_size(void* sp) {
  return static_cast<size_t>(processor(sp)->GetPieceSize());
}

int afsp_train(const char* const* keys, const char* const* values, size_t n, char* err, size_t err_cap) {
  std::unordered_map<std::string, std::string> args;
  for (size_t i = 0; i < n; ++i) args[keys[i]] = values[i];
  auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (status.ok()) return 0;
  copy_message(status.ToString(), err, err_cap);
  return -1;
}

}  // extern "C"
