// The second half of the pipeline on real files: ds-build (teacher-sim) -> train-sft (tiny scratch student)
// -> eval-teacher (judged by teacher-sim; resumable; without a teacher; with a teacher that fails) ->
// pairs-build
// -> train-dpo (metrics, checkpoints, resume bit-identical, LoRA adapters).
#include "support/torch_doctest.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/jsonl_reader.h"
#include "support/background_tool.h"
#include "support/json_lines.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::BackgroundTool;
using af::test::run_tool;
using af::test::slurp;
using af::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& extra) {
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A dataset from teacher-sim and a tiny student trained on it, under dir/out.
struct Pipeline {
  TempDir dir;
  BackgroundTool sim{"teacher-sim", {"--port", "0", "--port-file", dir.file("port")}};
  std::string port = sim.wait_for_file(dir.file("port"));
  std::string out = dir.file("out");

  // Every tool reads the dev config with the test's output root; the model tools also get progress and
  // threads.
  std::vector<std::string> config() const {
    return {"--config", "configs/defaults.dev.yaml", "--set", "run.output_root=" + out};
  }
  std::vector<std::string> common() const { return with(config(), {"--progress", "off", "--threads", "2"}); }
  std::vector<std::string> teacher(const std::string& at_port = "") const {
    return {"--teacher-model", "teacher-sim", "--teacher-host",
            "http://127.0.0.1:" + (at_port.empty() ? port : at_port)};
  }
  std::vector<std::string> student() const {
    return {"--base-model",
            "scratch",
            "--scratch-vocab-size",
            "1024",
            "--scratch-hidden-size",
            "32",
            "--scratch-num-layers",
            "2",
            "--scratch-num-heads",
            "2",
            "--scratch-num-kv-heads",
            "1",
            "--scratch-head-dim",
            "16",
            "--scratch-intermediate-size",
            "64",
            "--scratch-max-position-embeddings",
            "8192",
            "--scratch-sliding-window",
            "64"};
  }
  std::vector<std::string> eval_args(const std::string& teacher_port = "") const {
    return with(with(common(), teacher(teacher_port)),
                {"--base-model", "scratch", "--max-samples", "6", "--max-new-tokens", "40", "--batch-size",
                 "3", "--checkpoint-every", "1"});
  }

  Pipeline() {
    auto ds = run_tool("ds-build", with(with({"all", "--progress", "off"}, config()),
                                        with(teacher(), {"--max-domains", "2", "--samples-per-schema", "12",
                                                         "--examples-per-schema", "6",
                                                         // a whole schema held out: 12 eval rows
                                                         "--eval-schema-fraction", "0.1"})));
    REQUIRE_MESSAGE(ds.exit_code == 0, ds.err);
    auto sft = run_tool(
        "train-sft",
        with(with(common(), student()), {"--max-seq-length", "8192", "--batch-size", "2", "--max-steps", "4",
                                         "--save-steps", "4", "--eval-steps", "4", "--logging-steps", "2"}));
    REQUIRE_MESSAGE(sft.exit_code == 0, sft.err);
  }
  std::string eval_dir() const { return out + "/student_runs/eval"; }
};

}  // namespace

