#include "train/sft.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "model/lm_loss.h"
#include "model/model_folder.h"
#include "model/scratch.h"
#include "student/allocator.h"
#include "student/load.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"
#include "train/distributed.h"
#include "train/loop_config.h"
#include "train/sft_data.h"
#include "train/trainer.h"

namespace af::train {
namespace fs = std::filesystem;

namespace {

int64_t int_or(const config::Resolved& cfg, const std::string& key, int64_t fallback) {
  return cfg.is_null(key) ? fallback : cfg.get_int(key);
}

model::ScratchSpec scratch_spec(const config::Resolved& cfg) {
  model::ScratchSpec s;
  s.vocab_size = cfg.get_int("training.scratch.vocab_size");
  s.hidden_size = cfg.get_int("training.scratch.hidden_size");
  s.num_layers = cfg.get_int("training.scratch.num_layers");
  s.num_heads = cfg.get_int("training.scratch.num_heads");
  s.num_kv_heads = cfg.get_int("training.scratch.num_kv_heads");
  s.head_dim = cfg.get_int("training.scratch.head_dim");
  s.intermediate_size = cfg.get_int("training.scratch.intermediate_size");
  s.max_position_embeddings = cfg.get_int("training.scratch.max_position_embeddings");
  s.sliding_window = cfg.get_int("training.scratch.sliding_window");
  s.sliding_window_pattern = cfg.get_int("training.scratch.sliding_window_pattern");
  return s;
}

model::LoraSettings lora_settings(const config::Resolved& cfg, const std::string& base) {
  model::LoraSettings l;
  l.r = cfg.get_int("training.lora.r");
  l.lora_alpha = cfg.get_double("training.lora.lora_alpha");
  l.lora_dropout = cfg.get_double("training.lora.lora_dropout");
  l.target_modules = cfg.get_list("training.lora.target_modules");
  l.bias = cfg.get_string("training.lora.bias");
  l.use_rslora = cfg.get_bool("training.lora.use_rslora");
  const auto& init = cfg.get("training.lora.init_lora_weights");
  l.init_lora_weights = init.is_boolean() ? (init.get<bool>() ? "true" : "false") : init.get<std::string>();
  l.modules_to_save = cfg.get_list("training.lora.modules_to_save");
  l.base_model_name_or_path = base;
  return l;
}

// SFT's loss: summed cross-entropy over supervised tokens, normalised by the supervised tokens of the step.
class SftObjective : public Objective {
 public:
  SftObjective(model::Gemma3& m, const SftData& data, int32_t pad, size_t batch, size_t eval_batch,
               uint64_t seed, BatchGrouping grouping, double smoothing, bool bf16)
      : model_(m),
        data_(data),
        pad_(pad),
        batch_(batch),
        eval_batch_(eval_batch),
        seed_(seed),
        grouping_(grouping),
        smoothing_(smoothing),
        bf16_(bf16) {}

  std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) override {
    return train::epoch_batches(data_.train, batch_, seed_, epoch, grouping_);
  }
  double normaliser(const std::vector<std::vector<size_t>>& micro) override {
    double n = 0;
    for (const auto& mb : micro)
      for (size_t i : mb) n += static_cast<double>(data_.train[i].supervised());
    return std::max(1.0, n);
  }
  std::pair<double, int64_t> run(const std::vector<size_t>& idx, double norm_by, bool backward) override {
    return run_on(data_.train, idx, norm_by, backward);
  }
  std::map<std::string, double> evaluate() override {
    if (data_.eval.empty()) return {};
    at::NoGradGuard no_grad;
    double loss = 0, tokens = 0;
    auto batches = ordered_batches(data_.eval, eval_batch_, grouping_.by_group);
    for (const auto& b : batches) {
      loss += run_on(data_.eval, b, 1.0, false).first;
      for (size_t i : b) tokens += static_cast<double>(data_.eval[i].supervised());
    }
    return {{"eval_loss", loss / tokens},
            {"samples", static_cast<double>(data_.eval.size())},
            {"batches", static_cast<double>(batches.size())}};
  }

 private:
  std::pair<double, int64_t> run_on(const std::vector<Example>& set, const std::vector<size_t>& idx,
                                    double norm_by, bool backward) {
    Batch b = make_batch(set, idx, pad_, grouping_.by_group);
    auto device = model_.options().device();
    at::Tensor loss;
    {
      // bfloat16 autocast: matmuls in bfloat16, norms and softmax in float32 (the model casts them itself).
      at::autocast::set_cpu_enabled(bf16_ && device.is_cpu());
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      loss = batch_loss(model_, b, smoothing_);
      at::autocast::set_cpu_enabled(false);
      at::autocast::clear_cache();
    }
    if (backward) (loss / norm_by).backward();
    return {loss.item<double>(), b.tokens};
  }

