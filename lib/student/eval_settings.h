// eval-teacher's settings, read from the config in one place (evaluation.*, teacher.*, run.*): the evaluation
// acts on this struct only, and eval-teacher --dry-run prints it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/resolve.h"
#include "core/progress.h"
#include "eval/eval_set.h"
#include "student/settings.h"
#include "teacher/client.h"

namespace af::student {

/// Everything eval-teacher does, as configured.
struct EvalSettings {
  std::string dataset, schemas, results, summary, checkpoint_path;
  int64_t checkpoint_every = 10;
  bool resume = true;
  eval::EvalSelection selection;
  bool judge = true;
  teacher::TeacherSettings teacher;  // the judge (when judge)
  BaseModel base;
  std::string adapter;  // "": the base model alone
  DecodeSettings decode;
  bool compare_constrained = false;  // also decode every sample the other way
  uint64_t seed = 0;
  Runtime runtime;
  ProgressSettings progress;

  nlohmann::json to_json() const;
};

/// Reads every key eval-teacher consumes.
EvalSettings eval_settings(const config::Resolved& cfg);

}  // namespace af::student
