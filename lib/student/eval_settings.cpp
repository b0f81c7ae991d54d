#include "student/eval_settings.h"

#include "config/run_settings.h"

namespace af::student {

using nlohmann::json;

EvalSettings eval_settings(const config::Resolved& cfg) {
  EvalSettings s;
  s.dataset = cfg.get_string("evaluation.dataset");
  s.schemas = cfg.get_string("evaluation.schemas");
  s.results = cfg.get_string("evaluation.eval_results");
  s.summary = cfg.get_string("evaluation.eval_summary");
  s.checkpoint_path = cfg.get_string("evaluation.checkpoint_path");
  s.checkpoint_every = cfg.get_int("evaluation.checkpoint_every");
  s.resume = cfg.get_bool("evaluation.resume");
  s.seed = config::run_seed(cfg);
  s.selection.include_invalid = cfg.get_bool("evaluation.include_invalid");
  s.selection.max_samples = config::optional_int(cfg, "evaluation.max_samples").value_or(-1);
  s.selection.sample_seed = static_cast<uint64_t>(
      config::optional_int(cfg, "evaluation.sample_seed").value_or(static_cast<int64_t>(s.seed)));
  s.judge = cfg.get_bool("evaluation.judge");
  s.teacher = teacher::teacher_settings(cfg);
  s.base = base_model_from(cfg, "evaluation.base_model");
  s.adapter = config::optional_string(cfg, "evaluation.adapter").value_or("");
  s.decode = decode_settings(cfg);
  s.compare_constrained = cfg.get_bool("evaluation.compare_constrained");
  s.runtime = runtime_settings(cfg);
  s.progress = config::progress_settings(cfg);
  return s;
}

json EvalSettings::to_json() const {
  return {{"dataset", dataset},
          {"schemas", schemas},
          {"writes", {{"records", results}, {"summary", summary}}},
          {"checkpoint", {{"path", checkpoint_path}, {"every", checkpoint_every}, {"resume", resume}}},
          {"selection",
           {{"include_invalid", selection.include_invalid},
            {"max_samples", selection.max_samples > 0 ? json(selection.max_samples) : json(nullptr)},
            {"sample_seed", selection.sample_seed}}},
          {"student",
           {{"base_model", base.to_json()},
            {"adapter", adapter.empty() ? json(nullptr) : json(adapter)},
            {"merged", true}}},
          {"decode", decode.to_json()},
          {"compare_constrained", compare_constrained},
          {"judge", judge ? teacher.to_json() : json("no (--no-judge): teacher rates are left out")},
          {"seed", seed},
          {"runtime", runtime.to_json()},
          {"progress", config::progress_json(progress)}};
}

}  // namespace af::student
