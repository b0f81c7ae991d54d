// The propagation checker itself (tests/support/propagation_check.h), on a fake consumer built the way real
// ones are: a settings struct read from the real config by a builder. A consumer that hard-codes a value the
// builder read must be reported dead, by key and tool; a scenario whose identical runs differ must be
// reported as proving nothing; a probe that validation refuses must not count as behaviour.
#include <doctest/doctest.h>

#include <random>
#include <regex>

#include "config/read_trace.h"
#include "config/resolve.h"
#include "config/table.h"
#include "core/files.h"
#include "support/propagation_check.h"
#include "support/temp_dir.h"

using namespace af::test;
using json = nlohmann::json;

namespace {

// A fake optimizer's settings, as a builder reads them.
struct FakeSettings {
  double learning_rate = 0, weight_decay = 0, beta1 = 0;
};

enum class Mutation { None, IgnoreWeightDecay, Noisy };

// A fake tool: resolves the settings like a real one (validation first, then traced reads), builds its
// struct, and "trains" one weight for three steps. `mutation` breaks it the way a real consumer can break.
Scenario fake_tool(Mutation mutation) {
  return [mutation](const RunSpec& spec) {
    TempDir dir;
    json doc = json::object();
    for (const auto& [key, value] : spec.settings.items()) put_key(doc, key, value);
    af::config::ResolveInput in;
    in.config_files = {dir.write("c.json", doc.dump())};
    in.getenv = [](const std::string&) { return std::optional<std::string>(); };
    af::config::Findings findings;
    af::config::Resolved cfg = af::config::resolve(in, findings);
    RunResult out;
    if (findings.has_errors()) {
      out.observed["exit"] = "2";
      out.observed["stderr"] = "train-sft: error: " + findings.all().front().to_text() +
                               "\ntrain-sft: error: 1 configuration error(s); nothing was run\n";
      return out;
    }
    cfg.trace_reads_as(af::config::Tool::TrainSft);
    FakeSettings s;
    s.learning_rate = cfg.get_double("training.learning_rate");
    s.weight_decay = cfg.get_double("training.weight_decay");
    s.beta1 = cfg.get_double("training.adam_beta1");
    // The consumer: the mutation hard-codes weight decay, as the dead keys this test exists for did.
    double decay = mutation == Mutation::IgnoreWeightDecay ? 0.01 : s.weight_decay;
    double w = 1.0, m = 0.0;
    for (int step = 0; step < 3; ++step) {
      m = s.beta1 * m + (1 - s.beta1) * 0.5 * w;
      w -= s.learning_rate * (m + decay * w);
    }
    if (mutation == Mutation::Noisy) w += std::random_device{}() * 1e-9;
    out.observed["exit"] = "0";
    out.observed["file weights"] = std::to_string(w);
    for (const auto& [key, kind] : af::config::reads_so_far())
      out.reads[key] = kind == af::config::ReadKind::Direct ? "direct" : "reference";
    return out;
  };
}

}  // namespace

TEST_CASE("the propagation checker proves keys a consumer uses and names one it ignores") {
  PropagationChecker honest("train-sft", fake_tool(Mutation::None));
  for (const char* key : {"training.learning_rate", "training.weight_decay", "training.adam_beta1"}) {
    Verdict v = honest.check({key, 0.3});
    CHECK_MESSAGE(v.alive, v.message);
    CHECK(v.changed == std::vector<std::string>{"file weights"});
  }
  CHECK(honest.reads().at("training.weight_decay") == "direct");

  PropagationChecker broken("train-sft", fake_tool(Mutation::IgnoreWeightDecay));
  CHECK(broken.check({"training.learning_rate", 0.3}).alive);
  Verdict dead = broken.check({"training.weight_decay", 0.3});
  CHECK_FALSE(dead.alive);
  CHECK(dead.message.rfind("training.weight_decay = 0.3 in train-sft changed nothing the tool did", 0) == 0);
  CHECK(dead.message.find("Compared exit, 1 files") != std::string::npos);
  // The read trace alone would not have caught it: the builder read the key.
  CHECK(broken.reads().count("training.weight_decay") == 1);
}

TEST_CASE("the propagation checker refuses to prove anything with a scenario that is not reproducible") {
  PropagationChecker noisy("train-sft", fake_tool(Mutation::Noisy));
  Verdict v = noisy.check({"training.weight_decay", 0.3});
  CHECK_FALSE(v.alive);
  CHECK(v.message.find("two identical baseline runs differ in file weights") != std::string::npos);
}