  model::Gemma3& model_;
  const SftData& data_;
  int32_t pad_;
  size_t batch_, eval_batch_;
  uint64_t seed_;
  BatchGrouping grouping_;
  double smoothing_;
  bool bf16_;
};

// The student's folder, building the scratch student first when the config asks for it.
std::string prepare_base(const config::Resolved& cfg, const std::string& corpus, uint64_t seed) {
  std::string base = cfg.get_string("training.base_model");
  std::string base_dir = student::base_model_dir(cfg, base);
  if (base != "scratch") return base_dir;
  model::ScratchSpec spec = scratch_spec(cfg);
  if (!fs::exists(fs::path(base_dir) / "config.json")) {
    log_info("building the scratch student in ", base_dir);
    model::build_scratch_model(spec, corpus_texts(corpus), base_dir, seed);
    return base_dir;
  }
  // An existing scratch student is reused (resume needs the same one), but only if it has the sizes asked
  // for.
  model::ModelConfig have = model::load_model_config(base_dir);
  model::ModelConfig want = model::scratch_config(spec, have.vocab_size, 0);
  if (have.hidden_size != want.hidden_size || have.num_hidden_layers != want.num_hidden_layers ||
      have.num_attention_heads != want.num_attention_heads ||
      have.num_key_value_heads != want.num_key_value_heads || have.head_dim != want.head_dim ||
      have.intermediate_size != want.intermediate_size ||
      have.max_position_embeddings != want.max_position_embeddings ||
      have.sliding_window != want.sliding_window || have.sliding_layers != want.sliding_layers)
    throw usage_error(
        base_dir + " holds a scratch student of other sizes than training.scratch.* asks for",
        "delete that folder (and the run's checkpoints) to build a new one, or use another output_dir");
  return base_dir;
}

DataSettings data_settings(const config::Resolved& cfg, uint64_t seed) {
  DataSettings ds;
  ds.max_seq_length = cfg.get_int("training.max_seq_length");
  ds.val_split = cfg.get_double("training.val_split");
  ds.eval_max_samples = int_or(cfg, "training.eval_max_samples", -1);
  ds.max_samples = int_or(cfg, "training.max_samples", -1);
  ds.seed = seed;
  return ds;
}

}  // namespace

void show_examples(const config::Resolved& cfg, int64_t n) {
  const std::string corpus = cfg.get_string("training.training_corpus");
  if (!fs::exists(corpus))
    throw usage_error("training corpus not found: " + corpus, "run ds-build corpus first");
  const auto seed = static_cast<uint64_t>(cfg.get_int("run.seed"));
  std::string base_dir = prepare_base(cfg, corpus, seed);
  auto tok = text::load_tokenizer(base_dir);
  SftData data = load_sft_data(corpus, *tok, data_settings(cfg, seed));
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(data.train.size()); ++i) {
    const Example& e = data.train[static_cast<size_t>(i)];
    std::printf("=== example %lld (%s): %zu tokens, %zu trained ===\n", static_cast<long long>(i + 1),
                e.id.c_str(), e.ids.size(), e.supervised());
    std::vector<int32_t> prompt(e.ids.begin(), e.ids.begin() + static_cast<long>(e.completion_begin));
    std::printf("--- not trained (prompt) ---\n%s\n--- trained ---\n", tok->decode(prompt).c_str());
    for (size_t t = e.completion_begin; t < e.completion_end; ++t)
      std::printf("%d:%s ", e.ids[t], nlohmann::json(tok->decode({e.ids[t]})).dump().c_str());
    std::vector<int32_t> after(e.ids.begin() + static_cast<long>(e.completion_end), e.ids.end());
    std::printf("\n--- not trained (after) ---\n%s\n", nlohmann::json(tok->decode(after)).dump().c_str());
  }
}

