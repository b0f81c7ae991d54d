// train-sft on a real tiny corpus with the scratch student: the loss falls, the metrics and checkpoints have
// their documented shapes, a resumed run (from a checkpoint, or after kill -9) ends bit-identical to an
// uninterrupted one, half-written checkpoints are skipped, Ctrl-C saves and exits 130, and LoRA adapters
// train on a folder.
#include "support/torch_doctest.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "model/model_folder.h"
#include "support/background_tool.h"
#include "support/json_lines.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string write_corpus(const TempDir& dir) {
  std::string text;
  const char* ops[] = {"above", "below", "equals"};
  for (int i = 0; i < 60; ++i) {
    std::string op = ops[i % 3];
    json row = {{"id", "r" + std::to_string(i)},
                {"prompt", "Request: orders " + op + " " + std::to_string(i)},
                {"completion", "{\"op\":\"" + op + "\",\"value\":" + std::to_string(i) + "}"}};
    text += row.dump() + "\n";
  }
  return dir.write("corpus.jsonl", text);
}

std::vector<std::string> sft_args(const std::string& corpus, const std::string& out, int steps = 16) {
  return {"--config",
          "configs/defaults.dev.yaml",
          "--training-corpus",
          corpus,
          "--output-dir",
          out,
          "--base-model",
          "scratch",
          "--max-seq-length",
          "128",
          "--scratch-vocab-size",
          "300",
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
          "256",
          "--scratch-sliding-window",
          "64",
          "--batch-size",
          "4",
          "--learning-rate",
          "1e-2",
          "--warmup-steps",
          "2",
          "--max-steps",
          std::to_string(steps),
          "--save-steps",
          "4",
          "--eval-steps",
          "4",
          "--logging-steps",
          "2",
          "--val-split",
          "0.1",
          "--save-total-limit",
          "10",
          "--threads",
          "1",
          "--no-bf16",
          "--progress",
          "off"};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& extra) {
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The metrics lines without the fields that measure time.
std::vector<json> timeless(const std::string& path) {
  std::vector<json> out;
  for (json line : af::test::json_lines(af::test::slurp(path))) {
    for (const char* k :
         {"tokens_per_second", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"})
      line.erase(k);
    out.push_back(line);
  }
  return out;
}

bool wait_for(const std::string& path, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Two runs' metrics lines and final weights agree within float tolerance (summation order may differ).
void check_same_training(const std::string& a_dir, const std::string& b_dir) {
  auto a = timeless(a_dir + "/training_metrics.jsonl"), b = timeless(b_dir + "/training_metrics.jsonl");
  REQUIRE(a.size() == 6);  // loss at 2, 4, 6, 8 and eval_loss at 4, 8
  REQUIRE(b.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(b[i]["step"] == a[i]["step"]);
    CHECK(b[i]["epoch"] == a[i]["epoch"]);
    for (const char* key : {"loss", "grad_norm", "learning_rate", "eval_loss"})
      if (a[i].contains(key))
        CHECK(b[i][key].get<double>() == doctest::Approx(a[i][key].get<double>()).epsilon(1e-5));
  }
  auto wa = af::model::load_model(a_dir + "/checkpoint-final", at::TensorOptions().dtype(at::kFloat));
  auto wb = af::model::load_model(b_dir + "/checkpoint-final", at::TensorOptions().dtype(at::kFloat));
  auto na = wa->named_weights(), nb = wb->named_weights();
  REQUIRE(na.size() == nb.size());
  for (size_t i = 0; i < na.size(); ++i) {
    INFO(na[i].name);
    double scale = na[i].tensor->abs().max().item<double>();
    CHECK((*na[i].tensor - *nb[i].tensor).abs().max().item<double>() <= 1e-4 * scale);
  }
}

}  // namespace

TEST_CASE(
    "train-sft trains the scratch student: metrics, checkpoints and the final folder have their shapes") {
  TempDir dir;
  std::string corpus = write_corpus(dir), out = dir.file("run");
  auto r = run_tool("train-sft", sft_args(corpus, out));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("60 corpus rows: 54 train, 6 eval, 0 dropped") != std::string::npos);
  std::vector<json> metrics = af::test::json_lines(af::test::slurp(out + "/training_metrics.jsonl"));
  std::vector<json> train, eval;
  for (const auto& m : metrics) (m.contains("eval_loss") ? eval : train).push_back(m);
  REQUIRE(train.size() == 8);
  REQUIRE(eval.size() == 4);
  for (const auto& m : train) {
    CHECK(m.size() == 6);
    for (const char* k : {"step", "epoch", "loss", "grad_norm", "learning_rate", "tokens_per_second"})
      CHECK(m.contains(k));
  }
  for (const auto& m : eval) {
    CHECK(m.size() == 7);
    for (const char* k : {"step", "epoch", "eval_loss", "eval_batches", "eval_runtime",
                          "eval_samples_per_second", "eval_steps_per_second"})
      CHECK(m.contains(k));
    CHECK(m["eval_batches"] == 2);  // 6 eval rows in batches of 4
  }
  CHECK(train[0]["step"] == 2);
  CHECK(train[0]["learning_rate"] == doctest::Approx(1e-2));  // after the 2 warmup steps
  CHECK(train.back()["learning_rate"] == 0.0);                // linear decay to 0 at the last step
  CHECK(train.back()["loss"].get<double>() < 0.7 * train[0]["loss"].get<double>());
  CHECK(eval.back()["eval_loss"].get<double>() < eval[0]["eval_loss"].get<double>());
  for (int step : {4, 8, 12, 16})
    CHECK(fs::exists(out + "/checkpoint-" + std::to_string(step) + "/trainer_state.json"));
  json state = json::parse(af::test::slurp(out + "/checkpoint-16/trainer_state.json"));
  CHECK(state["global_step"] == 16);
  CHECK(state["log_history"].size() == 12);
  CHECK(state["best_metric"].is_number());
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.model", "generation_config.json"})
    CHECK(fs::exists(out + "/checkpoint-final/" + f));
  CHECK(fs::exists(out + "/run_config.json"));
  // The final folder is a model predict runs.
  std::string rows = dir.write("rows.jsonl", "{\"prompt\":\"Request: orders above 5\"}\n");
  auto p = run_tool("predict", {"--model", out + "/checkpoint-final", "--adapter", "null", "--input", rows,
                                "--max-new-tokens", "16"});
  CHECK_MESSAGE(p.exit_code == 0, p.err);
}

TEST_CASE("a run resumed from a checkpoint, or after kill -9, ends bit-identical with the same metrics") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto full = run_tool("train-sft", sft_args(corpus, dir.file("a")));
  REQUIRE_MESSAGE(full.exit_code == 0, full.err);
  const std::string final_a = af::test::slurp(dir.file("a/checkpoint-final/model.safetensors"));

  // From checkpoint-8 of the first run, copied into a fresh output dir with its scratch base.
  fs::create_directories(dir.file("b"));
  fs::copy(dir.file("a/scratch-base"), dir.file("b/scratch-base"), fs::copy_options::recursive);
  fs::copy(dir.file("a/checkpoint-8"), dir.file("b/checkpoint-8"), fs::copy_options::recursive);
  fs::copy(dir.file("a/training_metrics.jsonl"), dir.file("b/training_metrics.jsonl"));
  // A half-written later checkpoint (no trainer_state.json) must be skipped.
  fs::create_directories(dir.file("b/checkpoint-12"));
  dir.write("b/checkpoint-12/model.safetensors", "partial");
  auto resumed = run_tool("train-sft", with(sft_args(corpus, dir.file("b")), {"--resume"}));
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  CHECK(resumed.err.find(dir.file("b/checkpoint-12") +
                         " is not a whole checkpoint (trainer_state.json is missing); skipping it") !=
        std::string::npos);
  CHECK(resumed.err.find("resuming from " + dir.file("b/checkpoint-8") + " (step 8 of 16)") !=
        std::string::npos);
  CHECK(af::test::slurp(dir.file("b/checkpoint-final/model.safetensors")) == final_a);
  CHECK(timeless(dir.file("b/training_metrics.jsonl")) == timeless(dir.file("a/training_metrics.jsonl")));

  // Killed with SIGKILL once a checkpoint exists, then run again with --resume.
  std::string c = dir.file("c");
  {
    af::test::BackgroundTool run("train-sft", sft_args(corpus, c));
    REQUIRE(wait_for(c + "/checkpoint-4/trainer_state.json", 120));
    run.terminate(SIGKILL);
  }
  auto again = run_tool("train-sft", with(sft_args(corpus, c), {"--resume"}));
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(af::test::slurp(c + "/checkpoint-final/model.safetensors") == final_a);
  CHECK(timeless(c + "/training_metrics.jsonl") == timeless(dir.file("a/training_metrics.jsonl")));
}

// issue 22: damaged checkpoints gave raw internal errors (a JSON key missing, std::stoll out of range).
TEST_CASE("a damaged newest checkpoint is named with what is wrong, and --resume falls back to a whole one") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto full = run_tool("train-sft", sft_args(corpus, dir.file("a")));
  REQUIRE_MESSAGE(full.exit_code == 0, full.err);
  const std::string final_a = af::test::slurp(dir.file("a/checkpoint-final/model.safetensors"));
  auto truncate = [](const std::string& path) { fs::resize_file(path, fs::file_size(path) / 2); };
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> damages = {
      {"trainer_state.json has no valid \"global_step\"",
       [&](const std::string& c) {
         dir.write(fs::relative(c + "/trainer_state.json", dir.path()).string(),
                   "{\"data\": {\"epoch\": 0, \"batch\": 3}}");
       }},
      {"rng_state.json has no valid \"cpu\" state (hex bytes)",
       [&](const std::string& c) {
         dir.write(fs::relative(c + "/rng_state.json", dir.path()).string(), "{\"cpu\": \"zz\"}");
       }},
      {"model.safetensors", [&](const std::string& c) { truncate(c + "/model.safetensors"); }},
      {"optimizer.safetensors", [&](const std::string& c) { truncate(c + "/optimizer.safetensors"); }},
  };
  int n = 0;
  for (const auto& [problem, damage] : damages) {
    CAPTURE(problem);
    const std::string out = dir.file("d" + std::to_string(n++));
    fs::create_directories(out);
    fs::copy(dir.file("a/scratch-base"), out + "/scratch-base", fs::copy_options::recursive);
    fs::copy(dir.file("a/checkpoint-8"), out + "/checkpoint-8", fs::copy_options::recursive);
    fs::copy(dir.file("a/checkpoint-8"), out + "/checkpoint-12", fs::copy_options::recursive);
    fs::copy(dir.file("a/training_metrics.jsonl"), out + "/training_metrics.jsonl");
    fs::create_directories(out + "/checkpoint-123456789012345678901");  // no step fits int64
    damage(out + "/checkpoint-12");
    // Named explicitly, the damaged checkpoint is a usage error that says what is wrong.
    auto named = run_tool("train-sft",
                          with(sft_args(corpus, out), {"--resume-from-checkpoint", out + "/checkpoint-12"}));
    CHECK(named.exit_code == 2);
    CHECK(named.err.find(out + "/checkpoint-12 is not a whole checkpoint: ") != std::string::npos);
    CHECK(named.err.find(problem) != std::string::npos);
    // --resume skips it, with a warning naming it and the problem, and ends as the uninterrupted run did.
    auto resumed = run_tool("train-sft", with(sft_args(corpus, out), {"--resume"}));
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(resumed.err.find(out + "/checkpoint-12 is not a whole checkpoint (") != std::string::npos);
    CHECK(resumed.err.find(problem) != std::string::npos);
    CHECK(resumed.err.find("checkpoint-123456789012345678901 is not a checkpoint-<step> folder") !=
          std::string::npos);
    CHECK(resumed.err.find("resuming from " + out + "/checkpoint-8 (step 8 of 16)") != std::string::npos);
    CHECK(af::test::slurp(out + "/checkpoint-final/model.safetensors") == final_a);
  }
}

