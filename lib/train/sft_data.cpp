#include "train/sft_data.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/jsonl_reader.h"
#include "core/log.h"
#include "core/parallel.h"
#include "model/lm_loss.h"
#include "text/chat_template.h"

namespace af::train {

namespace {

struct Row {
  std::string prompt, completion, id, group;
};

std::vector<Row> read_rows(const std::string& path) {
  std::vector<Row> rows;
  for (const auto& rec : read_jsonl_records(path)) {
    const auto& v = rec.value;
    if (!v.is_object() || !v.contains("prompt") || !v["prompt"].is_string() || !v.contains("completion") ||
        !v["completion"].is_string())
      throw runtime_error(path + ":" + std::to_string(rec.line) +
                              ": a corpus row needs string keys 'prompt' and 'completion'",
                          "the SFT corpus is ds-build corpus's d_04_training_corpus.jsonl");
    rows.push_back(
        {v["prompt"].get<std::string>(), v["completion"].get<std::string>(),
         v.value("id", "line " + std::to_string(rec.line)),
         v.contains("schema_id") && v["schema_id"].is_string() ? v["schema_id"].get<std::string>() : ""});
  }
  return rows;
}

}  // namespace

std::vector<std::string> corpus_texts(const std::string& path) {
  std::vector<std::string> texts;
  for (auto& r : read_rows(path)) {
    texts.push_back(std::move(r.prompt));
    texts.push_back(std::move(r.completion));
  }
  return texts;
}

SftData load_sft_data(const std::string& path, const text::Tokenizer& tok, const DataSettings& s) {
  std::vector<Row> rows = read_rows(path);
  if (s.max_samples > 0 && rows.size() > static_cast<size_t>(s.max_samples)) {
    std::vector<size_t> keep = seeded_permutation(rows.size(), s.seed ^ 0x5A17ULL);
    keep.resize(static_cast<size_t>(s.max_samples));
    std::sort(keep.begin(), keep.end());
    std::vector<Row> kept;
    for (size_t i : keep) kept.push_back(std::move(rows[i]));
    rows = std::move(kept);
  }
  SftData out;
  out.rows = rows.size();
  std::vector<Example> examples(rows.size());
  // A row longer in bytes than max_seq_length of the longest tokens could fill (4 times over, for what
  // normalization may fold) cannot fit: it is dropped untokenized, so one huge row costs no memory.
  const size_t cap = static_cast<size_t>(s.max_seq_length) * text::longest_token_bytes(tok) * 4;
  std::vector<char> untokenized(rows.size(), 0);
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  af::parallel_for(rows.size(), workers, [&](size_t i) {
    if (rows[i].prompt.size() + rows[i].completion.size() > cap) {
      untokenized[i] = 1;
      return;
    }
    text::ChatExample ex = text::tokenize_example(tok, rows[i].prompt, rows[i].completion);
    examples[i] = {std::move(ex.ids), ex.completion_begin, ex.completion_end, rows[i].id, rows[i].group};
  });
  std::vector<Example> kept;
  for (size_t i = 0; i < examples.size(); ++i) {
    Example& e = examples[i];
    // The completion's last supervised token must fit: the closing <end_of_turn> teaches the model to stop.
    if (untokenized[i] != 0 || e.completion_end > static_cast<size_t>(s.max_seq_length)) {
      ++out.dropped_too_long;
      out.dropped_untokenized += untokenized[i];
      continue;
    }
    if (e.ids.size() > static_cast<size_t>(s.max_seq_length))
      e.ids.resize(static_cast<size_t>(s.max_seq_length));
    kept.push_back(std::move(e));
  }
  if (out.dropped_too_long > 0)
    log_warn(out.dropped_too_long, " of ", rows.size(),
             " rows dropped: their completion does not fit max_seq_length ", s.max_seq_length);
  if (kept.empty())
    throw usage_error(path + ": no training rows left (" + std::to_string(out.dropped_too_long) +
                          " dropped for max_seq_length " + std::to_string(s.max_seq_length) + ")",
                      "raise training.max_seq_length or check the corpus");
  std::vector<size_t> order = seeded_permutation(kept.size(), s.seed);
  size_t n_eval = 0;
  if (s.val_split > 0 && kept.size() >= 2) {
    n_eval = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(kept.size()) * s.val_split));
    if (s.eval_max_samples > 0) n_eval = std::min(n_eval, static_cast<size_t>(s.eval_max_samples));
    n_eval = std::min(n_eval, kept.size() - 1);
  }
  for (size_t k = 0; k < order.size(); ++k)
    (k < n_eval ? out.eval : out.train).push_back(std::move(kept[order[k]]));
  return out;
}

