// Resolution: precedence, references, derived settings, cross-field rules, origins and redaction.
#include <doctest/doctest.h>

#include <map>

#include "config/resolve.h"
#include "support/temp_dir.h"

using namespace af::config;
using af::test::TempDir;
using json = nlohmann::json;

namespace {
std::function<std::optional<std::string>(const std::string&)> env_of(
    std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
ResolveInput input(std::vector<std::string> files = {}, std::vector<std::string> sets = {},
                   std::map<std::string, std::string> env = {}) {
  ResolveInput in;
  in.config_files = std::move(files);
  in.sets = std::move(sets);
  in.getenv = env_of(std::move(env));
  return in;
}
std::vector<std::string> codes(const Findings& f) {
  std::vector<std::string> out;
  for (const auto& x : f.all()) out.push_back(x.code + ":" + x.key);
  return out;
}
}  // namespace

TEST_CASE("defaults resolve with their references") {
  Findings f;
  Resolved r = resolve(input(), f);
  CHECK_FALSE(f.has_errors());
  CHECK(r.get_string("training.output_dir") == "outputs/student_runs/gemma3-270m");
  CHECK(r.get_string("alignment.output_dir") == "outputs/student_runs/gemma3-270m-dpo");
  CHECK(r.get_string("alignment.eval_results") == "outputs/student_runs/eval/evaluation_results.jsonl");
  CHECK(r.get_double("alignment.adam_beta2") == 0.999);
  CHECK(r.get_string("alignment.lr_scheduler_type") == "linear");
  CHECK(r.origin("training.output_dir").describe() == "default");
  CHECK(r.origin("training.output_dir").template_text == "${run.output_root}/student_runs/${run.name}");
}

TEST_CASE("precedence: default < file < extends child < env < --set < flag") {
  TempDir dir;
  dir.write("base.yaml", "teacher:\n  model: from-base\ntraining:\n  learning_rate: 1e-3\n  batch_size: 2\n");
  std::string child = dir.write("child.yaml", "extends: base.yaml\ntraining:\n  learning_rate: 2e-3\n");
  ResolveInput in = input({child}, {"training.learning_rate=3e-3", "training.batch_size=6"},
                          {{"LLM_MODEL", "from-env"}, {"OLLAMA_HOST", "10.0.0.1:11434"}});
  in.flags.push_back({"training.batch_size", "7", "--batch-size"});
  Findings f;
  Resolved r = resolve(in, f);
  CHECK_FALSE(f.has_errors());
  CHECK(r.get_string("teacher.model") == "from-env");
  CHECK(r.origin("teacher.model").describe() == "env LLM_MODEL");
  CHECK(r.get_list("teacher.host") == std::vector<std::string>{"10.0.0.1:11434"});
  CHECK(r.get_double("training.learning_rate") == 3e-3);
  CHECK(r.origin("training.learning_rate").describe() == "flag --set training.learning_rate=3e-3");
  CHECK(r.get_int("training.batch_size") == 7);
  CHECK(r.origin("training.batch_size").describe() == "flag --batch-size");
  CHECK(r.get_int("training.grad_accum") == 4);

  Findings g;
  Resolved files_only = resolve(input({child}), g);
  CHECK(files_only.get_double("training.learning_rate") == 2e-3);
  CHECK(files_only.origin("training.learning_rate").describe() == dir.file("child.yaml") + ":3:18");
  CHECK(files_only.get_string("teacher.model") == "from-base");
}

TEST_CASE("changing a referenced key moves every default built on it") {
  Findings f;
  Resolved r = resolve(input({}, {"run.output_root=/data/af", "run.name=exp1"}), f);
  CHECK(r.get_string("dataset_generation.training_corpus_out") == "/data/af/d_04_training_corpus.jsonl");
  CHECK(r.get_string("training.training_corpus") == "/data/af/d_04_training_corpus.jsonl");
  CHECK(r.get_string("report.out_dir") == "/data/af/reports/exp1");
  CHECK(r.get_string("predict.adapter") == "/data/af/student_runs/exp1/checkpoint-final");
}

TEST_CASE("user values may reference keys, bad references and cycles are errors") {
  Findings f;
  Resolved r =
      resolve(input({}, {"alignment.adam_beta1=${training.adam_beta2}", "run.name=run-${run.seed}"}), f);
  CHECK_FALSE(f.has_errors());
  CHECK(r.get_double("alignment.adam_beta1") == 0.999);
  CHECK(r.get_string("run.name") == "run-3407");
  Findings g;
  resolve(input({}, {"run.name=${run.nam}"}), g);
  REQUIRE(g.error_count() == 1);
  CHECK(g.all()[0].hint == "did you mean ${run.name}?");
  Findings h;
  resolve(input({}, {"training.output_dir=${training.training_corpus}",
                     "training.training_corpus=${training.output_dir}"}),
          h);
  CHECK(codes(h).front() == "reference_cycle:training.training_corpus");
}

TEST_CASE("explicit warmup_ratio turns the default warmup_steps off, both explicit is an error") {
  Findings f;
  Resolved r = resolve(input({}, {"training.warmup_ratio=0.1"}), f);
  CHECK_FALSE(f.has_errors());
  CHECK(r.get_int("training.warmup_steps") == 0);
  CHECK(r.origin("training.warmup_steps").describe() == "derived (training.warmup_ratio is set)");
  Findings g;
  resolve(input({}, {"training.warmup_ratio=0.1", "training.warmup_steps=10"}), g);
  CHECK(codes(g) == std::vector<std::string>{"mutually_exclusive:training.warmup_ratio"});
}

TEST_CASE("num_epochs alone trains by epochs, with max_steps it warns that max_steps wins") {
  Findings f;
  Resolved r = resolve(input({}, {"training.num_epochs=3"}), f);
  CHECK(f.all().empty());
  CHECK(r.is_null("training.max_steps"));
  Findings g;
  Resolved both = resolve(input({}, {"training.num_epochs=3", "training.max_steps=100"}), g);
  CHECK(codes(g) == std::vector<std::string>{"ignored:training.num_epochs"});
  CHECK(both.get_int("training.max_steps") == 100);
}

TEST_CASE("cross-field rules") {
  auto check = [](std::vector<std::string> sets) {
    Findings f;
    resolve(input({}, std::move(sets)), f);
    return codes(f);
  };
  CHECK(check({"training.fp16=true"}) ==
        std::vector<std::string>{"mutually_exclusive:training.fp16", "cross_field:training.fp16"});
  CHECK(check({"training.fp16=true", "training.bf16=false", "run.device=cpu"}) ==
        std::vector<std::string>{"cross_field:training.fp16"});
  CHECK(check({"training.fp16=true", "training.bf16=false", "run.device=cuda"}).empty());
  CHECK(check({"training.val_split=0", "training.eval_steps=10"}) ==
        std::vector<std::string>{"cross_field:training.eval_steps"});
  CHECK(check({"training.val_split=0"}).empty());
  // A setting made moot by a later layer is fine; the same setting after (or with) val_split is an error.
  CHECK(check({"training.eval_steps=10", "training.val_split=0"}).empty());
  CHECK(check({"training.val_split=0", "training.early_stop_patience=3"}) ==
        std::vector<std::string>{"cross_field:training.early_stop_patience"});
  CHECK(check({"training.load_best_model_at_end=true", "training.save_steps=75"}) ==
        std::vector<std::string>{"cross_field:training.save_steps"});
  CHECK(check({"dataset_generation.min_operators=9"}) ==
        std::vector<std::string>{"cross_field:dataset_generation.min_operators"});
  CHECK(check({"training.lora.target_modules=all-linear,q_proj"}) ==
        std::vector<std::string>{"cross_field:training.lora.target_modules"});
  CHECK(check({"evaluation.temperature=0.2"}) == std::vector<std::string>{"ignored:evaluation.temperature"});
  CHECK(check({"evaluation.temperature=0.2", "evaluation.do_sample=true"}).empty());
  CHECK(check({"teacher.host=not a host"}) == std::vector<std::string>{"invalid_value:teacher.host"});
  CHECK(check({"training.base_model=scratch", "training.max_seq_length=1024",
               "training.scratch.num_kv_heads=3"}) ==
        std::vector<std::string>{"cross_field:training.scratch.num_kv_heads"});
  CHECK(check({"training.base_model=scratch", "training.max_seq_length=8192"}) ==
        std::vector<std::string>{"cross_field:training.max_seq_length"});
  CHECK(check({"training.max_steps=20"}) ==
        std::vector<std::string>{"cross_field:training.warmup_steps", "cross_field:training.eval_steps"});
  CHECK(check({"teacher.api_key_env=NOPE_NOT_SET"}) ==
        std::vector<std::string>{"missing_env:teacher.api_key_env"});
}

TEST_CASE("--set problems: unknown keys, missing '=', deprecated spellings") {
  Findings f;
  Resolved r = resolve(input({}, {"training.lerning_rate=1", "training", "training.lora_r=8"}), f);
  CHECK(codes(f) == std::vector<std::string>{"unknown_key:training.lerning_rate",
                                             "bad_set:", "deprecated:training.lora_r"});
  CHECK(r.get_int("training.lora.r") == 8);
}

TEST_CASE("secrets are redacted in every rendering, and run_config.json round-trips") {
  TempDir dir;
  Findings f;
  Resolved r = resolve(input({}, {"teacher.api_key=sk-SECRET-123", "training.learning_rate=2e-4"}), f);
  CHECK(r.get_string("teacher.api_key") == "sk-SECRET-123");  // the tool itself can use it
  json rc = r.run_config({});
  CHECK(rc.dump().find("sk-SECRET") == std::string::npos);
  CHECK(rc["config"]["teacher"]["api_key"] == "<redacted>");
  CHECK(rc["sources"]["training.learning_rate"] == "flag --set training.learning_rate=2e-4");
  CHECK(rc["field_table_hash"].is_string());
  CHECK(r.nested().dump().find("sk-SECRET") == std::string::npos);

  std::string saved = dir.write("run_config.json", rc.dump(2));
  Findings g;
  Resolved again = resolve(input({saved}), g);
  CHECK_FALSE(g.has_errors());
  CHECK(again.get_double("training.learning_rate") == 2e-4);
  CHECK(again.is_null("teacher.api_key"));  // a redacted secret is not a value
  CHECK(again.origin("training.max_steps").describe() == "default");
  CHECK(again.nested() == [&] {
    json expected = r.nested();
    expected["teacher"]["api_key"] = nullptr;
    return expected;
  }());
}