// issue 22: a resume with another learning rate was accepted silently.
TEST_CASE("a resume with settings that change the result names each one, and one with the same names none") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  const std::string out = dir.file("out");
  auto first = run_tool("train-sft", sft_args(corpus, out, 4));
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  // More steps at another rate, and more logging (which changes nothing the run computes).
  auto other = run_tool("train-sft", with(sft_args(corpus, out, 8),
                                          {"--resume", "--learning-rate", "2e-2", "--logging-steps", "1"}));
  REQUIRE_MESSAGE(other.exit_code == 0, other.err);
  const std::string saved = out + "/run_config.json";
  CHECK(other.err.find(
            "resuming with other settings: training.learning_rate is 0.02 now, 0.01 in the run being "
            "resumed (" +
            saved + ")") != std::string::npos);
  CHECK(other.err.find("training.max_steps is 8 now, 4 in the run being resumed") != std::string::npos);
  CHECK(other.err.find("logging_steps") == std::string::npos);
  // The same settings again: nothing to say.
  auto same = run_tool("train-sft", with(sft_args(corpus, out, 8),
                                         {"--resume", "--learning-rate", "2e-2", "--logging-steps", "1"}));
  REQUIRE_MESSAGE(same.exit_code == 0, same.err);
  CHECK(same.err.find("resuming with other settings") == std::string::npos);
}

