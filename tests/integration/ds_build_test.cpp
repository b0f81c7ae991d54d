// `ds-build all` end to end against a real teacher-sim process with faults injected, and resume after kill
// -9.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/jsonl_reader.h"
#include "jsonschema/schema.h"
#include "support/background_tool.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::BackgroundTool;
using af::test::run_tool;
using af::test::slurp;
using af::test::TempDir;
using json = nlohmann::json;

namespace {
std::vector<std::string> base_args(const std::string& out, const std::string& port) {
  return {"--config",
          "configs/defaults.dev.yaml",
          "--set",
          "run.output_root=" + out,
          "--teacher-host",
          "http://127.0.0.1:" + port,
          "--max-domains",
          "4",
          "--samples-per-schema",
          "30",
          "--eval-schema-fraction",  // one whole schema held out, which the corpus checks below rely on
          "0.1",
          "--teacher-retries",
          "50",
          "--teacher-retry-wait",
          "0.001",
          "--progress",
          "off"};
}
}  // namespace

TEST_CASE("ds-build all builds every output from a faulty teacher-sim") {
  TempDir dir;
  BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", dir.file("port"), "--fail-rate", "0.1",
                                     "--garbage-rate", "0.1", "--drop-rate", "0.05"});
  std::string port = sim.wait_for_file(dir.file("port"));
  std::string out = dir.file("out");
  auto args = base_args(out, port);
  args.insert(args.begin(), "all");
  auto run = run_tool("ds-build", args);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);

  auto specs = af::read_jsonl(out + "/d_01_domain_specs.jsonl");
  CHECK(specs.size() == 4);
  CHECK(specs[0]["domain_id"] == "retail_orders");
  CHECK(specs[0]["example_queries"].size() == 20);
  auto schemas = af::read_jsonl(out + "/d_02_final_schemas.jsonl");
  REQUIRE(schemas.size() == 4);
  auto dataset = af::read_jsonl(out + "/d_03_dataset.jsonl");
  REQUIRE(dataset.size() == 120);
  std::map<std::string, af::jsonschema::Schema> compiled;
  for (const auto& s : schemas)
    compiled.emplace(s["schema_id"], af::jsonschema::Schema::compile(s["schema"]));
  std::map<std::string, int> kinds, languages;
  for (size_t i = 0; i < dataset.size(); ++i) {
    const json& r = dataset[i];
    CHECK(r["index"] == static_cast<int>(i % 30));
    CHECK(r["is_valid"] == compiled.at(r["schema_id"]).is_valid(r["ast"]));
    CHECK(r["ast_canonical"].get<std::string>() == r["ast"].dump());
    kinds[r["kind"]]++;
    languages[r["language"]]++;
  }
  CHECK(kinds["refusal"] > 0);
  CHECK(kinds["compound_filter"] > 0);
  CHECK(languages["fr"] > 10);
  CHECK(languages["en"] > 50);

  auto corpus = af::read_jsonl(out + "/d_04_training_corpus.jsonl");
  auto eval = af::read_jsonl(out + "/d_05_eval_set.jsonl");
  CHECK(corpus.size() + eval.size() <= 120);
  CHECK(corpus.size() > 60);
  std::set<std::string> eval_schemas, train_schemas, eval_queries;
  for (const auto& e : eval) {
    eval_schemas.insert(e["schema_id"]);
    eval_queries.insert(e["query"]);
    CHECK(e["prompt"].get<std::string>().find("Request: " + e["query"].get<std::string>()) !=
          std::string::npos);
  }
  for (const auto& c : corpus) {
    train_schemas.insert(c["schema_id"]);
    CHECK(c["completion"].is_string());
    CHECK(c["prompt"].get<std::string>().rfind("Schema:\n{", 0) == 0);
  }
  // One whole schema (10% of 4, at least one) is never trained on.
  int held_out = 0;
  for (const auto& s : eval_schemas) held_out += train_schemas.count(s) == 0;
  CHECK(held_out == 1);
  for (const auto& p :
       {"d_01_domain_specs", "d_02_final_schemas", "d_03_dataset", "d_04_training_corpus", "d_05_eval_set"}) {
    CHECK(std::filesystem::exists(out + "/pretty/" + std::string(p) + ".json"));
  }

  // Re-running resumes to "nothing to do" and leaves the files as they were.
  std::string before = slurp(out + "/d_03_dataset.jsonl");
  auto again = run_tool("ds-build", [&] {
    auto a = base_args(out, port);
    a.insert(a.begin(), "samples");
    return a;
  }());
  CHECK(again.exit_code == 0);
  CHECK(slurp(out + "/d_03_dataset.jsonl") == before);

  // Other settings with --resume: a clear refusal instead of mixing two datasets.
  auto samples_with = [&](std::vector<std::string> extra) {
    auto a = base_args(out, port);
    a.insert(a.begin(), "samples");
    a.insert(a.end(), extra.begin(), extra.end());
    return run_tool("ds-build", a);
  };
  auto changed = samples_with({"--refusal-ratio", "0.5"});
  CHECK(changed.exit_code == 2);
  CHECK(changed.err.find("was made from other inputs or settings than this run's: refusals is 0.5 now, ") !=
        std::string::npos);
  // The teacher's temperature changes its answers: the same refusal, naming it.
  auto hotter = samples_with({"--set", "teacher.temperature=0.9"});
  CHECK(hotter.exit_code == 2);
  CHECK(hotter.err.find("teacher.temperature is 0.9 now, ") != std::string::npos);
}

