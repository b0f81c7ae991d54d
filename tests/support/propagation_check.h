// Proof that a config key reaches the code that uses it, by behaviour (seeds/001): a tool runs on the same
// tiny inputs with and without the key at a non-default value, and something it did (files written, requests
// sent, exit code, or the stderr lines a probe watches) must differ. The baseline runs twice first: when two
// identical runs differ, a difference would prove nothing, and the check says so instead of passing.
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/field.h"

namespace af::test {

/// What one run did, as named parts ("exit", "stdout", "file out/d_01_domain_specs.jsonl", "requests",
/// "stderr"): two runs that differ in a compared part did something different. Parts named "~..." depend on
/// timing (e.g. "~concurrency"): they are compared only by a probe that watches them.
using Observation = std::map<std::string, std::string>;

/// One run of a scenario.
struct RunSpec {
  nlohmann::json settings = nlohmann::json::object();  // dotted key -> value, over the scenario's base
  std::map<std::string, std::string> env;              // added to the tool's environment
  std::map<std::string, std::string> options;  // the scenario's own switches (a teacher that fails once)
  std::optional<nlohmann::json> prerun;        // settings of a run made first in the same folder
};

/// What a scenario returns for one run: what the tool did, and the keys it read (its read trace:
/// key -> "direct" | "reference").
struct RunResult {
  Observation observed;
  std::map<std::string, std::string> reads;
};

/// Runs the tool once, in a fresh folder, as `spec` says.
using Scenario = std::function<RunResult(const RunSpec&)>;

/// A non-default value for one key, and what makes its effect observable.
struct Probe {
  Probe() = default;
  Probe(std::string k, nlohmann::json v) : key(std::move(k)), value(std::move(v)) {}

  std::string key;
  nlohmann::json value;
  nlohmann::json with = nlohmann::json::object();  // other keys set in both runs (may hold `key`'s baseline)
  std::map<std::string, std::string> env;          // environment of both runs
  std::map<std::string, std::string> options;      // scenario switches of both runs
  std::optional<nlohmann::json> prerun;            // a run made first, in both cases (e.g. to resume from)
  // Parts compared: "" every part but stderr and "~..." parts; "stderr" also every stderr line, digits
  // masked; "stderr~RE" also the stderr lines matching the regular expression RE, verbatim; "~name" also that
  // part.
  std::string watch;
  std::string why;  // why the probe is shaped so, printed when it fails
};

/// The outcome of one probe.
struct Verdict {
  bool alive = false;
  std::string message;               // when not alive: names the key, the tool and what was compared
  std::vector<std::string> changed;  // the parts that differed
};

/// Runs probes against one tool's scenario, caching each distinct baseline.
class PropagationChecker {
 public:
  PropagationChecker(std::string tool, Scenario scenario);
  /// Runs the baseline (twice, once per distinct baseline) and the probe; alive when a compared part differs.
  Verdict check(const Probe& probe);
  /// Every key the tool read over every run so far: key -> "direct" | "reference" (direct wins).
  const std::map<std::string, std::string>& reads() const { return reads_; }
  /// Tool runs made so far.
  size_t runs() const { return runs_; }

 private:
  RunResult run(const RunSpec& spec);

  std::string tool_;
  Scenario scenario_;
  std::map<std::string, Observation> baselines_;  // by the baseline's spec
  std::map<std::string, std::string> reads_;
  size_t runs_ = 0;
};

/// The parts of `observed` a probe compares (see Probe::watch).
Observation compared_parts(const Observation& observed, const std::string& watch);

/// Adds one part per file under `dir` ("file <relative path>"): JSON and JSONL content with the fields that
/// measure time or echo the config dropped (see the .cpp), other files as they are (binary ones as a hash).
/// Files named in `skip` (relative paths) are left out. `dir` itself, in what files say, reads "<run>": each
/// run has its own folder.
void observe_files(const std::string& dir, Observation& out, const std::set<std::string>& skip = {});

/// `text` with every occurrence of `what` replaced by `with`.
std::string replace_all(std::string text, const std::string& what, const std::string& with);

/// Sets `path` ("training.lora.r") to `value` in a nested document.
void put_key(nlohmann::json& doc, const std::string& path, const nlohmann::json& value);

/// True when setting `f` to another value is refused because its feature is not built (load_in_4bit, the Hub
/// keys): such a key is proven by its refusal (propagation_test.cpp), not by behaviour.
bool refused_when_set(const af::config::Field& f);

/// The read trace file's lines ("tool<TAB>key<TAB>kind") as key -> kind (direct wins).
std::map<std::string, std::string> parse_read_trace(const std::string& text);

}  // namespace af::test