TEST_CASE("Ctrl-C finishes the step, saves a checkpoint and exits 130") {
  TempDir dir;
  std::string corpus = write_corpus(dir), out = dir.file("run");
  af::test::BackgroundTool run("train-sft", sft_args(corpus, out, 100000));
  REQUIRE(wait_for(out + "/checkpoint-4/trainer_state.json", 120));
  CHECK(run.terminate(SIGINT) == 130);
  CHECK(run.err().find("interrupted at step") != std::string::npos);
  int64_t newest = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    std::string name = e.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && fs::exists(e.path() / "trainer_state.json"))
      newest = std::max<int64_t>(newest, std::stoll(name.substr(11)));
  }
  CHECK(newest >= 4);
}

TEST_CASE("LoRA trains an adapter on a model folder, predict applies it") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto base = run_tool("train-sft", sft_args(corpus, dir.file("base"), 4));
  REQUIRE_MESSAGE(base.exit_code == 0, base.err);
  std::string folder = dir.file("base/checkpoint-final");
  auto r = run_tool("train-sft", with(sft_args(corpus, dir.file("lora"), 8),
                                      {"--base-model", folder, "--lora-enabled", "--lora-r", "4",
                                       "--lora-alpha", "8", "--lora-dropout", "0"}));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "tokenizer.model"})
    CHECK(fs::exists(dir.file(std::string("lora/checkpoint-final/") + f)));
  json config = json::parse(af::test::slurp(dir.file("lora/checkpoint-final/adapter_config.json")));
  CHECK(config["r"] == 4);
  CHECK(config["base_model_name_or_path"] == folder);
  CHECK(fs::exists(dir.file("lora/checkpoint-8/adapter_model.safetensors")));
  std::string rows = dir.write("rows.jsonl", "{\"prompt\":\"Request: orders above 5\"}\n");
  auto p = run_tool("predict", {"--model", folder, "--adapter", dir.file("lora/checkpoint-final"), "--input",
                                rows, "--max-new-tokens", "8"});
  CHECK_MESSAGE(p.exit_code == 0, p.err);
}

