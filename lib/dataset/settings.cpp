#include "dataset/settings.h"

#include "config/resolve.h"
#include "config/run_settings.h"

namespace af::dataset {

using json = nlohmann::json;

DatasetSettings dataset_settings(const config::Resolved& cfg) {
  DatasetSettings s;
  s.seed = config::run_seed(cfg);
  s.resume = cfg.get_bool("dataset_generation.resume");
  s.pretty_dir = cfg.get_string("dataset_generation.pretty_dir");
  s.progress = config::progress_settings(cfg);
  s.offline_fallback = cfg.get_bool("dataset_generation.offline_fallback");
  s.lexicon_dir = cfg.get_string("teacher_sim.lexicon_dir");

  s.specs.prompts_path = cfg.get_string("dataset_generation.prompts_path");
  s.specs.out_path = cfg.get_string("dataset_generation.schema_specs_out");
  s.specs.max_domains = config::optional_int(cfg, "dataset_generation.max_domains");
  s.specs.examples_per_schema = cfg.get_int("dataset_generation.examples_per_schema");
  s.specs.french_ratio = cfg.get_double("dataset_generation.french_ratio");

  s.schemas.specs_path = s.specs.out_path;
  s.schemas.out_path = cfg.get_string("dataset_generation.final_schemas_out");
  s.schemas.operator_catalog = cfg.get_string("dataset_generation.operator_catalog");
  s.schemas.base_schema_template = cfg.get_string("dataset_generation.base_schema_template");
  s.schemas.sampling.min_operators = static_cast<int>(cfg.get_int("dataset_generation.min_operators"));
  s.schemas.sampling.max_operators = static_cast<int>(cfg.get_int("dataset_generation.max_operators"));

  s.samples.schemas_path = s.schemas.out_path;
  s.samples.out_path = cfg.get_string("dataset_generation.dataset_out");
  s.samples.checkpoint_path = cfg.get_string("dataset_generation.checkpoint_path");
  s.samples.checkpoint_every = cfg.get_int("dataset_generation.checkpoint_every");
  s.samples.samples_per_schema = cfg.get_int("dataset_generation.samples_per_schema");
  s.samples.french_ratio = s.specs.french_ratio;
  s.samples.refusal_ratio = cfg.get_double("dataset_generation.refusal_ratio");

  s.corpus.dataset_path = s.samples.out_path;
  s.corpus.schemas_path = s.schemas.out_path;
  s.corpus.corpus_path = cfg.get_string("dataset_generation.training_corpus_out");
  s.corpus.eval_path = cfg.get_string("dataset_generation.eval_set_out");
  s.corpus.negative_pairs_path = cfg.get_string("dataset_generation.negative_pairs_out");
  s.corpus.eval_schema_fraction = cfg.get_double("dataset_generation.eval_schema_fraction");
  s.corpus.eval_row_fraction = cfg.get_double("dataset_generation.eval_row_fraction");
  s.corpus.include_invalid = cfg.get_bool("dataset_generation.include_invalid");
  s.corpus.max_samples = config::optional_int(cfg, "dataset_generation.max_samples");
  return s;
}

json DatasetSettings::to_json() const {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {
      {"seed", seed},
      {"resume", resume},
      {"pretty_dir", pretty_dir},
      {"progress", config::progress_json(progress)},
      {"teacher", offline_fallback ? json({{"offline_fallback", true}, {"lexicon_dir", lexicon_dir}})
                                   : json({{"offline_fallback", false}})},
      {"specs",
       {{"reads", specs.prompts_path},
        {"writes", specs.out_path},
        {"checkpoint", specs.out_path + ".checkpoint.json"},
        {"max_domains", opt(specs.max_domains)},
        {"examples_per_schema", specs.examples_per_schema},
        {"french_ratio", specs.french_ratio}}},
      {"schemas",
       {{"reads", json::array({schemas.specs_path, schemas.operator_catalog, schemas.base_schema_template})},
        {"writes", schemas.out_path},
        {"operators_per_schema", {schemas.sampling.min_operators, schemas.sampling.max_operators}}}},
      {"samples",
       {{"reads", samples.schemas_path},
        {"writes", samples.out_path},
        {"checkpoint", samples.checkpoint_path},
        {"checkpoint_every", samples.checkpoint_every},
        {"samples_per_schema", samples.samples_per_schema},
        {"french_ratio", samples.french_ratio},
        {"refusal_ratio", samples.refusal_ratio}}},
      {"corpus",
       {{"reads", json::array({corpus.schemas_path, corpus.dataset_path})},
        {"writes", json::array({corpus.corpus_path, corpus.eval_path, corpus.negative_pairs_path})},
        {"eval_schema_fraction", corpus.eval_schema_fraction},
        {"eval_row_fraction", corpus.eval_row_fraction},
        {"negatives", corpus.include_invalid ? "kept as DPO pairs in " + corpus.negative_pairs_path
                                             : std::string("dropped")},
        {"max_samples", opt(corpus.max_samples)}}}};
}

}  // namespace af::dataset
