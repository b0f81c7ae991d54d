// The whole pipeline as a new user runs it: ./runAll.sh --with-training --with-alignment on a config even
// smaller than the dev one, with the teacher failing, answering garbage and dropping connections; every
// artifact exists and parses. And a run killed in the middle of SFT completes when ./runAll.sh is run again,
// without redoing the finished stages.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/jsonl_reader.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::slurp;
using af::test::spawn_tool;
using af::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = ASTFORGE_SOURCE_DIR;
const std::map<std::string, std::string> kEnv = {
    {"ASTFORGE_BUILD_DIR", fs::path(ASTFORGE_BIN_DIR).parent_path().string()}};

// A config for minutes, not half an hour: two schemas, a 2-layer student, a few steps of each stage.
std::string tiny_config(const TempDir& dir, int sft_steps, const std::string& faults) {
  return dir.write(
      "e2e.yaml", "extends: " + kRoot + "/configs/defaults.dev.yaml\n" +
                      "run:\n  name: e2e\n  output_root: " + dir.file("out") + "\n" +
                      "teacher:\n  retries: 12\n  retry_wait: 0.01\n  timeout: 10\n" + "teacher_sim:\n" +
                      faults +
                      "dataset_generation:\n  max_domains: 2\n  samples_per_schema: 12\n"
                      "  examples_per_schema: 4\n  eval_row_fraction: 0.25\n"
                      "  eval_schema_fraction: 0.0\n"
                      "training:\n  max_steps: " +
                      std::to_string(sft_steps) +
                      "\n  save_steps: 2\n  eval_steps: 2\n  warmup_steps: 1\n  batch_size: 4\n"
                      "  scratch:\n    vocab_size: 1024\n    hidden_size: 32\n    num_layers: 2\n"
                      "    num_heads: 4\n    num_kv_heads: 4\n    head_dim: 8\n    intermediate_size: 64\n"
                      "evaluation:\n  max_samples: 6\n  max_new_tokens: 24\n  batch_size: 6\n"
                      "alignment:\n  max_steps: 2\n  save_steps: 1\n  warmup_steps: 0\n  logging_steps: 1\n");
}

// Waits (up to 10 minutes) for `file` of the run `pid` (its stderr in `err`), which must still be running.
void wait_for_checkpoint(pid_t pid, const std::string& file, const std::string& err) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    REQUIRE_MESSAGE(waitpid(pid, &status, WNOHANG) == 0, slurp(err));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(fs::exists(file));
}

void check_jsonl(const std::string& path, size_t at_least = 1) {
  INFO(path);
  REQUIRE(fs::exists(path));
  CHECK(af::read_jsonl(path).size() >= at_least);
}

json read_json(const std::string& path) {
  INFO(path);
  REQUIRE(fs::exists(path));
  return json::parse(slurp(path));
}

}  // namespace

TEST_CASE("runAll.sh: the whole chain with a faulty teacher leaves every artifact, each parsing") {
  TempDir dir;
  std::string config = tiny_config(dir, 4, "  fail_rate: 0.15\n  garbage_rate: 0.1\n  drop_rate: 0.05\n");
  auto run =
      run_tool(kRoot + "/runAll.sh", {"--config", config, "--with-training", "--with-alignment"}, kEnv);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  std::string out = dir.file("out");
  for (const char* stage :
       {"d_01_domain_specs", "d_02_final_schemas", "d_03_dataset", "d_04_training_corpus", "d_05_eval_set"})
    check_jsonl(out + "/" + stage + ".jsonl");
  CHECK(read_json(out + "/run_config.json")["config"].contains("training"));
  std::string sft = out + "/student_runs/e2e";
  CHECK(read_json(sft + "/scratch-base/config.json")["model_type"] == "gemma3_text");
  CHECK(read_json(sft + "/checkpoint-final/config.json")["model_type"] == "gemma3_text");
  CHECK(fs::exists(sft + "/checkpoint-final/model.safetensors"));
  bool tokenizer = fs::exists(sft + "/checkpoint-final/tokenizer.model") ||
                   fs::exists(sft + "/checkpoint-final/tokenizer.json");
  CHECK(tokenizer);
  check_jsonl(sft + "/training_metrics.jsonl", 2);
  CHECK(read_json(sft + "/run_config.json").is_object());

  std::string eval = out + "/student_runs/eval";
  const size_t samples = std::min<size_t>(6, af::read_jsonl(out + "/d_05_eval_set.jsonl").size());
  check_jsonl(eval + "/evaluation_results.jsonl", samples);
  json summary = read_json(eval + "/evaluation_summary.json");
  CHECK(summary["samples"] == samples);
  CHECK(summary["teacher_accept_rate"].is_number());  // the teacher judged, through its faults

  check_jsonl(out + "/student_runs/alignment/dpo_pairs.jsonl");
  std::string dpo = sft + "-dpo";
  check_jsonl(dpo + "/dpo_metrics.jsonl");
  CHECK(fs::exists(dpo + "/checkpoint-final/model.safetensors"));
  CHECK(read_json(dpo + "/eval/evaluation_summary.json")["samples"] == samples);

  std::string report = out + "/reports/e2e";
  std::string md = slurp(report + "/report.md");
  CHECK(md.find("# astforge report — e2e") != std::string::npos);
  CHECK(md.find("missing (run") == std::string::npos);  // every input was there
  CHECK(slurp(report + "/alignment_report.md").find("**Teacher accept: DPO") != std::string::npos);
  for (const char* plot : {"training_loss", "eval_rates", "rates_by_language", "dpo_rewards"})
    CHECK(slurp(report + "/" + plot + ".png").substr(1, 3) == "PNG");
  CHECK(run.err.find("report: " + report + "/report.md") != std::string::npos);
}