TEST_CASE(
    "--dry-run --show-examples prints what the model is trained on, and a missing corpus is a usage error") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto r =
      run_tool("train-sft", with(sft_args(corpus, dir.file("run")), {"--dry-run", "--show-examples", "2"}));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("=== example 1 (") != std::string::npos);
  CHECK(r.out.find("=== example 2 (") != std::string::npos);
  CHECK(r.out.find("--- trained ---") != std::string::npos);
  CHECK(r.out.find("\"<end_of_turn>\"") != std::string::npos);
  auto bad = run_tool("train-sft", sft_args(dir.file("nope.jsonl"), dir.file("run2")));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("training corpus not found: " + dir.file("nope.jsonl")) != std::string::npos);
}

TEST_CASE("a non-finite step is skipped and counted, too many in a row stop the run with a checkpoint") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto once =
      run_tool("train-sft", sft_args(corpus, dir.file("once"), 8), {{"ASTFORGE_FAULT_NONFINITE_STEPS", "3"}});
  REQUIRE_MESSAGE(once.exit_code == 0, once.err);
  CHECK(once.err.find("step 3: non-finite loss; step skipped (1 in a row)") != std::string::npos);
  CHECK(once.err.find("1 steps were skipped for non-finite values") != std::string::npos);
  auto stop =
      run_tool("train-sft", with(sft_args(corpus, dir.file("stop"), 8), {"--nonfinite-patience", "3"}),
               {{"ASTFORGE_FAULT_NONFINITE_STEPS", "3,4,5"}});
  CHECK(stop.exit_code == 1);
  CHECK(stop.err.find("stopped at step 5: 3 steps in a row had a non-finite loss or gradient") !=
        std::string::npos);
  CHECK(fs::exists(dir.file("stop/checkpoint-5/trainer_state.json")));
  CHECK(!fs::exists(dir.file("stop/checkpoint-final")));
}

