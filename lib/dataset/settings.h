// The settings of ds-build's stages (dataset_generation.*, run.seed, run.progress*), read from the config in
// one place: the stages use only these structs, and ds-build --dry-run prints them.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/progress.h"
#include "dataset/schema_builder.h"

namespace af::config {
class Resolved;
}

namespace af::dataset {

/// `ds-build specs`: domain prompts -> d_01.
struct SpecsSettings {
  std::string prompts_path, out_path;
  std::optional<int64_t> max_domains;  // nullopt: every prompt
  int64_t examples_per_schema = 60;
  double french_ratio = 0.3;
};

/// `ds-build schemas`: d_01 -> d_02.
struct SchemasSettings {
  std::string specs_path, out_path, operator_catalog, base_schema_template;
  OperatorSampling sampling;
};

/// `ds-build samples`: d_02 -> d_03.
struct SamplesSettings {
  std::string schemas_path, out_path, checkpoint_path;
  int64_t checkpoint_every = 10;
  int64_t samples_per_schema = 60;
  double french_ratio = 0.3, refusal_ratio = 0.1;
};

/// `ds-build corpus`: d_02 + d_03 -> d_04 (SFT targets), d_05 (held out), d_06 (negatives as pairs).
struct CorpusSettings {
  std::string dataset_path, schemas_path, corpus_path, eval_path, negative_pairs_path;
  double eval_schema_fraction = 0.1, eval_row_fraction = 0.05;
  bool include_invalid = true;         // keep the teacher's schema-invalid answers as DPO negatives (d_06)
  std::optional<int64_t> max_samples;  // cap on the SFT corpus
};

/// Every stage's settings, and what they share.
struct DatasetSettings {
  uint64_t seed = 0;
  bool resume = true;  // specs and samples continue from their checkpoints
  std::string pretty_dir;
  ProgressSettings progress;
  bool offline_fallback = false;  // answer with an in-process teacher-sim
  std::string lexicon_dir;        // the in-process teacher-sim's lexicons
  SpecsSettings specs;
  SchemasSettings schemas;
  SamplesSettings samples;
  CorpusSettings corpus;

  nlohmann::json to_json() const;
};

/// Reads every key ds-build consumes (the teacher's are read by teacher::teacher_settings).
DatasetSettings dataset_settings(const config::Resolved& cfg);

}  // namespace af::dataset
