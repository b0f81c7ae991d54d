#include "train/dpo.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "core/log.h"
#include "dataset/resumable_output.h"
#include "model/lm_loss.h"
#include "model/lora.h"
#include "student/allocator.h"
#include "student/load.h"
#include "text/chat_template.h"
#include "train/loop_config.h"
#include "train/sft_data.h"
#include "train/trainer.h"

namespace af::train {
namespace fs = std::filesystem;
using nlohmann::json;

at::Tensor dpo_losses(const at::Tensor& h, const DpoLossSettings& s) {
  if (s.loss_type == "ipo") return (h - 1.0 / (2.0 * s.beta)).pow(2);
  if (s.loss_type == "hinge") return at::relu(1.0 - s.beta * h);
  return -at::log_sigmoid(s.beta * h) * (1.0 - s.label_smoothing) -
         at::log_sigmoid(-s.beta * h) * s.label_smoothing;
}

namespace {

// The pairs as examples: pair i is examples 2i (chosen) and 2i+1 (rejected).
struct PairData {
  std::vector<Example> examples;
  size_t rows = 0, dropped_too_long = 0;
  size_t pairs() const { return examples.size() / 2; }
};

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

// Summed log-probabilities of each row's supervised tokens, their counts, and the mean logit of those tokens.
struct RowLogps {
  at::Tensor logps;   // [rows], with grad when the forward had it
  at::Tensor tokens;  // [rows] double
  std::vector<double> mean_target_logit;
};

RowLogps row_logps(const model::Gemma3& m, const Batch& b, bool bf16) {
  auto device = m.options().device();
  at::autocast::set_cpu_enabled(bf16 && device.is_cpu());
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::Tensor hidden = m.forward(b.ids.to(device), b.mask.to(device));
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

class DpoObjective : public Objective {
 public:
  DpoObjective(model::Gemma3& m, const PairData& data, std::vector<std::array<double, 2>> reference,
               int32_t pad, size_t batch, uint64_t seed, DpoLossSettings loss, bool bf16)
      : model_(m),
        data_(data),
        reference_(std::move(reference)),
        pad_(pad),
        batch_(batch),
        seed_(seed),
        loss_(std::move(loss)),
        bf16_(bf16) {}

  std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) override {
    std::vector<size_t> order =
        seeded_permutation(data_.pairs(), seed_ ^ (0x9E3779B97F4A7C15ull * (epoch + 1)));
    std::vector<std::vector<size_t>> out;
    for (size_t i = 0; i < order.size(); i += batch_)
      out.emplace_back(order.begin() + static_cast<long>(i),
                       order.begin() + static_cast<long>(std::min(order.size(), i + batch_)));
    return out;
  }
  double normaliser(const std::vector<std::vector<size_t>>& micro) override {
    double n = 0;
    for (const auto& mb : micro) n += static_cast<double>(mb.size());
    return std::max(1.0, n);  // the step's loss is the mean over its pairs
  }
  std::pair<double, int64_t> run(const std::vector<size_t>& pairs, double norm_by, bool backward) override {
    std::vector<size_t> rows;
    for (size_t p : pairs) {
      rows.push_back(2 * p);
      rows.push_back(2 * p + 1);
    }
    Batch b = make_batch(data_.examples, rows, pad_);
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
    if (backward) (total / norm_by).backward();
    at::NoGradGuard no_grad;
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
  std::map<std::string, double> evaluate() override { return {}; }

  std::map<std::string, double> take_log_metrics() override {
    std::map<std::string, double> out;
    for (const auto& [k, v] : window_) out[k] = window_pairs_ > 0 ? v / window_pairs_ : 0.0;
    window_.clear();
    window_pairs_ = 0;
    return out;
  }
  json window_state() const override { return {{"sums", window_}, {"pairs", window_pairs_}}; }
  void restore_window(const json& state) override {
    window_ = state.at("sums").get<std::map<std::string, double>>();
    window_pairs_ = state.at("pairs").get<double>();
  }

 private:
  model::Gemma3& model_;
  const PairData& data_;
  std::vector<std::array<double, 2>> reference_;
  int32_t pad_;
  size_t batch_;
  uint64_t seed_;
  DpoLossSettings loss_;
  bool bf16_;
  std::map<std::string, double> window_;
  double window_pairs_ = 0;
};

// The frozen reference's log-probabilities of every pair, computed once (no dropout, no grad) and stored with
// a fingerprint of what they depend on; a resumed or repeated run reads them back.
std::vector<std::array<double, 2>> reference_logps(model::Gemma3& m, const PairData& data, int32_t pad,
                                                   size_t batch, bool bf16, const std::string& path,
                                                   const std::string& fingerprint) {
  if (fs::exists(path)) {
    json stored = json::parse(read_file(path), nullptr, false);
    if (!stored.is_discarded() && stored.value("fingerprint", "") == fingerprint &&
        stored.at("logps").size() == data.pairs()) {
      log_info("reference log-probabilities from ", path);
      return stored.at("logps").get<std::vector<std::array<double, 2>>>();
    }
    log_info(path, " is for other pairs or another reference; computing it again");
  }
  log_info("computing the reference log-probabilities of ", data.pairs(), " pairs");
  at::NoGradGuard no_grad;
  m.set_training(false);
  std::vector<std::array<double, 2>> out;
  for (size_t begin = 0; begin < data.pairs(); begin += batch) {
    std::vector<size_t> rows;
    for (size_t p = begin; p < std::min(data.pairs(), begin + batch); ++p) {
      rows.push_back(2 * p);
      rows.push_back(2 * p + 1);
    }
    RowLogps lp = row_logps(m, make_batch(data.examples, rows, pad), bf16);
    at::Tensor v = lp.logps.to(at::kDouble).contiguous();
    for (int64_t i = 0; i < v.size(0); i += 2) out.push_back({v[i].item<double>(), v[i + 1].item<double>()});
  }
  write_file_atomic(path, json({{"fingerprint", fingerprint}, {"logps", out}}).dump() + "\n");
  return out;
}

}  // namespace

int64_t run_dpo(const config::Resolved& cfg) {
  const std::string output_dir = cfg.get_string("alignment.output_dir");
  const std::string pairs_path = cfg.get_string("alignment.pairs_out");
  const std::string adapter = cfg.get_string("alignment.adapter");
  const auto seed = static_cast<uint64_t>(cfg.get_int("run.seed"));
  if (cfg.get_bool("alignment.fp16"))
    throw usage_error("alignment.fp16 needs CUDA", "use alignment.bf16 on the CPU");
  if (!fs::exists(pairs_path))
    throw usage_error("pairs not found: " + pairs_path, "run pairs-build first (or pass --pairs)");
  if (!fs::is_directory(adapter))
    throw usage_error("SFT checkpoint not found: " + adapter, "run train-sft first (or pass --adapter)");
  student::apply_threads(cfg.get_int("run.threads"));
  student::keep_freed_memory();
  at::manual_seed(seed);
  fs::create_directories(output_dir);
  write_file_atomic((fs::path(output_dir) / "run_config.json").string(), cfg.run_config({}).dump(2) + "\n");

  std::string base_dir = student::base_model_dir(cfg, cfg.get_string("alignment.base_model"));
  auto device = student::resolve_device(cfg.get_string("run.device"));
  // The policy starts as the SFT student: its adapter stays separate and is trained further (or, for a fully
  // trained student, every weight is).
  student::Student s = student::load_student(base_dir, adapter, at::kFloat, device, /*merge=*/false);
  PairData data = load_pairs(pairs_path, *s.tokenizer, cfg.get_int("alignment.max_seq_length"));
  log_info(data.rows, " pairs read: ", data.pairs(), " used, ", data.dropped_too_long,
           " dropped (longer than max_seq_length)");
  if (data.pairs() == 0)
    throw usage_error("no usable pairs in " + pairs_path,
                      data.rows == 0
                          ? "pairs-build found nothing to prefer: the student already agrees with the teacher"
                          : "raise --max-seq-length");

  std::vector<TrainedTensor> trained;
  if (s.adapter) {
    for (auto& nt : model::adapter_tensors(*s.model, *s.adapter))
      trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  } else {
    for (auto& nt : s.model->named_weights()) trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  }
  s.model->set_gradient_checkpointing(cfg.get_bool("alignment.gradient_checkpointing"));
  const bool bf16 = cfg.get_bool("alignment.bf16");
  auto batch = static_cast<size_t>(cfg.get_int("alignment.batch_size"));
  int32_t pad = text::pad_token(*s.tokenizer);

  json ref_inputs = {{"pairs", dataset::fingerprint_of(json(read_file(pairs_path)))},
                     {"adapter", adapter},
                     {"base", base_dir},
                     {"max_seq_length", cfg.get_int("alignment.max_seq_length")},
                     {"bf16", bf16}};
  for (const auto& entry : fs::directory_iterator(adapter))
    if (entry.path().extension() == ".safetensors")
      ref_inputs["weights"][entry.path().filename().string()] = {
          entry.file_size(), static_cast<int64_t>(entry.last_write_time().time_since_epoch().count())};
  auto reference = reference_logps(*s.model, data, pad, batch, bf16,
                                   (fs::path(output_dir) / "reference_logps.json").string(),
                                   dataset::fingerprint_of(ref_inputs));
  for (auto& t : trained) t.tensor->set_requires_grad(true);

  AdamW optimizer(trained, adamw_settings_from(cfg, "alignment"));

  DpoLossSettings loss;
  loss.loss_type = cfg.get_string("alignment.loss_type");
  loss.beta = cfg.get_double("alignment.beta");
  loss.label_smoothing = cfg.get_double("alignment.label_smoothing");
  DpoObjective objective(*s.model, data, std::move(reference), pad, batch, seed, loss, bf16);

  LoopSettings ls =
      loop_settings_from(cfg, "alignment", static_cast<int64_t>((data.pairs() + batch - 1) / batch));
  ls.metrics_file = "dpo_metrics.jsonl";
  ls.eval_steps = 0;  // DPO has no held-out loss; the real judge is eval-teacher on the aligned adapter
  ls.metric_for_best_model = "loss";
  ls.tokenizer_dir = s.model_dir;
  log_info("DPO (", loss.loss_type, ", beta ", loss.beta, ") on ", trained.size(),
           s.adapter ? " adapter tensors" : " tensors (every weight)", " for ", ls.total_steps, " steps of ",
           batch, " x ", ls.grad_accum, " pairs");
  return train_loop(*s.model, s.adapter, optimizer, objective, ls);
}

}  // namespace af::train
