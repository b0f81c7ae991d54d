// A C interface to libsentencepiece, built as its own library (libastforge_sentencepiece) and loaded with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND). Debian's libsentencepiece carries a private copy of protobuf 3.14's
// symbols, and libtorch loads protobuf 3.21: in one global symbol scope either copy breaks the other (a crash
// at start-up, or a version check that throws). Loaded this way, sentencepiece binds to its own copy only.
#pragma once
#include <cstddef>
#include <cstdint>

extern "C" {
/// Loads a .model file; nullptr with a message in `err` on failure.
void* afsp_load(const char* path, char* err, size_t err_cap);
void afsp_free(void* sp);
/// Encodes `len` bytes; writes at most `cap` ids and returns how many there are (call again when more than
/// cap).
size_t afsp_encode(void* sp, const char* text, size_t len, int32_t* out, size_t cap);
/// Decodes `n` ids; writes at most `cap` bytes and returns the full length.
size_t afsp_decode(void* sp, const int32_t* ids, size_t n, char* out, size_t cap);
int32_t afsp_piece_to_id(void* sp, const char* piece, size_t len);
/// Writes the piece of `id` (at most `cap` bytes) and returns its length.
size_t afsp_id_to_piece(void* sp, int32_t id, char* out, size_t cap);
int afsp_is_control(void* sp, int32_t id);
int32_t afsp_unk_id(void* sp);
int32_t afsp_bos_id(void* sp);
size_t afsp_vocab_size(void* sp);
/// Trains a model with the trainer's key=value flags; 0 on success, else -1 with a message in `err`.
int afsp_train(const char* const* keys, const char* const* values, size_t n, char* err, size_t err_cap);
}