Batch make_batch(const std::vector<Example>& all, const std::vector<size_t>& examples, int32_t pad_id,
                 bool share_prefix) {
  size_t prefix = 0;
  if (share_prefix && examples.size() > 1) {
    // The common start, ending before the first position that predicts a supervised token (that position
    // must be in the per-row part, where the loss is taken).
    const Example& first = all[examples[0]];
    prefix = first.completion_begin > 0 ? first.completion_begin - 1 : 0;
    for (size_t i : examples) {
      const Example& e = all[i];
      prefix = std::min(prefix, e.completion_begin > 0 ? e.completion_begin - 1 : 0);
      size_t same = 0;
      while (same < prefix && e.ids[same] == first.ids[same]) ++same;
      prefix = same;
    }
    if (static_cast<int64_t>(prefix) < kMinSharedPrefix) prefix = 0;
  }
  size_t longest = 0;
  for (size_t i : examples) longest = std::max(longest, all[i].ids.size());
  auto B = static_cast<int64_t>(examples.size()), T = static_cast<int64_t>(longest - prefix);
  auto P = static_cast<int64_t>(prefix);
  Batch b;
  b.rows = B;
  b.prefix_len = P;
  if (P > 0) {
    b.prefix_ids = at::empty({1, P}, at::TensorOptions().dtype(at::kLong));
    auto pre = b.prefix_ids.accessor<int64_t, 2>();
    for (int64_t t = 0; t < P; ++t) pre[0][t] = all[examples[0]].ids[static_cast<size_t>(t)];
  }
  b.ids = at::full({B, T}, pad_id, at::TensorOptions().dtype(at::kLong));
  b.mask = at::zeros({B, T}, at::TensorOptions().dtype(at::kLong));
  b.targets = at::full({B, T}, -100, at::TensorOptions().dtype(at::kLong));
  auto ids = b.ids.accessor<int64_t, 2>();
  auto mask = b.mask.accessor<int64_t, 2>();
  auto targets = b.targets.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const Example& e = all[examples[static_cast<size_t>(r)]];
    for (size_t t = prefix; t < e.ids.size(); ++t) {
      auto at = static_cast<int64_t>(t - prefix);
      ids[r][at] = e.ids[t];
      mask[r][at] = 1;
      // Position t predicts token t + 1: supervised when that token is in the completion span.
      if (t + 1 >= e.completion_begin && t + 1 < e.completion_end && t + 1 < e.ids.size()) {
        targets[r][at] = e.ids[t + 1];
        ++b.supervised;
      }
    }
    b.tokens += static_cast<int64_t>(e.ids.size());
  }
  return b;
}

at::Tensor forward_batch(const model::Gemma3& m, const Batch& b) {
  auto device = m.options().device();
  if (b.prefix_len == 0) return m.forward(b.ids.to(device), b.mask.to(device));
  // The shared prefix runs once; every row continues from its keys and values, and their gradients flow
  // back into that one run.
  model::KvCache cache;
  m.prefill(b.prefix_ids.to(device), at::ones_like(b.prefix_ids).to(device), cache);
  cache.expand_rows(b.rows);
  return m.forward(b.ids.to(device), b.mask.to(device), &cache);
}

at::Tensor batch_loss(const model::Gemma3& m, const Batch& b, double label_smoothing) {
  at::Tensor hidden = forward_batch(m, b);
  at::Tensor targets = b.targets.to(hidden.device()).reshape({-1});
  at::Tensor rows = targets.ge(0).nonzero().squeeze(1);
  // Only supervised positions reach the LM head, in chunks: no batch-wide vocabulary logits.
  at::Tensor h = hidden.reshape({-1, hidden.size(-1)}).index_select(0, rows);
  return model::chunked_lm_loss(h, m.lm_head_weight(), targets.index_select(0, rows), label_smoothing, 256,
                                m.config().final_logit_softcapping);
}

std::vector<std::vector<size_t>> group_batches(const std::vector<size_t>& order, size_t batch_size,
                                               const std::function<const std::string&(size_t)>& group_of) {
  std::vector<std::vector<size_t>> batches;
  if (!group_of) {
    for (size_t begin = 0; begin < order.size(); begin += batch_size)
      batches.emplace_back(order.begin() + static_cast<long>(begin),
                           order.begin() + static_cast<long>(std::min(order.size(), begin + batch_size)));
    return batches;
  }
  std::vector<std::string> groups;
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i : order) {
    auto [it, fresh] = members.try_emplace(group_of(i));
    if (fresh) groups.push_back(group_of(i));
    it->second.push_back(i);
  }
  for (const auto& g : groups) {
    auto more = group_batches(members[g], batch_size, {});
    batches.insert(batches.end(), more.begin(), more.end());
  }
  return batches;
}

namespace {

std::function<const std::string&(size_t)> group_of(const std::vector<Example>& examples, bool by_group) {
  if (!by_group) return {};
  return [&examples](size_t i) -> const std::string& { return examples[i].group; };
}

}  // namespace

std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, size_t batch_size,
                                               uint64_t seed, int64_t epoch, BatchGrouping grouping) {
  std::vector<size_t> order =
      seeded_permutation(examples.size(), seed * 1000003ULL + static_cast<uint64_t>(epoch));
  if (grouping.by_length) {
    // Sort within windows of 50 batches (as Hugging Face's length-grouped sampler does), keeping some
    // randomness.
    size_t window = batch_size * 50;
    for (size_t begin = 0; begin < order.size(); begin += window) {
      auto end = order.begin() + static_cast<long>(std::min(order.size(), begin + window));
      std::stable_sort(order.begin() + static_cast<long>(begin), end,
                       [&](size_t a, size_t b) { return examples[a].ids.size() > examples[b].ids.size(); });
    }
  }
  std::vector<std::vector<size_t>> batches =
      group_batches(order, batch_size, group_of(examples, grouping.by_group));
  if (grouping.by_length || grouping.by_group) shuffle_batches(batches, seed, epoch);
  return batches;
}

void shuffle_batches(std::vector<std::vector<size_t>>& batches, uint64_t seed, int64_t epoch) {
  std::vector<size_t> p = seeded_permutation(batches.size(), seed * 7919ULL + static_cast<uint64_t>(epoch));
  std::vector<std::vector<size_t>> shuffled;
  for (size_t i : p) shuffled.push_back(std::move(batches[i]));
  batches = std::move(shuffled);
}

std::vector<std::vector<size_t>> ordered_batches(const std::vector<Example>& examples, size_t batch_size,
                                                 bool by_group) {
  std::vector<size_t> order(examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return group_batches(order, batch_size, group_of(examples, by_group));
}

}  // namespace af::train
