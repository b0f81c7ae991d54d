// eval-teacher: the student generates an answer for each eval sample; each answer is parsed, validated
// against the row's schema, compared with the stored target and judged by the teacher. Writes
// evaluation_results.jsonl (resumable, in sample order) and evaluation_summary.json.
#pragma once
#include "student/eval_settings.h"

namespace af::student {

/// Runs the evaluation as `settings` say. Returns the samples evaluated.
size_t run_eval_teacher(const EvalSettings& settings);

}  // namespace af::student
