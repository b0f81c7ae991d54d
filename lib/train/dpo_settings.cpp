#include "train/dpo_settings.h"

#include "config/run_settings.h"

namespace af::train {

using nlohmann::json;

DpoSettings dpo_settings(const config::Resolved& cfg) {
  DpoSettings s;
  s.pairs = cfg.get_string("alignment.pairs_out");
  s.adapter = cfg.get_string("alignment.adapter");
  s.base = student::base_model_from(cfg, "alignment.base_model");
  s.trainer = trainer_settings_from(cfg, "alignment");
  s.trainer.loop.metrics_file = "dpo_metrics.jsonl";
  s.trainer.loop.eval_steps = 0;  // DPO has no held-out loss; the real judge is eval-teacher on the result
  s.trainer.loop.metric_for_best_model = "loss";
  s.loss.loss_type = cfg.get_string("alignment.loss_type");
  s.loss.beta = cfg.get_double("alignment.beta");
  s.loss.label_smoothing = cfg.get_double("alignment.label_smoothing");
  s.loss.rpo_alpha = config::optional_double(cfg, "alignment.rpo_alpha").value_or(0.0);
  s.seed = config::run_seed(cfg);
  s.runtime = student::runtime_settings(cfg);
  return s;
}

json DpoSettings::to_json() const {
  return {
      {"pairs", pairs},
      {"adapter", adapter},
      {"reference", "the adapter's policy, frozen (log-probabilities computed once, reference_logps.json)"},
      {"base_model", base.to_json()},
      {"trainer", trainer.to_json()},
      {"loss",
       {{"loss_type", loss.loss_type},
        {"beta", loss.beta},
        {"label_smoothing", loss.label_smoothing},
        {"rpo_alpha", loss.rpo_alpha > 0 ? json(loss.rpo_alpha) : json(nullptr)}}},
      {"seed", seed},
      {"runtime", runtime.to_json()}};
}

}  // namespace af::train
