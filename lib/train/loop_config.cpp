#include "train/loop_config.h"

namespace af::train {

LoopSettings loop_settings_from(const config::Resolved& cfg, const std::string& prefix,
                                int64_t batches_per_epoch, int64_t ranks) {
  auto key = [&](const char* name) { return prefix + "." + name; };
  auto int_or = [&](const char* name, int64_t fallback) {
    return cfg.is_null(key(name)) ? fallback : cfg.get_int(key(name));
  };
  LoopSettings ls;
  ls.output_dir = cfg.get_string(key("output_dir"));
  ls.grad_accum = cfg.get_int(key("grad_accum"));
  ls.batches_per_epoch = batches_per_epoch;
  ls.total_steps = total_steps_for(int_or("max_steps", -1), cfg.get_double(key("num_epochs")),
                                   batches_per_epoch, ls.grad_accum * ranks);
  ls.schedule.type = cfg.get_string(key("lr_scheduler_type"));
  ls.schedule.peak = cfg.get_double(key("learning_rate"));
  ls.schedule.total_steps = ls.total_steps;
  ls.schedule.warmup_steps =
      warmup_from(cfg.get_int(key("warmup_steps")), cfg.get_double(key("warmup_ratio")), ls.total_steps);
  ls.max_grad_norm = cfg.is_null(key("max_grad_norm")) ? 0.0 : cfg.get_double(key("max_grad_norm"));
  ls.logging_steps = cfg.get_int(key("logging_steps"));
  ls.save_steps = cfg.get_int(key("save_steps"));
  ls.save_total_limit = int_or("save_total_limit", -1);
  ls.resume = cfg.is_null(key("resume_from_checkpoint")) ? "" : cfg.get_string(key("resume_from_checkpoint"));
  ls.progress_mode = cfg.get_string("run.progress");
  ls.progress_interval = cfg.get_double("run.progress_interval");
  return ls;
}

AdamWSettings adamw_settings_from(const config::Resolved& cfg, const std::string& prefix) {
  AdamWSettings opt;
  opt.beta1 = cfg.get_double(prefix + ".adam_beta1");
  opt.beta2 = cfg.get_double(prefix + ".adam_beta2");
  opt.epsilon = cfg.get_double(prefix + ".adam_epsilon");
  opt.weight_decay = cfg.get_double(prefix + ".weight_decay");
  return opt;
}

}  // namespace af::train