TEST_CASE("eval-teacher writes a judged record per sample and a summary whose rates match them") {
  Pipeline p;
  auto run = run_tool("eval-teacher", p.eval_args());
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto records = af::read_jsonl(p.eval_dir() + "/evaluation_results.jsonl");
  REQUIRE(records.size() == 6);
  auto d05 = af::read_jsonl(p.out + "/d_05_eval_set.jsonl");
  std::map<std::string, json> by_id;
  for (const auto& r : d05) by_id[r["id"]] = r;
  size_t parsed = 0, accepted = 0;
  for (const auto& r : records) {
    for (const char* key : {"id", "prompt_text", "raw_output", "parsed", "student_canonical", "schema_valid",
                            "schema_errors", "exact_match", "teacher_canonical", "teacher_verdict",
                            "semantic_pass", "generation_seconds", "language", "kind", "finish_reason"})
      CHECK_MESSAGE(r.contains(key), key);
    REQUIRE(by_id.count(r["id"]) == 1);
    const json& row = by_id[r["id"]];
    CHECK(r["prompt_text"] == row["prompt"]);  // the exact prompt, as pairs-build needs it
    CHECK(r["target_canonical"] == row["target"]);
    CHECK(r["teacher_verdict"].is_string());
    CHECK(r["teacher_canonical"].get<std::string>().front() == '{');
    parsed += r["parsed"].get<bool>();
    accepted += r["teacher_verdict"] == "accept";
    CHECK(r["semantic_pass"] == (r["schema_valid"].get<bool>() && r["teacher_verdict"] == "accept"));
  }
  json summary = json::parse(slurp(p.eval_dir() + "/evaluation_summary.json"));
  CHECK(summary["samples"] == 6);
  CHECK(summary["parsed_count"] == parsed);
  CHECK(summary["teacher_accept_count"] == accepted);
  CHECK(summary["teacher_accept_rate"].get<double>() == doctest::Approx(accepted / 6.0));
  CHECK(summary["teacher_model"] == "teacher-sim");
  CHECK(summary["by_language"].size() >= 1);
  CHECK(summary["by_kind"].size() >= 1);
  CHECK(summary["throughput"]["generated_tokens"].get<double>() > 0);
  CHECK(run.err.find("over 6 samples") != std::string::npos);

  // Resume: with the last three records gone (a run killed there), a second run judges only those three and
  // ends with the same records.
  std::string results = p.eval_dir() + "/evaluation_results.jsonl";
  std::string full = slurp(results);
  std::string head;
  {
    std::istringstream in(full);
    std::string line;
    for (int i = 0; i < 3 && std::getline(in, line); ++i) head += line + "\n";
  }
  std::ofstream(results, std::ios::trunc) << head;
  auto resumed = run_tool("eval-teacher", p.eval_args());
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  CHECK(resumed.err.find("after 3 rows") != std::string::npos);
  auto again = af::read_jsonl(results);
  REQUIRE(again.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    json a = records[i], b = again[i];
    for (json* r : {&a, &b}) {
      for (const char* k : {"generation_seconds", "teacher_seconds", "mask_ms_median"}) r->erase(k);
      if (r->contains("other_mode"))  // the dev config compares constrained decoding: its timings too
        for (const char* k : {"generation_seconds", "mask_ms_median"}) (*r)["other_mode"].erase(k);
    }
    CHECK(a == b);
  }
  // A finished evaluation run again only rewrites the summary.
  auto done = run_tool("eval-teacher", p.eval_args());
  REQUIRE(done.exit_code == 0);
  CHECK(done.err.find("loaded") == std::string::npos);  // no model needed
}