TEST_CASE("runAll.sh: killed in the middle of SFT, a second run finishes without redoing finished stages") {
  TempDir dir;
  std::string config = tiny_config(dir, 40, "  fail_rate: 0.0\n");
  std::string out = dir.file("out"), sft = out + "/student_runs/e2e";
  // In its own session (setsid), so the kill reaches runAll.sh, train-sft and teacher-sim at once.
  pid_t pid = spawn_tool("/usr/bin/setsid", {kRoot + "/runAll.sh", "--config", config, "--with-training"},
                         dir.file("first.out"), dir.file("first.err"), kEnv);
  wait_for_checkpoint(pid, sft + "/checkpoint-2/trainer_state.json", dir.file("first.err"));
  ::kill(-pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE_FALSE(fs::exists(sft + "/checkpoint-final"));  // killed mid-SFT, not after it

  auto mtime = [&](const char* stage) { return fs::last_write_time(out + "/" + stage + ".jsonl"); };
  auto corpus_time = mtime("d_04_training_corpus"), dataset_time = mtime("d_03_dataset");
  auto again = run_tool(kRoot + "/runAll.sh", {"--config", config, "--with-training"}, kEnv);
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(again.err.find("resuming " + out + "/d_03_dataset.jsonl after ") != std::string::npos);
  CHECK(mtime("d_03_dataset") == dataset_time);  // the finished dataset is not rewritten
  CHECK(mtime("d_04_training_corpus") == corpus_time);
  CHECK(again.err.find("train-sft: resuming from " + sft + "/checkpoint-") != std::string::npos);
  CHECK(fs::exists(sft + "/checkpoint-final/model.safetensors"));
  // The metrics continue where the killed run stopped: every step once, up to the last.
  std::vector<int64_t> steps;
  for (const auto& row : af::read_jsonl(sft + "/training_metrics.jsonl"))
    if (row.contains("loss")) steps.push_back(row["step"]);
  REQUIRE_FALSE(steps.empty());
  CHECK(steps.back() == 40);
  CHECK(std::adjacent_find(steps.begin(), steps.end(), [](int64_t a, int64_t b) { return b <= a; }) ==
        steps.end());
}

namespace {

// The processes whose parent is `pid`, from /proc.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat;
    try {
      stat = slurp(entry.path().string() + "/stat");
    } catch (...) {
      continue;  // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid && state != "Z") out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

std::vector<pid_t> descendants_of(pid_t pid) {
  std::vector<pid_t> out, todo = {pid};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children_of(p)) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

}  // namespace

// issue 22: a runner killed with SIGKILL runs no trap; its ds-build, train-sft and teacher-sim went on as
// orphans, and a re-run wrote into the same folders beside them.
TEST_CASE(
    "runAll.sh killed alone with SIGKILL takes every process it started with it, and a re-run finishes") {
  TempDir dir;
  std::string config = tiny_config(dir, 40, "  fail_rate: 0.0\n");
  std::string out = dir.file("out"), sft = out + "/student_runs/e2e";
  pid_t pid = spawn_tool(kRoot + "/runAll.sh", {"--config", config, "--with-training"}, dir.file("first.out"),
                         dir.file("first.err"), kEnv);
  wait_for_checkpoint(pid, sft + "/checkpoint-2/trainer_state.json", dir.file("first.err"));
  const std::vector<pid_t> started = descendants_of(pid);
  REQUIRE(started.size() >= 2);  // runTraining.sh and its train-sft at least
  ::kill(pid, SIGKILL);          // the runner only: no trap of its runs
  int status = 0;
  waitpid(pid, &status, 0);
  auto alive = [&] {
    std::vector<pid_t> left;
    for (pid_t p : started)
      if (::kill(p, 0) == 0 && fs::exists("/proc/" + std::to_string(p)) &&
          slurp("/proc/" + std::to_string(p) + "/stat").find(") Z ") == std::string::npos)
        left.push_back(p);
    return left;
  };
  auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!alive().empty() && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_MESSAGE(alive().empty(), alive().size(), " of the ", started.size(),
                " processes runAll.sh started outlived it");
  // Nothing holds the folders now: a re-run resumes and finishes.
  auto again = run_tool(kRoot + "/runAll.sh", {"--config", config, "--with-training"}, kEnv);
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(fs::exists(sft + "/checkpoint-final/model.safetensors"));
  CHECK_FALSE(fs::exists(sft + "/" + std::string(".astforge.lock")));
}