TEST_CASE("a sample run killed with -9 resumes to the same files as an uninterrupted run") {
  TempDir dir;
  BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", dir.file("port"), "--delay-ms", "15"});
  std::string port = sim.wait_for_file(dir.file("port"));
  auto prepare = [&](const std::string& out) {
    auto a = base_args(out, port);
    a.insert(a.begin(), "specs");
    REQUIRE(run_tool("ds-build", a).exit_code == 0);
    a[0] = "schemas";
    REQUIRE(run_tool("ds-build", a).exit_code == 0);
  };
  std::string clean = dir.file("clean"), killed = dir.file("killed");
  prepare(clean);
  prepare(killed);
  auto samples = [&](const std::string& out) {
    auto a = base_args(out, port);
    a.insert(a.begin(), "samples");
    a.insert(a.end(), {"--checkpoint-every", "4", "--teacher-concurrency", "2"});
    return a;
  };
  REQUIRE(run_tool("ds-build", samples(clean)).exit_code == 0);
  std::string expected = slurp(clean + "/d_03_dataset.jsonl");

  for (int round = 0; round < 3; ++round) {
    BackgroundTool victim("ds-build", samples(killed));
    // Let it write part of the file, then kill it without warning.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && victim.running()) {
      size_t lines = 0;
      for (char c : slurp(killed + "/d_03_dataset.jsonl")) lines += c == '\n';
      if (lines >= static_cast<size_t>(20 + 25 * round)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    victim.terminate(SIGKILL);
  }
  auto resumed = run_tool("ds-build", samples(killed));
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  // It really was interrupted: the resumed run starts after fewer rows than the whole file has.
  auto at = resumed.err.find("after ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(resumed.err.substr(at + 6)) < 120);
  CHECK(slurp(killed + "/d_03_dataset.jsonl") == expected);
}

TEST_CASE("runDatasetGeneration.sh starts teacher-sim, builds the dataset, and stops the simulator") {
  TempDir dir;
  std::string config =
      dir.write("c.yaml", "extends: " + std::string(ASTFORGE_SOURCE_DIR) +
                              "/configs/defaults.dev.yaml\nrun:\n  output_root: " + dir.file("out") +
                              "\ndataset_generation:\n  max_domains: 3\n  samples_per_schema: 10\n");
  std::string cmd = "cd " + std::string(ASTFORGE_SOURCE_DIR) + " && ASTFORGE_BUILD_DIR=" + ASTFORGE_BIN_DIR +
                    "/.. pipelines/runDatasetGeneration.sh --config " + config + " --progress off > " +
                    dir.file("log") + " 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  CHECK(af::read_jsonl(dir.file("out/d_03_dataset.jsonl")).size() == 30);
  std::string log = slurp(dir.file("log"));
  CHECK(log.find("teacher-sim listening on port") != std::string::npos);
  // No simulator is left running for this config.
  // The bracket keeps pgrep from matching the shell that runs it.
  std::string check = "pgrep -f '[t]eacher-sim --config " + config + "' > /dev/null";
  CHECK(std::system(check.c_str()) != 0);
}

TEST_CASE("Ctrl-C stops a sample run at a safe point with exit 130, running again finishes it") {
  TempDir dir;
  BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", dir.file("port"), "--delay-ms", "15"});
  std::string port = sim.wait_for_file(dir.file("port"));
  std::string clean = dir.file("clean"), stopped = dir.file("stopped");
  auto args_for = [&](const char* stage, const std::string& out) {
    auto a = base_args(out, port);
    a.insert(a.begin(), stage);
    a.insert(a.end(), {"--teacher-concurrency", "2"});
    return a;
  };
  for (const auto& out : {clean, stopped}) {
    REQUIRE(run_tool("ds-build", args_for("specs", out)).exit_code == 0);
    REQUIRE(run_tool("ds-build", args_for("schemas", out)).exit_code == 0);
  }
  REQUIRE(run_tool("ds-build", args_for("samples", clean)).exit_code == 0);

  BackgroundTool victim("ds-build", args_for("samples", stopped));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && slurp(stopped + "/d_03_dataset.jsonl").empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(victim.terminate(SIGINT) == 130);
  CHECK(victim.err().find("interrupted; the samples written so far are saved") != std::string::npos);
  size_t saved = af::read_jsonl(stopped + "/d_03_dataset.jsonl").size();
  CHECK(saved > 0);
  CHECK(saved < 120);
  REQUIRE(run_tool("ds-build", args_for("samples", stopped)).exit_code == 0);
  CHECK(slurp(stopped + "/d_03_dataset.jsonl") == slurp(clean + "/d_03_dataset.jsonl"));
}

TEST_CASE("a teacher's schema-invalid answer is corrected, never trained, and kept as a DPO pair") {
  TempDir dir;
  BackgroundTool sim("teacher-sim",
                     {"--port", "0", "--port-file", dir.file("port"), "--invalid-rate", "0.4"});
  std::string port = sim.wait_for_file(dir.file("port"));
  std::string out = dir.file("out");
  auto args = base_args(out, port);
  args.insert(args.begin(), "all");
  auto run = run_tool("ds-build", args);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.find("teacher answers failed their schema and were corrected") != std::string::npos);

  auto schemas = af::read_jsonl(out + "/d_02_final_schemas.jsonl");
  std::map<std::string, af::jsonschema::Schema> compiled;
  for (const auto& s : schemas)
    compiled.emplace(s["schema_id"], af::jsonschema::Schema::compile(s["schema"]));
  size_t corrected = 0;
  std::map<std::string, json> by_id;
  for (const json& r : af::read_jsonl(out + "/d_03_dataset.jsonl")) {
    by_id[r["schema_id"].get<std::string>() + "/" + std::to_string(r["index"].get<int>())] = r;
    if (!r.contains("rejected_attempts")) continue;
    ++corrected;
    const json& attempt = r["rejected_attempts"].at(0);
    CHECK_FALSE(
        compiled.at(r["schema_id"]).is_valid(json::parse(attempt["ast_canonical"].get<std::string>())));
    CHECK_FALSE(attempt["errors"].empty());
    CHECK(r["is_valid"] == true);  // teacher-sim answers a correction right
  }
  CHECK(corrected > 10);
  // Targets are schema-valid only; every training row's negative is a pair, on the training side only.
  auto corpus = af::read_jsonl(out + "/d_04_training_corpus.jsonl");
  std::set<std::string> train_ids;
  for (const json& t : corpus) {
    CHECK(compiled.at(t["schema_id"]).is_valid(json::parse(t["completion"].get<std::string>())));
    CHECK_FALSE(t.contains("rejected_attempts"));
    train_ids.insert(t["id"]);
  }
  auto negatives = af::read_jsonl(out + "/d_06_negative_pairs.jsonl");
  size_t expected = 0;
  for (const auto& id : train_ids) expected += by_id.at(id).contains("rejected_attempts");
  CHECK(negatives.size() == expected);
  for (const json& n : negatives) {
    CAPTURE(n["id"]);
    REQUIRE(train_ids.count(n["id"]) == 1);
    const json& row = by_id.at(n["id"]);
    CHECK(n["chosen"] == row["ast_canonical"]);
    CHECK(n["rejected"] == row["rejected_attempts"][0]["ast_canonical"]);
    CHECK(n["source"] == "dataset");
  }
  // include_invalid false: the negatives are dropped, and the file says so by being empty.
  auto corpus_args = base_args(out, port);
  corpus_args.insert(corpus_args.begin(), "corpus");
  corpus_args.push_back("--no-include-invalid");
  auto dropped = run_tool("ds-build", corpus_args);
  REQUIRE_MESSAGE(dropped.exit_code == 0, dropped.err);
  CHECK(slurp(out + "/d_06_negative_pairs.jsonl").empty());
  const bool same_targets = af::read_jsonl(out + "/d_04_training_corpus.jsonl") == corpus;
  CHECK(same_targets);
}