TEST_CASE("eval-teacher without a teacher reports the teacher-free rates and says the others are missing") {
  Pipeline p;
  auto run =
      run_tool("eval-teacher", with(p.eval_args(), {"--no-judge", "--out-dir", p.dir.file("nojudge")}));
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  json summary = json::parse(slurp(p.dir.file("nojudge/evaluation_summary.json")));
  CHECK(summary["parsed_rate"].is_number());
  CHECK(summary["teacher_accept_rate"].is_null());
  CHECK(summary["semantic_pass_rate"].is_null());
  CHECK(summary["teacher_rates_missing"].is_string());
  for (const auto& r : af::read_jsonl(p.dir.file("nojudge/evaluation_results.jsonl")))
    CHECK_FALSE(r.contains("teacher_verdict"));
  // pairs-build refuses results nobody judged: its summary says so (alignment.eval_summary).
  const std::string records = p.dir.file("nojudge/evaluation_results.jsonl");
  const std::string unjudged = p.dir.file("nojudge/evaluation_summary.json");
  auto pairs =
      run_tool("pairs-build", with(p.config(), {"--eval-results", records, "--eval-summary", unjudged}));
  CHECK(pairs.exit_code == 2);
  CHECK(pairs.err.find(unjudged + " says no teacher judged this evaluation") != std::string::npos);
  auto missing = run_tool("pairs-build", with(p.config(), {"--eval-results", records, "--eval-summary",
                                                           p.dir.file("nojudge/none.json")}));
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("evaluation summary not found: " + p.dir.file("nojudge/none.json")) !=
        std::string::npos);
  // A judged summary beside records of another run: the counts give it away.
  REQUIRE(run_tool("eval-teacher", p.eval_args()).exit_code == 0);
  json judged = json::parse(slurp(p.eval_dir() + "/evaluation_summary.json"));
  std::vector<json> fewer = af::read_jsonl(p.eval_dir() + "/evaluation_results.jsonl");
  fewer.pop_back();
  std::string text;
  for (const json& r : fewer) text += r.dump() + "\n";
  const std::string other = p.dir.write("other/evaluation_results.jsonl", text);
  auto mismatch = run_tool("pairs-build", with(p.config(), {"--eval-results", other}));
  CHECK(mismatch.exit_code == 2);
  CHECK(mismatch.err.find("does not describe " + other + ": its samples is 6, the records give 5") !=
        std::string::npos);
  // Without a summary check the file alone would also say it: records with no verdict at all.
  auto plain = run_tool("pairs-build", with(p.config(), {"--eval-results", records, "--eval-summary",
                                                         p.eval_dir() + "/evaluation_summary.json"}));
  CHECK(plain.exit_code == 2);
  CHECK(judged["teacher_accept_rate"].is_number());
}

TEST_CASE(
    "eval-teacher --compare-constrained reports both decoding modes side by side, and the report shows "
    "them") {
  Pipeline p;
  // An untrained student under the DSL schema: the constrained output is whole and valid whenever it is not
  // cut off by max_new_tokens; truncation is its own outcome and never valid.
  auto run =
      run_tool("eval-teacher", with(p.eval_args(), {"--no-judge", "--out-dir", p.dir.file("cmp"),
                                                    "--max-new-tokens", "200", "--compare-constrained"}));
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  json summary = json::parse(slurp(p.dir.file("cmp/evaluation_summary.json")));
  REQUIRE(summary.contains("constrained_comparison"));
  const json& on = summary["constrained_comparison"]["constrained"];
  const json& off = summary["constrained_comparison"]["unconstrained"];
  CHECK(off["parsed_rate"] == summary["parsed_rate"]);  // the evaluation's own mode is unconstrained
  CHECK(on["samples"] == 6);
  auto records = af::read_jsonl(p.dir.file("cmp/evaluation_results.jsonl"));
  size_t valid = 0, truncated = 0;
  for (const json& r : records) {
    const json& o = r["other_mode"];
    CHECK(o["constrained"] == true);
    if (o["finish_reason"] == "length") {
      ++truncated;
      CHECK(o["schema_valid"] == false);
    } else {
      CHECK(o["finish_reason"] == "stop");
      CHECK_MESSAGE(o["schema_valid"] == true, o.dump());
      ++valid;
    }
  }
  CHECK(on["schema_valid_count"] == valid);
  CHECK(on["truncated_count"] == truncated);
  auto report = run_tool(
      "report",
      with(p.config(), {"--eval-summary", p.dir.file("cmp/evaluation_summary.json"), "--eval-results",
                        p.dir.file("cmp/evaluation_results.jsonl"), "--out-dir", p.dir.file("cmp-report")}));
  REQUIRE_MESSAGE(report.exit_code == 0, report.err);
  std::string md = slurp(p.dir.file("cmp-report/report.md"));
  CHECK(md.find("### Constrained decoding") != std::string::npos);
  CHECK(md.find("| rate | unconstrained | constrained |") != std::string::npos);
}

