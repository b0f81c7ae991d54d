#include "train/dpo_objective.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "core/jsonl_reader.h"
#include "model/lm_loss.h"
#include "text/chat_template.h"

namespace af::train {

using nlohmann::json;

PairData load_pairs(const std::string& path, const text::Tokenizer& tok, int64_t max_seq_length) {
  PairData d;
  for (const auto& rec : read_jsonl_records(path)) {
    ++d.rows;
    std::string where = path + ":" + std::to_string(rec.line);
    const json& r = rec.value;
    for (const char* key : {"prompt", "chosen", "rejected"})
      if (!r.is_object() || !r.contains(key) || !r[key].is_string())
        throw usage_error(where + ": key '" + key + "' must be a string", "pairs come from pairs-build");
    Example c, rj;
    for (auto [ex, key] : {std::pair{&c, "chosen"}, {&rj, "rejected"}}) {
      text::ChatExample t =
          text::tokenize_example(tok, r["prompt"].get<std::string>(), r[key].get<std::string>());
      ex->ids = std::move(t.ids);
      ex->completion_begin = t.completion_begin;
      ex->completion_end = t.completion_end;
      ex->group =
          r.contains("schema_id") && r["schema_id"].is_string() ? r["schema_id"].get<std::string>() : "";
      ex->id = r.value("id", json(where)).is_string() ? r.value("id", where) : where;
    }
    if (static_cast<int64_t>(c.ids.size()) > max_seq_length ||
        static_cast<int64_t>(rj.ids.size()) > max_seq_length) {
      ++d.dropped_too_long;
      continue;
    }
    d.examples.push_back(std::move(c));
    d.examples.push_back(std::move(rj));
  }
  return d;
}

RowLogps row_logps(const model::Gemma3& m, const Batch& b, bool bf16) {
  auto device = m.options().device();
  at::autocast::set_cpu_enabled(bf16 && device.is_cpu());
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::Tensor hidden = forward_batch(m, b);
  at::Tensor targets = b.targets.to(device);
  RowLogps out;
  std::vector<at::Tensor> logps;
  std::vector<double> counts;
  for (int64_t r = 0; r < b.rows; ++r) {
    at::Tensor rows = targets[r].ge(0).nonzero().squeeze(1);
    at::Tensor h = hidden[r].index_select(0, rows);
    at::Tensor t = targets[r].index_select(0, rows);
    // The chunked LM head: -(summed cross-entropy) is the summed log-probability of the targets.
    logps.push_back(
        -model::chunked_lm_loss(h, m.lm_head_weight(), t, 0.0, 256, m.config().final_logit_softcapping));
    counts.push_back(static_cast<double>(rows.size(0)));
    at::NoGradGuard no_grad;
    at::Tensor logit = (h.to(at::kFloat) * m.lm_head_weight().index_select(0, t).to(at::kFloat)).sum(-1);
    out.mean_target_logit.push_back(rows.size(0) > 0 ? logit.mean().item<double>() : 0.0);
  }
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  out.logps = at::stack(logps);
  out.tokens = at::tensor(counts, at::kDouble);
  return out;
}

namespace {

// The pairs' batches: `order` cut into batches, each from one schema when `shared_prefix`.
std::vector<std::vector<size_t>> pair_batches(const PairData& data, const std::vector<size_t>& order,
                                              size_t batch, bool shared_prefix) {
  if (!shared_prefix) return group_batches(order, batch, {});
  return group_batches(order, batch,
                       [&](size_t p) -> const std::string& { return data.examples[2 * p].group; });
}

std::vector<size_t> pair_rows(const std::vector<size_t>& pairs) {
  std::vector<size_t> rows;
  for (size_t p : pairs) {
    rows.push_back(2 * p);
    rows.push_back(2 * p + 1);
  }
  return rows;
}

}  // namespace

std::vector<std::array<double, 2>> compute_reference_logps(model::Gemma3& m, const PairData& data,
                                                           int32_t pad, size_t batch, bool bf16,
                                                           bool shared_prefix) {
  at::NoGradGuard no_grad;
  m.set_training(false);
  std::vector<std::array<double, 2>> out(data.pairs());
  std::vector<size_t> order(data.pairs());
  for (size_t p = 0; p < order.size(); ++p) order[p] = p;
  for (const auto& pairs : pair_batches(data, order, batch, shared_prefix)) {
    RowLogps lp = row_logps(m, make_batch(data.examples, pair_rows(pairs), pad, shared_prefix), bf16);
    at::Tensor v = lp.logps.to(at::kDouble).contiguous();
    for (size_t i = 0; i < pairs.size(); ++i)
      out[pairs[i]] = {v[static_cast<int64_t>(2 * i)].item<double>(),
                       v[static_cast<int64_t>(2 * i + 1)].item<double>()};
  }
  return out;
}

DpoObjective::DpoObjective(model::Gemma3& m, const PairData& data,
                           std::vector<std::array<double, 2>> reference, int32_t pad, size_t batch,
                           uint64_t seed, DpoLossSettings loss, bool bf16, bool shared_prefix)
    : model_(m),
      data_(data),
      reference_(std::move(reference)),
      pad_(pad),
      batch_(batch),
      seed_(seed),
      loss_(std::move(loss)),
      bf16_(bf16),
      shared_prefix_(shared_prefix) {}

std::vector<std::vector<size_t>> DpoObjective::epoch_batches(int64_t epoch) {
  std::vector<size_t> order =
      seeded_permutation(data_.pairs(), seed_ ^ (0x9E3779B97F4A7C15ull * (epoch + 1)));
  std::vector<std::vector<size_t>> out = pair_batches(data_, order, batch_, shared_prefix_);
  if (shared_prefix_) shuffle_batches(out, seed_, epoch);  // grouping put each schema's batches together
  return out;
}

double DpoObjective::normaliser(const std::vector<std::vector<size_t>>& micro) {
  double n = 0;
  for (const auto& mb : micro) n += static_cast<double>(mb.size());
  return std::max(1.0, n);  // the step's loss is the mean over its pairs
}

std::pair<double, int64_t> DpoObjective::run(const std::vector<size_t>& pairs, double norm_by,
                                             bool backward) {
  Batch b = make_batch(data_.examples, pair_rows(pairs), pad_, shared_prefix_);
  RowLogps lp = row_logps(model_, b, bf16_);
  at::Tensor policy = lp.logps.to(at::kDouble).view({-1, 2});  // [pairs, (chosen, rejected)]
  std::vector<double> ref_flat;
  for (size_t p : pairs) ref_flat.insert(ref_flat.end(), reference_[p].begin(), reference_[p].end());
  at::Tensor ref = at::tensor(ref_flat, at::kDouble).view({-1, 2});
  if (loss_.loss_type == "ipo") {  // IPO compares token-averaged log-probabilities
    at::Tensor n = lp.tokens.view({-1, 2}).clamp_min(1);
    policy = policy / n;
    ref = ref / n;
  }
  at::Tensor h = (policy.select(1, 0) - policy.select(1, 1)) - (ref.select(1, 0) - ref.select(1, 1));
  at::Tensor losses = dpo_losses(h, loss_);
  at::Tensor total = losses.sum();
  at::Tensor nll;
  if (loss_.rpo_alpha > 0) {  // RPO: the batch's chosen NLL once per pair, so the step's mean adds it once
    at::Tensor chosen = lp.logps.to(at::kDouble).view({-1, 2}).select(1, 0);
    nll = rpo_term(chosen, lp.tokens.view({-1, 2}).select(1, 0), loss_.rpo_alpha);
    total = total + nll * static_cast<double>(pairs.size());
  }
  if (backward) (total / norm_by).backward();
  at::NoGradGuard no_grad;
  if (nll.defined())
    window_["nll_loss"] += nll.item<double>() / loss_.rpo_alpha * static_cast<double>(pairs.size());
  at::Tensor rc = loss_.beta * (policy.select(1, 0) - ref.select(1, 0));
  at::Tensor rr = loss_.beta * (policy.select(1, 1) - ref.select(1, 1));
  window_["rewards/chosen"] += rc.sum().item<double>();
  window_["rewards/rejected"] += rr.sum().item<double>();
  window_["rewards/accuracies"] += (rc > rr).to(at::kDouble).sum().item<double>();
  window_["rewards/margins"] += (rc - rr).sum().item<double>();
  window_["logps/chosen"] += lp.logps.view({-1, 2}).select(1, 0).sum().item<double>();
  window_["logps/rejected"] += lp.logps.view({-1, 2}).select(1, 1).sum().item<double>();
  for (size_t i = 0; i < pairs.size(); ++i) {
    window_["logits/chosen"] += lp.mean_target_logit[2 * i];
    window_["logits/rejected"] += lp.mean_target_logit[2 * i + 1];
  }
  window_pairs_ += static_cast<double>(pairs.size());
  return {total.item<double>(), b.tokens};
}

std::map<std::string, double> DpoObjective::take_log_metrics() {
  std::map<std::string, double> out;
  for (const auto& [k, v] : window_) out[k] = window_pairs_ > 0 ? v / window_pairs_ : 0.0;
  window_.clear();
  window_pairs_ = 0;
  return out;
}

json DpoObjective::window_state() const {
  return {{"sums", window_}, {"pairs", window_pairs_}};
}

void DpoObjective::restore_window(const json& state) {
  window_ = state.at("sums").get<std::map<std::string, double>>();
  window_pairs_ = state.at("pairs").get<double>();
}

}  // namespace af::train
