#include "train/loop_config.h"

#include "config/run_settings.h"

namespace af::train {

using nlohmann::json;

TrainerSettings trainer_settings_from(const config::Resolved& cfg, const std::string& section) {
  auto key = [&](const char* name) { return section + "." + name; };
  TrainerSettings s;
  LoopSettings& ls = s.loop;
  ls.output_dir = cfg.get_string(key("output_dir"));
  ls.grad_accum = cfg.get_int(key("grad_accum"));
  ls.schedule.type = cfg.get_string(key("lr_scheduler_type"));
  ls.schedule.peak = cfg.get_double(key("learning_rate"));
  ls.max_grad_norm = config::optional_double(cfg, key("max_grad_norm")).value_or(0.0);
  ls.nonfinite_patience = cfg.get_int(key("nonfinite_patience"));
  ls.logging_steps = cfg.get_int(key("logging_steps"));
  ls.save_steps = cfg.get_int(key("save_steps"));
  ls.save_total_limit = config::optional_int(cfg, key("save_total_limit")).value_or(-1);
  ls.resume = config::optional_string(cfg, key("resume_from_checkpoint")).value_or("");
  ls.progress = config::progress_settings(cfg);

  s.budget.max_steps = config::optional_int(cfg, key("max_steps"));
  s.budget.num_epochs = cfg.get_double(key("num_epochs"));
  s.budget.warmup_steps = cfg.get_int(key("warmup_steps"));
  s.budget.warmup_ratio = cfg.get_double(key("warmup_ratio"));

  s.optimizer.beta1 = cfg.get_double(key("adam_beta1"));
  s.optimizer.beta2 = cfg.get_double(key("adam_beta2"));
  s.optimizer.epsilon = cfg.get_double(key("adam_epsilon"));
  s.optimizer.weight_decay = cfg.get_double(key("weight_decay"));

  s.max_seq_length = cfg.get_int(key("max_seq_length"));
  s.batch_size = static_cast<size_t>(cfg.get_int(key("batch_size")));
  s.shared_prefix = cfg.get_bool(key("shared_prefix"));
  s.gradient_checkpointing = cfg.get_bool(key("gradient_checkpointing"));
  s.bf16 = cfg.get_bool(key("bf16"));
  s.fp16 = cfg.get_bool(key("fp16"));
  return s;
}

void plan_steps(TrainerSettings& s, int64_t batches_per_epoch, int64_t ranks) {
  LoopSettings& ls = s.loop;
  ls.batches_per_epoch = batches_per_epoch;
  ls.total_steps = total_steps_for(s.budget.max_steps.value_or(-1), s.budget.num_epochs, batches_per_epoch,
                                   ls.grad_accum * ranks);
  ls.schedule.total_steps = ls.total_steps;
  ls.schedule.warmup_steps = warmup_from(s.budget.warmup_steps, s.budget.warmup_ratio, ls.total_steps);
}

json TrainerSettings::to_json(int64_t ranks) const {
  json schedule = {{"type", loop.schedule.type}, {"peak_learning_rate", loop.schedule.peak}};
  if (budget.warmup_ratio > 0) {
    schedule["warmup_ratio"] = budget.warmup_ratio;
  } else {
    schedule["warmup_steps"] = budget.warmup_steps;
  }
  if (budget.max_steps) {
    // The run's length does not depend on the data: show the schedule as the run will follow it.
    TrainerSettings planned = *this;
    plan_steps(planned, 1, ranks);
    const Schedule& sch = planned.loop.schedule;
    schedule["total_steps"] = sch.total_steps;
    schedule["warmup_steps"] = sch.warmup_steps;
    json at = json::object();
    for (int64_t step : {int64_t{0}, sch.warmup_steps, sch.total_steps / 2, sch.total_steps - 1})
      at[std::to_string(step)] = sch.at(step);
    schedule["learning_rate_at_step"] = at;
  } else {
    schedule["total_steps"] =
        "num_epochs x micro-batches per epoch / (grad_accum x ranks): known once the "
        "data is read";
  }
  return {{"output_dir", loop.output_dir},
          {"batch",
           {{"batch_size", batch_size},
            {"grad_accum", loop.grad_accum},
            {"ranks", ranks},
            {"per_optimizer_step", static_cast<int64_t>(batch_size) * loop.grad_accum * ranks},
            {"max_seq_length", max_seq_length},
            {"shared_prefix", shared_prefix}}},
          {"steps",
           {{"max_steps", budget.max_steps ? json(*budget.max_steps) : json(nullptr)},
            {"num_epochs", budget.max_steps ? json(nullptr) : json(budget.num_epochs)}}},
          {"schedule", schedule},
          {"optimizer",
           {{"name", "AdamW"},
            {"beta1", optimizer.beta1},
            {"beta2", optimizer.beta2},
            {"epsilon", optimizer.epsilon},
            {"weight_decay", optimizer.weight_decay},
            {"max_grad_norm", loop.max_grad_norm > 0 ? json(loop.max_grad_norm) : json(nullptr)}}},
          {"precision", bf16   ? "bfloat16 autocast"
                        : fp16 ? "float16 autocast"
                               : "float32"},
          {"gradient_checkpointing", gradient_checkpointing},
          {"loop",
           {{"logging_steps", loop.logging_steps},
            {"save_steps", loop.save_steps},
            {"save_total_limit", loop.save_total_limit > 0 ? json(loop.save_total_limit) : json(nullptr)},
            {"resume_from_checkpoint", loop.resume.empty() ? json(nullptr) : json(loop.resume)},
            {"nonfinite_patience", loop.nonfinite_patience},
            {"progress", config::progress_json(loop.progress)}}}};
}

}  // namespace af::train
