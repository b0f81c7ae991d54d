// The teacher-driven dataset stages (specs, samples) and the corpus split, as seeds/004's
// generate_domain_specs.py, generate_dataset.py and build_training_corpus.py. Each resumes after a crash.
#pragma once
#include <cstddef>

namespace af::teacher {
class TeacherClient;
}

namespace af::dataset {

struct DatasetSettings;

/// data/domain_prompts.jsonl -> d_01: one domain spec per prompt, validated; resumable.
size_t run_specs_stage(const DatasetSettings& settings, const teacher::TeacherClient& teacher);

/// d_02 -> d_03: samples_per_schema requests per schema, each with the teacher's AST validated against the
/// schema; an AST the schema refuses is kept as a rejected attempt and the teacher, shown the errors, answers
/// once more (a row still invalid keeps is_valid false and its errors). Resumable, checkpointed every
/// checkpoint_every rows.
size_t run_samples_stage(const DatasetSettings& settings, const teacher::TeacherClient& teacher);

/// d_03 -> d_04 (SFT corpus: prompt + canonical completion, schema-valid targets only), d_05 (held-out eval
/// set: whole schemas by eval_schema_fraction plus rows by eval_row_fraction; no request text on both sides)
/// and d_06 (with include_invalid, the teacher's rejected attempts paired with its corrected answers, for
/// pairs-build). Returns training rows.
size_t run_corpus_stage(const DatasetSettings& settings);

}  // namespace af::dataset
