#include "train/dpo.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "config/resume_check.h"
#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "dataset/resumable_output.h"
#include "model/lm_loss.h"
#include "model/lora.h"
#include "model/weight_files.h"
#include "student/allocator.h"
#include "student/load.h"
#include "text/chat_template.h"
#include "train/dpo_objective.h"
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

at::Tensor rpo_term(const at::Tensor& chosen_logps, const at::Tensor& chosen_tokens, double rpo_alpha) {
  return -rpo_alpha * chosen_logps.sum() / chosen_tokens.sum().clamp_min(1);
}

namespace {

// The frozen reference's log-probabilities of every pair, computed once (no dropout, no grad) and stored with
// a fingerprint of what they depend on; a resumed or repeated run reads them back.
std::vector<std::array<double, 2>> reference_logps(model::Gemma3& m, const PairData& data, int32_t pad,
                                                   size_t batch, bool bf16, bool shared_prefix,
                                                   const std::string& path, const std::string& fingerprint) {
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
  auto out = compute_reference_logps(m, data, pad, batch, bf16, shared_prefix);
  write_file_atomic(path, json({{"fingerprint", fingerprint}, {"logps", out}}).dump() + "\n");
  return out;
}

}  // namespace

int64_t run_dpo(const DpoSettings& settings, const std::string& run_config) {
  DpoSettings s = settings;
  const char* world = std::getenv("WORLD_SIZE");
  if (world != nullptr && std::string(world) != "1" && std::string(world) != "")
    throw usage_error("train-dpo runs as one process (WORLD_SIZE=" + std::string(world) + ")",
                      "launch it without launchRanks.sh or torchrun; only train-sft is data-parallel");
  const std::string& output_dir = s.trainer.loop.output_dir;
  const std::string& pairs_path = s.pairs;
  const std::string& adapter = s.adapter;
  if (s.trainer.fp16) throw usage_error("alignment.fp16 needs CUDA", "use alignment.bf16 on the CPU");
  if (!fs::exists(pairs_path))
    throw usage_error("pairs not found: " + pairs_path, "run pairs-build first (or pass --pairs)");
  const OutputLock lock(output_dir, "train-dpo");
  if (!fs::is_directory(adapter))
    throw usage_error("SFT checkpoint not found: " + adapter, "run train-sft first (or pass --adapter)");
  student::apply_threads(s.runtime.threads);
  student::keep_freed_memory();
  at::manual_seed(s.seed);
  fs::create_directories(output_dir);
  const std::string saved_config = (fs::path(output_dir) / "run_config.json").string();
  if (!s.trainer.loop.resume.empty())
    config::warn_settings_changed(saved_config, run_config, config::Tool::TrainDpo);
  write_file_atomic(saved_config, run_config);

  const std::string& base_dir = s.base.dir;
  auto device = student::resolve_device(s.runtime.device);
  // The policy starts as the SFT student: its adapter stays separate and is trained further (or, for a fully
  // trained student, every weight is).
  student::Student st = student::load_student(base_dir, adapter, at::kFloat, device, /*merge=*/false);
  PairData data = load_pairs(pairs_path, *st.tokenizer, s.trainer.max_seq_length);
  log_info(data.rows, " pairs read: ", data.pairs(), " used, ", data.dropped_too_long,
           " dropped (longer than max_seq_length)");
  if (data.pairs() == 0)
    throw usage_error("no usable pairs in " + pairs_path,
                      data.rows == 0
                          ? "pairs-build found nothing to prefer: the student already agrees with the teacher"
                          : "raise --max-seq-length");

  std::vector<TrainedTensor> trained;
  if (st.adapter) {
    for (auto& nt : model::adapter_tensors(*st.model, *st.adapter))
      trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  } else {
    for (auto& nt : st.model->named_weights()) trained.push_back({nt.name, nt.tensor, decays(nt.name)});
  }
  st.model->set_gradient_checkpointing(s.trainer.gradient_checkpointing);
  const bool bf16 = s.trainer.bf16;
  const bool shared_prefix = s.trainer.shared_prefix;
  const size_t batch = s.trainer.batch_size;
  int32_t pad = text::pad_token(*st.tokenizer);

  json ref_inputs = {{"pairs", dataset::fingerprint_of(json(read_file(pairs_path)))},
                     {"adapter", adapter},
                     {"base", base_dir},
                     {"max_seq_length", s.trainer.max_seq_length},
                     {"bf16", bf16},
                     {"weights", model::weights_identity(adapter)}};
  auto reference = reference_logps(*st.model, data, pad, batch, bf16, shared_prefix,
                                   (fs::path(output_dir) / "reference_logps.json").string(),
                                   dataset::fingerprint_of(ref_inputs));
  for (auto& t : trained) t.tensor->set_requires_grad(true);

  AdamW optimizer(trained, s.trainer.optimizer);
  const DpoLossSettings& loss = s.loss;
  DpoObjective objective(*st.model, data, std::move(reference), pad, batch, s.seed, loss, bf16,
                         shared_prefix);

  plan_steps(s.trainer, static_cast<int64_t>((data.pairs() + batch - 1) / batch));
  LoopSettings& ls = s.trainer.loop;
  ls.tokenizer_dir = st.model_dir;
  std::ostringstream rpo;
  if (loss.rpo_alpha > 0) rpo << ", rpo_alpha " << loss.rpo_alpha;
  log_info("DPO (", loss.loss_type, ", beta ", loss.beta, rpo.str(), ") on ", trained.size(),
           st.adapter ? " adapter tensors" : " tensors (every weight)", " for ", ls.total_steps, " steps of ",
           batch, " x ", ls.grad_accum, " pairs");
  return train_loop(*st.model, st.adapter, optimizer, objective, ls);
}

}  // namespace af::train