int64_t run_sft(const config::Resolved& cfg) {
  const std::string output_dir = cfg.get_string("training.output_dir");
  const std::string corpus = cfg.get_string("training.training_corpus");
  const auto seed = static_cast<uint64_t>(cfg.get_int("run.seed"));
  if (cfg.get_bool("training.fp16"))
    throw usage_error("training.fp16 needs CUDA", "use training.bf16 on the CPU");
  if (!fs::exists(corpus))
    throw usage_error("training corpus not found: " + corpus,
                      "run ds-build corpus first (or set --training-corpus)");
  RankInfo ranks = rank_info_from_env([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  });
  if (ranks.world_size > 1) {
    set_log_program("train-sft[rank " + std::to_string(ranks.rank) + "]");
    if (ranks.rank != 0 && log_level() < LogLevel::Warn) set_log_level(LogLevel::Warn);  // rank 0 speaks
  }
  // Ranks on one machine share its cores unless run.threads says otherwise.
  int64_t threads = cfg.get_int("run.threads");
  if (threads == 0 && ranks.local_world_size > 1)
    threads = std::max<int64_t>(1, std::thread::hardware_concurrency() / ranks.local_world_size);
  student::apply_threads(threads);
  student::keep_freed_memory();
  at::manual_seed(seed);
  Distributed dist(ranks);
  if (dist.world_size() > 1)
    log_info("rank ", dist.rank(), " of ", dist.world_size(), " joined ", ranks.master_addr, ":",
             ranks.master_port);
  fs::create_directories(output_dir);
  if (dist.is_main())
    write_file_atomic((fs::path(output_dir) / "run_config.json").string(), cfg.run_config({}).dump(2) + "\n");

  std::string base = cfg.get_string("training.base_model");
  // Rank 0 builds the scratch student; the others wait for it, then load the same folder.
  std::string base_dir = dist.is_main() ? prepare_base(cfg, corpus, seed) : std::string();
  dist.barrier();
  if (!dist.is_main()) base_dir = prepare_base(cfg, corpus, seed);
  auto tok = text::load_tokenizer(base_dir);
  SftData data = load_sft_data(corpus, *tok, data_settings(cfg, seed));
  log_info(data.rows, " corpus rows: ", data.train.size(), " train, ", data.eval.size(), " eval, ",
           data.dropped_too_long, " dropped (too long)");

  auto device = student::resolve_device(cfg.get_string("run.device"));
  if (device.is_cuda() && dist.world_size() > 1)
    device = at::Device(at::kCUDA, static_cast<int8_t>(ranks.local_rank));
  auto model = model::load_model(base_dir, at::TensorOptions().dtype(at::kFloat));
  std::optional<model::LoraSettings> lora;
  std::vector<TrainedTensor> trained;
  if (cfg.get_bool("training.lora.enabled")) {
    lora = lora_settings(cfg, base);
    model::add_lora(*model, *lora, seed);
    model->to(at::TensorOptions().dtype(at::kFloat).device(device));
    for (auto& nt : model::adapter_tensors(*model, *lora))
      trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  } else {
    model->to(at::TensorOptions().dtype(at::kFloat).device(device));
    for (auto& nt : model->named_weights()) trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  }
  for (auto& t : trained) t.tensor->set_requires_grad(true);
  model->set_gradient_checkpointing(cfg.get_bool("training.gradient_checkpointing"));
  if (!cfg.is_null("training.neftune_noise_alpha"))
    model->set_neftune_alpha(cfg.get_double("training.neftune_noise_alpha"));

  AdamW optimizer(trained, adamw_settings_from(cfg, "training"));

  auto batch = static_cast<size_t>(cfg.get_int("training.batch_size"));
  auto eval_batch = static_cast<size_t>(int_or(cfg, "training.eval_batch_size", static_cast<int64_t>(batch)));
  SftObjective objective(
      *model, data, text::pad_token(*tok), batch, eval_batch, seed,
      BatchGrouping{cfg.get_bool("training.group_by_length"), cfg.get_bool("training.shared_prefix")},
      cfg.get_double("training.label_smoothing"), cfg.get_bool("training.bf16"));

  LoopSettings ls = loop_settings_from(
      cfg, "training", static_cast<int64_t>((data.train.size() + batch - 1) / batch), dist.world_size());
  ls.distributed = &dist;
  ls.nonfinite_patience = cfg.get_int("training.nonfinite_patience");
  ls.eval_steps = data.eval.empty() ? 0 : cfg.get_int("training.eval_steps");
  ls.early_stop_min_delta = cfg.get_double("training.early_stop_min_delta");
  ls.early_stop_patience = cfg.get_int("training.early_stop_patience");
  ls.load_best_model_at_end = cfg.get_bool("training.load_best_model_at_end");
  ls.metric_for_best_model = cfg.get_string("training.metric_for_best_model");
  ls.tokenizer_dir = base_dir;
  log_info("training ", trained.size(), lora ? " adapter tensors" : " tensors (every weight)", " for ",
           ls.total_steps, " steps of ", batch, " x ", ls.grad_accum,
           dist.world_size() > 1 ? " x " + std::to_string(dist.world_size()) + " ranks" : std::string(),
           " examples (batch_size x grad_accum", dist.world_size() > 1 ? " x ranks)" : ")");
  return train_loop(*model, lora, optimizer, objective, ls);
}

}  // namespace af::train