TEST_CASE("a teacher that fails while judging ends the run with a clear message and a resumable state") {
  Pipeline p;
  BackgroundTool broken("teacher-sim",
                        {"--port", "0", "--port-file", p.dir.file("bport"), "--fail-rate", "1"});
  std::string bport = broken.wait_for_file(p.dir.file("bport"));
  auto args = with(p.eval_args(bport), {"--teacher-retries", "1", "--teacher-retry-wait", "0.001"});
  auto run = run_tool("eval-teacher", args);
  CHECK(run.exit_code != 0);
  CHECK_MESSAGE(run.err.find("the teacher failed while judging samples 1-3") != std::string::npos, run.err);
  CHECK(run.err.find("0 of 6 samples are saved") != std::string::npos);
  CHECK_FALSE(fs::exists(p.eval_dir() + "/evaluation_summary.json"));  // never a summary missing rows
  auto fixed = run_tool("eval-teacher", p.eval_args());
  REQUIRE_MESSAGE(fixed.exit_code == 0, fixed.err);
  CHECK(af::read_jsonl(p.eval_dir() + "/evaluation_results.jsonl").size() == 6);

  // A teacher that cannot be reached at all is named before any work.
  auto none = run_tool("eval-teacher", with(p.eval_args("1"), {"--out-dir", p.dir.file("x")}));
  CHECK(none.exit_code != 0);
  CHECK(none.err.find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("pairs-build and train-dpo: metrics, checkpoints, resume bit-identical, and LoRA adapters") {
  Pipeline p;
  REQUIRE(run_tool("eval-teacher", p.eval_args()).exit_code == 0);
  auto pb = run_tool("pairs-build", p.config());
  REQUIRE_MESSAGE(pb.exit_code == 0, pb.err);
  CHECK(pb.err.find("pairs from 6 records") != std::string::npos);
  CHECK(fs::exists(p.out + "/student_runs/alignment/dpo_pairs.jsonl"));

  // Pairs of the eval set: the stored target chosen over a refusal no pair chooses. (Another request's
  // target as the rejected one makes every answer both chosen and rejected: a 32-wide student that barely
  // reads its prompt yet cannot separate those in six steps, and the margin's sign would be chance.)
  auto d05 = af::read_jsonl(p.out + "/d_05_eval_set.jsonl");
  std::string pairs;
  for (size_t i = 0; i < 6; ++i)
    pairs +=
        json({{"id", d05[i]["id"]},
              {"prompt", d05[i]["prompt"]},
              {"chosen", d05[i]["target"]},
              {"rejected", R"({"refusal":{"reason":"no such field","suggestion":"ask about its fields"}})"}})
            .dump() +
        "\n";
  std::string pairs_file = p.dir.write("pairs.jsonl", pairs);
  auto dpo = [&](const std::string& out, std::vector<std::string> extra) {
    return run_tool("train-dpo",
                    with(with(p.common(), {"--base-model",
                                           "scratch",
                                           "--pairs",
                                           pairs_file,
                                           "--output-dir",
                                           out,
                                           "--max-steps",
                                           "6",
                                           "--batch-size",
                                           "2",
                                           "--grad-accum",
                                           "1",
                                           "--logging-steps",
                                           "2",
                                           "--save-steps",
                                           "2",
                                           "--learning-rate",
                                           "1e-3",
                                           "--warmup-steps",
                                           "1",
                                           "--max-seq-length",
                                           "8192",
                                           "--no-bf16",
                                           "--rpo-alpha",
                                           "null"}),  // plain DPO: the dev config's RPO is run c's
                         extra));
  };
  auto a = dpo(p.dir.file("dpo_a"), {});
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  auto lines = af::test::json_lines(slurp(p.dir.file("dpo_a/dpo_metrics.jsonl")));
  REQUIRE(lines.size() == 3);
  for (const char* key :
       {"loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
        "rewards/margins", "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected", "epoch"})
    CHECK_MESSAGE(lines[2].contains(key), key);
  CHECK_FALSE(lines[2].contains("nll_loss"));  // only RPO logs it
  CHECK(lines[0]["loss"].get<double>() ==
        doctest::Approx(std::log(2.0)).epsilon(0.02));   // starts at the reference
  CHECK(lines[2]["rewards/margins"].get<double>() > 0);  // learns to prefer the chosen ASTs
  CHECK(fs::exists(p.dir.file("dpo_a/reference_logps.json")));
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.model"})
    CHECK(fs::exists(p.dir.file(std::string("dpo_a/checkpoint-final/") + f)));

  // From checkpoint-2 of that run, resumed: the same weights and metrics lines (times aside).
  fs::create_directories(p.dir.file("dpo_b"));
  fs::copy(p.dir.file("dpo_a/checkpoint-2"), p.dir.file("dpo_b/checkpoint-2"), fs::copy_options::recursive);
  fs::copy(p.dir.file("dpo_a/dpo_metrics.jsonl"), p.dir.file("dpo_b/dpo_metrics.jsonl"));
  auto b = dpo(p.dir.file("dpo_b"), {"--resume"});
  REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  CHECK(b.err.find("resuming from " + p.dir.file("dpo_b/checkpoint-2")) != std::string::npos);
  CHECK(slurp(p.dir.file("dpo_b/checkpoint-final/model.safetensors")) ==
        slurp(p.dir.file("dpo_a/checkpoint-final/model.safetensors")));
  auto timeless = [](std::vector<json> v) {
    for (auto& l : v) l.erase("tokens_per_second");
    return v;
  };
  CHECK(timeless(af::test::json_lines(slurp(p.dir.file("dpo_b/dpo_metrics.jsonl")))) == timeless(lines));

  // A LoRA SFT adapter (every projection of 2 layers: 28 tensors) on the scratch student's folder: DPO trains
  // that adapter further.
  std::string folder = p.out + "/student_runs/dev-tiny/checkpoint-final";
  auto lora = run_tool("train-sft", with(with(p.common(), {"--base-model",
                                                           folder,
                                                           "--output-dir",
                                                           p.dir.file("lora"),
                                                           "--lora-enabled",
                                                           "--lora-r",
                                                           "4",
                                                           "--lora-alpha",
                                                           "8",
                                                           "--max-seq-length",
                                                           "8192",
                                                           "--batch-size",
                                                           "2",
                                                           "--max-steps",
                                                           "2",
                                                           "--save-steps",
                                                           "2",
                                                           "--eval-steps",
                                                           "2",
                                                           "--logging-steps",
                                                           "1"}),
                                         {}));
  REQUIRE_MESSAGE(lora.exit_code == 0, lora.err);
  auto c =
      run_tool("train-dpo",
               with(p.common(),
                    {"--base-model",     folder,     "--adapter",       p.dir.file("lora/checkpoint-final"),
                     "--pairs",          pairs_file, "--output-dir",    p.dir.file("dpo_lora"),
                     "--max-steps",      "2",        "--batch-size",    "2",
                     "--grad-accum",     "1",        "--logging-steps", "1",
                     "--save-steps",     "2",        "--loss-type",     "ipo",
                     "--max-seq-length", "8192",     "--no-bf16"}));
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);
  // The dev config's rpo_alpha 4 holds: the chosen answers' NLL is added and logged.
  CHECK_MESSAGE(c.err.find("DPO (ipo, beta 0.1, rpo_alpha 4) on 28 adapter tensors") != std::string::npos,
                c.err);
  auto c_lines = af::test::json_lines(slurp(p.dir.file("dpo_lora/dpo_metrics.jsonl")));
  REQUIRE(c_lines.size() == 2);
  CHECK(c_lines[0]["nll_loss"].get<double>() > 0);
  CHECK(c_lines[0]["loss"].get<double>() > 4 * c_lines[0]["nll_loss"].get<double>());  // IPO's part is >= 0
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
    CHECK(fs::exists(p.dir.file(std::string("dpo_lora/checkpoint-final/") + f)));
}

TEST_CASE("train-dpo refuses to run as data-parallel ranks instead of writing one run from several") {
  auto r =
      run_tool("train-dpo", {"--config", "configs/defaults.dev.yaml"}, {{"WORLD_SIZE", "2"}, {"RANK", "0"}});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("train-dpo runs as one process (WORLD_SIZE=2)") != std::string::npos);
}