TEST_CASE("an existing scratch student of other sizes is refused, not silently reused") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto first = run_tool("train-sft", sft_args(corpus, dir.file("run"), 2));
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  auto other =
      run_tool("train-sft", with(sft_args(corpus, dir.file("run"), 2), {"--scratch-hidden-size", "48"}));
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("holds a scratch student of other sizes") != std::string::npos);
  CHECK(other.err.find("training.scratch.hidden_size is 48, the folder's is 32") != std::string::npos);
  // The vocabulary too: its tokenizer was trained for 300 tokens (it was once reused silently).
  auto vocab =
      run_tool("train-sft", with(sft_args(corpus, dir.file("run"), 2), {"--scratch-vocab-size", "320"}));
  CHECK(vocab.exit_code == 2);
  CHECK(vocab.err.find("training.scratch.vocab_size is 320, the folder's is 300") != std::string::npos);
  // Elsewhere (training.scratch.dir) a student of the new sizes is built.
  auto elsewhere =
      run_tool("train-sft", with(sft_args(corpus, dir.file("run"), 2),
                                 {"--scratch-vocab-size", "320", "--scratch-dir", dir.file("other")}));
  CHECK_MESSAGE(elsewhere.exit_code == 0, elsewhere.err);
  CHECK(fs::exists(dir.file("other/tokenizer.model")));
}

TEST_CASE("LoRA's bias setting on a model without biases is refused, not silently ignored") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto base = run_tool("train-sft", sft_args(corpus, dir.file("base"), 1));
  REQUIRE_MESSAGE(base.exit_code == 0, base.err);
  auto lora = run_tool("train-sft", with(sft_args(corpus, dir.file("lora"), 1),
                                         {"--base-model", dir.file("base/checkpoint-final"), "--lora-enabled",
                                          "--lora-bias", "all"}));
  CHECK(lora.exit_code == 2);
  CHECK(lora.err.find("training.lora.bias is all, but " + dir.file("base/checkpoint-final") +
                      " has no bias terms (attention_bias is false in its config.json)") !=
        std::string::npos);
}

TEST_CASE("two data-parallel ranks train as one rank with twice the gradient accumulation") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto one = run_tool("train-sft", with(sft_args(corpus, dir.file("one"), 8), {"--grad-accum", "2"}));
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  auto two = run_tool(std::string(ASTFORGE_SOURCE_DIR) + "/pipelines/launchRanks.sh",
                      with({"--nproc", "2", std::string(ASTFORGE_BIN_DIR) + "/train-sft"},
                           with(sft_args(corpus, dir.file("two"), 8), {"--grad-accum", "1"})));
  REQUIRE_MESSAGE(two.exit_code == 0, two.err);
  CHECK(two.err.find("starting 2 rank(s) of 2") != std::string::npos);
  CHECK(two.err.find("8 steps of 4 x 1 x 2 ranks examples") != std::string::npos);
  // Rank 0 alone logs progress and writes checkpoints.
  CHECK(two.err.find("train-sft[rank 0]: saved " + dir.file("two/checkpoint-4")) != std::string::npos);
  CHECK(two.err.find("train-sft[rank 1]: saved") == std::string::npos);

  check_same_training(dir.file("one"), dir.file("two"));
}

TEST_CASE("gradient checkpointing trains the same as keeping every activation") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto plain = run_tool("train-sft", sft_args(corpus, dir.file("plain"), 8));
  REQUIRE_MESSAGE(plain.exit_code == 0, plain.err);
  auto recomputed =
      run_tool("train-sft", with(sft_args(corpus, dir.file("gc"), 8), {"--gradient-checkpointing"}));
  REQUIRE_MESSAGE(recomputed.exit_code == 0, recomputed.err);
  check_same_training(dir.file("plain"), dir.file("gc"));
  // The same numbers by design, so the run says what it did: 8 steps x 1 micro-batch x 2 layers recomputed.
  CHECK(recomputed.err.find("gradient checkpointing recomputed 16 layer forwards in backward") !=
        std::string::npos);
  CHECK(plain.err.find("gradient checkpointing") == std::string::npos);
}

TEST_CASE("inconsistent rank variables are refused with the variable's name") {
  TempDir dir;
  std::string corpus = write_corpus(dir);
  auto r = run_tool("train-sft", sft_args(corpus, dir.file("x"), 2), {{"WORLD_SIZE", "2"}, {"RANK", "2"}});
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("RANK=2 is not below WORLD_SIZE=2") != std::string::npos, r.err);
  r = run_tool("train-sft", sft_args(corpus, dir.file("x"), 2), {{"WORLD_SIZE", "two"}});
  CHECK(r.err.find("WORLD_SIZE=two is not an integer") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("x/checkpoint-final")));
}
