#include "train/sft.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "config/resume_check.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/output_lock.h"
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
#include "train/sft_settings.h"
#include "train/trainer.h"

namespace af::train {
namespace fs = std::filesystem;

namespace {

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
std::string prepare_base(const SftSettings& s) {
  if (!s.base.scratch()) return s.base.dir;
  const std::string& dir = s.base.dir;
  if (!fs::exists(fs::path(dir) / "config.json")) {
    log_info("building the scratch student in ", dir);
    model::build_scratch_model(s.scratch, corpus_texts(s.corpus), dir, s.seed);
    return dir;
  }
  // An existing scratch student is reused (resume needs the same one), but only if it has the sizes asked
  // for: every training.scratch.* key that differs is named.
  model::ModelConfig have = model::load_model_config(dir);
  model::ModelConfig want = model::scratch_config(s.scratch, s.scratch.vocab_size, 0);
  std::string differ;
  auto check = [&](const char* key, int64_t asked, int64_t held) {
    if (asked != held)
      differ += std::string(differ.empty() ? "" : "; ") + "training.scratch." + key + " is " +
                std::to_string(asked) + ", the folder's is " + std::to_string(held);
  };
  check("vocab_size", s.scratch.vocab_size, have.vocab_size);
  check("hidden_size", want.hidden_size, have.hidden_size);
  check("num_layers", want.num_hidden_layers, have.num_hidden_layers);
  check("num_heads", want.num_attention_heads, have.num_attention_heads);
  check("num_kv_heads", want.num_key_value_heads, have.num_key_value_heads);
  check("head_dim", want.head_dim, have.head_dim);
  check("intermediate_size", want.intermediate_size, have.intermediate_size);
  check("max_position_embeddings", want.max_position_embeddings, have.max_position_embeddings);
  check("sliding_window", want.sliding_window, have.sliding_window);
  if (have.sliding_layers != want.sliding_layers)
    differ += std::string(differ.empty() ? "" : "; ") +
              "training.scratch.sliding_window_pattern gives other sliding layers than the folder's";
  if (!differ.empty())
    throw usage_error(
        dir + " holds a scratch student of other sizes than training.scratch.* asks for (" + differ + ")",
        "delete that folder (and the run's checkpoints) to build a new one, or use another "
        "training.scratch.dir");
  return dir;
}

// LoRA's `bias` trains bias terms; a model without any (Gemma 3) would silently train none.
void check_lora_bias(model::Gemma3& m, const model::LoraSettings& lora, const std::string& base) {
  if (lora.bias == "none") return;
  for (auto& [name, linear] : m.named_linears())
    if (linear->bias.defined()) return;
  throw usage_error("training.lora.bias is " + lora.bias + ", but " + base +
                        " has no bias terms (attention_bias is false in its config.json)",
                    "set training.lora.bias: none");
}

}  // namespace

void show_examples(const SftSettings& s, int64_t n) {
  if (!fs::exists(s.corpus))
    throw usage_error("training corpus not found: " + s.corpus, "run ds-build corpus first");
  std::string base_dir = prepare_base(s);
  auto tok = text::load_tokenizer(base_dir);
  SftData data = load_sft_data(s.corpus, *tok, s.data);
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

int64_t run_sft(const SftSettings& settings, const std::string& run_config) {
  SftSettings s = settings;
  const std::string& output_dir = s.trainer.loop.output_dir;
  if (s.trainer.fp16) throw usage_error("training.fp16 needs CUDA", "use training.bf16 on the CPU");
  if (!fs::exists(s.corpus))
    throw usage_error("training corpus not found: " + s.corpus,
                      "run ds-build corpus first (or set --training-corpus)");
  RankInfo ranks = rank_info_from_env([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  });
  if (ranks.world_size > 1) {
    set_log_program("train-sft[rank " + std::to_string(ranks.rank) + "]");
    if (ranks.rank != 0 && log_level() < LogLevel::Warn) set_log_level(LogLevel::Warn);  // rank 0 speaks
  }
  // One writer per output folder; the ranks of one run share it through rank 0, which writes for them.
  std::unique_ptr<OutputLock> lock;
  if (ranks.rank == 0) lock = std::make_unique<OutputLock>(output_dir, "train-sft");
  // Ranks on one machine share its cores unless run.threads says otherwise.
  int64_t threads = s.runtime.threads;
  if (threads == 0 && ranks.local_world_size > 1)
    threads = std::max<int64_t>(1, std::thread::hardware_concurrency() / ranks.local_world_size);
  student::apply_threads(threads);
  student::keep_freed_memory();
  at::manual_seed(s.seed);
  Distributed dist(ranks);
  if (dist.world_size() > 1)
    log_info("rank ", dist.rank(), " of ", dist.world_size(), " joined ", ranks.master_addr, ":",
             ranks.master_port);
  fs::create_directories(output_dir);
  if (dist.is_main()) {
    const std::string saved = (fs::path(output_dir) / "run_config.json").string();
    if (!s.trainer.loop.resume.empty())
      config::warn_settings_changed(saved, run_config, config::Tool::TrainSft);
    write_file_atomic(saved, run_config);
  }

  // Rank 0 builds the scratch student; the others wait for it, then load the same folder.
  std::string base_dir = dist.is_main() ? prepare_base(s) : std::string();
  dist.barrier();
  if (!dist.is_main()) base_dir = prepare_base(s);
  auto tok = text::load_tokenizer(base_dir);
  SftData data = load_sft_data(s.corpus, *tok, s.data);
  log_info(data.rows, " corpus rows: ", data.train.size(), " train, ", data.eval.size(), " eval, ",
           data.dropped_too_long, " dropped (too long)");

  auto device = student::resolve_device(s.runtime.device);
  if (device.is_cuda() && dist.world_size() > 1)
    device = at::Device(at::kCUDA, static_cast<int8_t>(ranks.local_rank));
  auto model = model::load_model(base_dir, at::TensorOptions().dtype(at::kFloat));
  std::vector<TrainedTensor> trained;
  if (s.lora) {
    check_lora_bias(*model, *s.lora, s.base.value);
    model::add_lora(*model, *s.lora, s.seed);
    model->to(at::TensorOptions().dtype(at::kFloat).device(device));
    for (auto& nt : model::adapter_tensors(*model, *s.lora))
      trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  } else {
    model->to(at::TensorOptions().dtype(at::kFloat).device(device));
    for (auto& nt : model->named_weights()) trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  }
  for (auto& t : trained) t.tensor->set_requires_grad(true);
  model->set_gradient_checkpointing(s.trainer.gradient_checkpointing);
  if (s.neftune_alpha) model->set_neftune_alpha(*s.neftune_alpha);

  AdamW optimizer(trained, s.trainer.optimizer);
  const size_t batch = s.trainer.batch_size;
  SftObjective objective(*model, data, text::pad_token(*tok), batch, s.eval_batch_size, s.seed, s.grouping,
                         s.label_smoothing, s.trainer.bf16);

  plan_steps(s.trainer, static_cast<int64_t>((data.train.size() + batch - 1) / batch), dist.world_size());
  LoopSettings& ls = s.trainer.loop;
  ls.distributed = &dist;
  if (data.eval.empty()) ls.eval_steps = 0;
  ls.tokenizer_dir = base_dir;
  log_info("training ", trained.size(), s.lora ? " adapter tensors" : " tensors (every weight)", " for ",
           ls.total_steps, " steps of ", batch, " x ", ls.grad_accum,
           dist.world_size() > 1 ? " x " + std::to_string(dist.world_size()) + " ranks" : std::string(),
           " examples (batch_size x grad_accum", dist.world_size() > 1 ? " x ranks)" : ")");
  return train_loop(*model, s.lora, optimizer, objective, ls);
}

}  // namespace af::train
