// The SFT data: corpus rows (prompt, completion) through the chat template into token ids with the supervised
// span, rows whose completion would be cut dropped and counted, a seeded train/eval split, and batches
// (seeded order per epoch, optional grouping by length, padding per batch).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/permutation.h"
#include "model/gemma3.h"
#include "text/tokenizer.h"

namespace af::train {

/// One tokenized example; ids[completion_begin, completion_end) are supervised (completion + <end_of_turn>).
struct Example {
  std::vector<int32_t> ids;
  size_t completion_begin = 0;
  size_t completion_end = 0;
  std::string id;     // the corpus row's id, for messages
  std::string group;  // the corpus row's schema_id: rows of one schema share the prompt's schema prefix
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
  size_t rows = 0;                 // corpus rows read (after max_samples)
  size_t dropped_too_long = 0;     // rows whose completion would not fit max_seq_length
  size_t dropped_untokenized = 0;  // of those, rows too long in bytes to be worth tokenizing
};

/// Reads the corpus at `path` (JSONL with "prompt" and "completion"), tokenizes it, drops and counts rows
/// that do not fit, and splits off the eval set. A row without prompt or completion is an error naming its
/// line.
SftData load_sft_data(const std::string& path, const text::Tokenizer& tok, const DataSettings& settings);
/// The texts of the corpus (prompts and completions), for training the scratch student's tokenizer.
std::vector<std::string> corpus_texts(const std::string& path);

/// A padded micro-batch: inputs [B, T], attention mask [B, T] and next-token targets [B, T] (-100 where the
/// position is not supervised or is padding). With a shared prefix, the first prefix_len tokens of every row
/// are the same `prefix_ids` [1, prefix_len], run once, and ids/mask/targets hold the rest of each row.
struct Batch {
  at::Tensor prefix_ids;
  int64_t prefix_len = 0;
  at::Tensor ids;
  at::Tensor mask;
  at::Tensor targets;
  int64_t supervised = 0;  // positions with a target
  int64_t tokens = 0;      // real (unpadded) tokens
  int64_t rows = 0;
};

/// Pads `examples` (indices into `all`) into one batch. With `share_prefix`, the tokens every row starts
/// with (at least kMinSharedPrefix of them, and all before the first supervised position) become the batch's
/// shared prefix.
Batch make_batch(const std::vector<Example>& all, const std::vector<size_t>& examples, int32_t pad_id,
                 bool share_prefix = false);
/// A shorter common start is not worth a second forward call.
inline constexpr int64_t kMinSharedPrefix = 32;

/// Hidden states [B, T, hidden] of the batch's rows (of the part after the shared prefix, when there is one),
/// on the model's device.
at::Tensor forward_batch(const model::Gemma3& m, const Batch& b);
/// The cross-entropy of the batch's supervised tokens, summed; only those positions reach the LM head.
at::Tensor batch_loss(const model::Gemma3& m, const Batch& b, double label_smoothing);

/// How epoch_batches groups examples.
struct BatchGrouping {
  bool by_length = false;  // examples of similar length together (less padding)
  bool by_group = false;   // each batch from one Example::group (one schema: a shared prompt prefix)
};
/// The micro-batches of one epoch, as lists of example indices: a seeded shuffle (seed, epoch), grouped as
/// asked (then the batches shuffled).
std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, size_t batch_size,
                                               uint64_t seed, int64_t epoch, BatchGrouping grouping);
/// Cuts `order` into batches of `batch_size`; with `group_of`, each batch holds items of one group only (a
/// group's last batch may be smaller), groups in the order their first item appears in `order`.
std::vector<std::vector<size_t>> group_batches(const std::vector<size_t>& order, size_t batch_size,
                                               const std::function<const std::string&(size_t)>& group_of);
/// Puts whole batches in a seeded order (seed, epoch): grouping batches puts similar ones together, and an
/// epoch should not run them so.
void shuffle_batches(std::vector<std::vector<size_t>>& batches, uint64_t seed, int64_t epoch);
/// Batches of `examples` in order (evaluation); with `by_group`, in order within each group.
std::vector<std::vector<size_t>> ordered_batches(const std::vector<Example>& examples, size_t batch_size,
                                                 bool by_group = false);

}  // namespace af::train
