// The SFT data: corpus rows (prompt, completion) through the chat template into token ids with the supervised
// span, rows whose completion would be cut dropped and counted, a seeded train/eval split, and batches
// (seeded order per epoch, optional grouping by length, padding per batch).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/permutation.h"
#include "text/tokenizer.h"

namespace af::train {

/// One tokenized example; ids[completion_begin, completion_end) are supervised (completion + <end_of_turn>).
struct Example {
  std::vector<int32_t> ids;
  size_t completion_begin = 0;
  size_t completion_end = 0;
  std::string id;  // the corpus row's id, for messages
  size_t supervised() const { return completion_end - completion_begin; }
};

/// How the corpus becomes examples (training.*).
struct DataSettings {
  int64_t max_seq_length = 1024;
  double val_split = 0.05;
  int64_t eval_max_samples = -1;  // -1: no cap
  int64_t max_samples = -1;       // -1: all rows
  uint64_t seed = 0;
};

/// Examples ready for training and evaluation.
struct SftData {
  std::vector<Example> train;
  std::vector<Example> eval;
  size_t rows = 0;              // corpus rows read (after max_samples)
  size_t dropped_too_long = 0;  // rows whose completion would not fit max_seq_length
};

/// Reads the corpus at `path` (JSONL with "prompt" and "completion"), tokenizes it, drops and counts rows
/// that do not fit, and splits off the eval set. A row without prompt or completion is an error naming its
/// line.
SftData load_sft_data(const std::string& path, const text::Tokenizer& tok, const DataSettings& settings);
/// The texts of the corpus (prompts and completions), for training the scratch student's tokenizer.
std::vector<std::string> corpus_texts(const std::string& path);

/// A padded micro-batch: inputs [B, T], attention mask [B, T] and next-token targets [B, T] (-100 where the
/// position is not supervised or is padding).
struct Batch {
  at::Tensor ids;
  at::Tensor mask;
  at::Tensor targets;
  int64_t supervised = 0;  // positions with a target
  int64_t tokens = 0;      // real (unpadded) tokens
  int64_t rows = 0;
};

/// Pads `examples` (indices into `all`) into one batch.
Batch make_batch(const std::vector<Example>& all, const std::vector<size_t>& examples, int32_t pad_id);

/// The micro-batches of one epoch, as lists of example indices: a seeded shuffle (seed, epoch), and with
/// `group_by_length` examples of similar length batched together (then the batches shuffled).
std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, size_t batch_size,
                                               uint64_t seed, int64_t epoch, bool group_by_length);
/// Batches of `examples` in order (evaluation).
std::vector<std::vector<size_t>> ordered_batches(size_t count, size_t batch_size);

}  // namespace af::train