TEST_CASE("a probe that validation refuses is not behaviour") {
  PropagationChecker honest("train-sft", fake_tool(Mutation::None));
  Verdict v = honest.check({"training.learning_rate", 5.0});  // out of range: validation refuses it
  CHECK_FALSE(v.alive);
  CHECK(v.message.find("refused by validation, not by the code that uses the key") != std::string::npos);
  Probe with_bad_baseline{"training.learning_rate", 0.3};
  with_bad_baseline.with = {{"training.weight_decay", -1.0}};
  CHECK(honest.check(with_bad_baseline).message.find("the baseline is not a valid config") !=
        std::string::npos);
}

TEST_CASE("compared parts: stderr only when watched, timing parts only when named") {
  Observation o = {{"exit", "0"},
                   {"stderr", "tool: step 12 took 0.5 s\ntool: retry 1 in 0.02s\n"},
                   {"~concurrency", "overlapped"}};
  CHECK(compared_parts(o, "") == Observation{{"exit", "0"}});
  CHECK(compared_parts(o, "~concurrency") == Observation{{"exit", "0"}, {"~concurrency", "overlapped"}});
  CHECK(compared_parts(o, "stderr").at("stderr") == "tool: step # took # s\ntool: retry # in #s\n");
  CHECK(compared_parts(o, "stderr~retry ").at("stderr") == "tool: retry 1 in 0.02s\n");
  // A rate printed with fewer decimals past 100/s reads like one below it: how fast a run went is no effect.
  Observation fast = {{"stderr", "predict: 2/2 (100.0%)  123/s  elapsed 0:00\n"}};
  Observation slow = {{"stderr", "predict: 2/2 (100.0%)  49.7/s  elapsed 0:00\n"}};
  CHECK(compared_parts(fast, "stderr") == compared_parts(slow, "stderr"));
  CHECK(compared_parts(fast, "stderr").at("stderr") == "predict: #/# (#%)  #/s  elapsed #:#\n");
}

TEST_CASE("observed files leave out what only measures time or echoes the settings") {
  TempDir dir;
  dir.write("out/metrics.jsonl", "{\"step\":1,\"loss\":0.5,\"tokens_per_second\":812.3}\n");
  dir.write("out/run_config.json", "{\"config\":{\"training\":{\"learning_rate\":0.1}}}");
  dir.write("out/d_03.jsonl", "{\"query\":\"q\",\"teacher\":{\"model\":\"m\",\"protocol\":\"ollama\"}}\n");
  dir.write("out/evaluation_summary.json", "{\"samples\":3,\"generation\":{\"temperature\":0.7}}");
  dir.write("out/c.checkpoint.json", "{\"rows\":4,\"fingerprint\":\"abc\",\"settings\":{\"seed\":1}}");
  Observation o;
  observe_files(dir.path(), o);
  CHECK(o.at("file out/metrics.jsonl") == "{\"loss\":0.5,\"step\":1}\n");
  CHECK(o.at("file out/run_config.json") == "(a record of the settings: not compared)");
  CHECK(o.at("file out/d_03.jsonl") == "{\"query\":\"q\"}\n");
  CHECK(o.at("file out/evaluation_summary.json") == "{\"samples\":3}");
  CHECK(o.at("file out/c.checkpoint.json") == "{\"rows\":4}");
}

// README's Configuration section gives the counts of what the propagation tests prove: they must be the
// field table's, so a key added, removed or refused changes the test that checks the sentence, not only the
// sentence.
TEST_CASE("README's propagation counts are the field table's") {
  using af::config::Tool;
  size_t pairs = 0, refused = 0;
  std::string per_tool;
  for (Tool tool : af::config::all_tools()) {
    size_t proven = 0;
    for (const af::config::Field* f : af::config::fields_for(tool)) {
      ++pairs;
      if (refused_when_set(*f)) {
        ++refused;
      } else {
        ++proven;
      }
    }
    per_tool += (per_tool.empty() ? "" : ", ") + std::string(af::config::tool_name(tool)) + " " +
                std::to_string(proven);
  }
  const std::string counts = std::to_string(af::config::fields().size()) + " keys, " + std::to_string(pairs) +
                             " key-consumer pairs; " + std::to_string(pairs - refused) +
                             " pairs proven by behaviour and by read trace (" + per_tool + ")";
  const std::string refusals = std::to_string(refused) + " pairs refused when set";
  // The README wraps lines: compare with every run of spaces and newlines as one space.
  std::string readme = af::read_file(std::string(ASTFORGE_SOURCE_DIR) + "/README.md");
  readme = std::regex_replace(readme, std::regex("[ \n]+"), " ");
  CHECK_MESSAGE(readme.find(counts) != std::string::npos, "README.md should say: ", counts);
  CHECK_MESSAGE(readme.find(refusals) != std::string::npos, "README.md should say: ", refusals);
}
