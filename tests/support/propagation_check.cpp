#include "support/propagation_check.h"

#include <filesystem>
#include <regex>
#include <sstream>

#include "core/hash.h"
#include "support/temp_dir.h"

namespace af::test {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Fields that measure time: they differ between identical runs.
const std::set<std::string> kTimingFields = {
    "tokens_per_second",     "eval_runtime",       "eval_samples_per_second",
    "eval_steps_per_second", "generation_seconds", "teacher_seconds",
    "batch_seconds",         "mask_ms_median",     "seconds",
    "ms_per_token",          "slowdown_per_token", "throughput"};

// Fields that only repeat a config value (or a hash of the settings) next to what the tool did with it:
// comparing them would make a key look alive even when no code used it.
const std::set<std::string> kEchoFields = {"fingerprint", "metric_for_best_model"};
// Per file, its record of the settings it was made with: evaluation_summary.json's of what was evaluated how,
// and a checkpoint's optimizer.json's of the hyperparameters (only its step count is ever read back). The
// mutation test of issue 21 found the second: with AdamW's weight decay hard-coded, that record alone kept
// training.weight_decay looking alive.
const std::map<std::string, std::set<std::string>> kEchoFieldsOfFile = {
    {"evaluation_summary.json",
     {"generation", "base_model", "adapter", "teacher_model", "dataset", "eval_results"}},
    {"optimizer.json", {"beta1", "beta2", "epsilon", "weight_decay"}}};
// Files that are only a record of the settings (run_config.json; adapter_config.json, whose every field the
// adapter's tensors already show by their shapes and values).
const std::set<std::string> kEchoFiles = {"run_config.json", "adapter_config.json"};

void strip(json& v, const std::set<std::string>& extra) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      const std::string& k = it.key();
      // {"teacher": {"model", "protocol"}} in d_01/d_03 rows records which teacher answered.
      bool teacher_meta =
          k == "teacher" && it->is_object() && it->contains("model") && it->contains("protocol");
      if (kTimingFields.count(k) || kEchoFields.count(k) || extra.count(k) || teacher_meta) {
        it = v.erase(it);
      } else {
        strip(*it, extra);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v) strip(item, extra);
  }
}

std::string normalised_json(const std::string& text, bool lines_of_json, const std::set<std::string>& extra) {
  if (!lines_of_json) {
    json whole = json::parse(text, nullptr, false);
    if (whole.is_discarded()) return text;
    strip(whole, extra);
    return whole.dump();
  }
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    json v = json::parse(line, nullptr, false);
    if (v.is_discarded()) return text;  // not JSON after all: compared as it is
    strip(v, extra);
    out += v.dump() + "\n";
  }
  return out;
}

// Every number becomes one '#', its fraction included: "49.7/s" and "123/s" (a rate printed with fewer
// decimals once it passes 100, which a loaded machine's run may not reach) read alike.
std::string mask_digits(const std::string& line) {
  auto digit = [&](size_t i) { return i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])); };
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (digit(i) || (line[i] == '.' && !out.empty() && out.back() == '#' && digit(i + 1))) {
      if (out.empty() || out.back() != '#') out += '#';
    } else {
      out += line[i];
    }
  }
  return out;
}

std::string spec_key(const RunSpec& s) {
  json k = {{"settings", s.settings},
            {"env", s.env},
            {"options", s.options},
            {"prerun", s.prerun ? *s.prerun : json(nullptr)}};
  return k.dump();
}

std::vector<std::string> differing(const Observation& a, const Observation& b) {
  std::vector<std::string> out;
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != value) out.push_back(name);
  }
  for (const auto& [name, value] : b)
    if (!a.count(name)) out.push_back(name);
  return out;
}

std::string config_error(const Observation& o) {
  auto it = o.find("stderr");
  if (it == o.end()) return "";
  if (it->second.find("configuration error(s); nothing was run") == std::string::npos) return "";
  std::istringstream lines(it->second);
  std::string line;
  while (std::getline(lines, line))
    if (line.find("error:") != std::string::npos) return line;
  return "a configuration error";
}

// Where two texts first differ, for messages: the line of each.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream la(a), lb(b);
  std::string x, y;
  while (true) {
    bool ga = static_cast<bool>(std::getline(la, x)), gb = static_cast<bool>(std::getline(lb, y));
    if (!ga && !gb) return "";
    if (!ga) x = "(end)";
    if (!gb) y = "(end)";
    if (x != y) return "\n    one run:   " + x.substr(0, 300) + "\n    the other: " + y.substr(0, 300);
  }
}

std::string describe_parts(const Observation& o) {
  size_t files = 0;
  std::string named;
  for (const auto& [name, value] : o) {
    if (name.rfind("file ", 0) == 0) {
      ++files;
    } else {
      named += (named.empty() ? "" : ", ") + name;
    }
  }
  return named + (files > 0 ? ", " + std::to_string(files) + " files" : "");
}

}  // namespace

std::string replace_all(std::string text, const std::string& what, const std::string& with) {
  if (what.empty()) return text;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
  return text;
}

void put_key(json& doc, const std::string& path, const json& value) {
  std::string ptr = "/" + path;
  for (char& c : ptr)
    if (c == '.') c = '/';
  doc[json::json_pointer(ptr)] = value;
}

std::map<std::string, std::string> parse_read_trace(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t a = line.find('\t'), b = line.rfind('\t');
    if (a == std::string::npos || a == b) continue;
    std::string key = line.substr(a + 1, b - a - 1), kind = line.substr(b + 1);
    auto [it, inserted] = out.emplace(key, kind);
    if (!inserted && kind == "direct") it->second = kind;
  }
  return out;
}

Observation compared_parts(const Observation& observed, const std::string& watch) {
  Observation out;
  for (const auto& [name, value] : observed)
    if (name != "stderr" && (name[0] != '~' || name == watch)) out[name] = value;
  if (watch.empty() || watch[0] == '~') return out;
  auto err = observed.find("stderr");
  std::string text = err == observed.end() ? "" : err->second;
  std::string kept;
  std::istringstream lines(text);
  std::string line;
  if (watch == "stderr") {
    while (std::getline(lines, line))
      if (!line.empty()) kept += mask_digits(line) + "\n";
  } else {
    std::regex re(watch.substr(watch.find('~') + 1));
    while (std::getline(lines, line))
      if (std::regex_search(line, re)) kept += line + "\n";
  }
  out["stderr"] = kept;
  return out;
}

void observe_files(const std::string& dir, Observation& out, const std::set<std::string>& skip) {
  if (!fs::exists(dir)) return;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), dir).string();
    if (skip.count(rel)) continue;
    std::string name = entry.path().filename().string();
    std::string part = "file " + rel;
    if (kEchoFiles.count(name)) {
      out[part] = "(a record of the settings: not compared)";
      continue;
    }
    std::string content = replace_all(slurp(entry.path().string()), dir, "<run>");
    std::string ext = entry.path().extension().string();
    if (ext == ".json" || ext == ".jsonl") {
      auto echo = kEchoFieldsOfFile.find(name);
      std::set<std::string> extra = echo == kEchoFieldsOfFile.end() ? std::set<std::string>{} : echo->second;
      // A resumable output's checkpoint records the settings it was made with, to name them when a resume
      // with others is refused.
      if (name.size() > 16 && name.compare(name.size() - 16, 16, ".checkpoint.json") == 0)
        extra.insert("settings");
      out[part] = normalised_json(content, ext == ".jsonl", extra);
    } else if (content.find('\0') != std::string::npos) {
      out[part] = "bytes " + std::to_string(content.size()) + " fnv " + std::to_string(fnv1a64(content));
    } else {
      out[part] = content;
    }
  }
}

PropagationChecker::PropagationChecker(std::string tool, Scenario scenario)
    : tool_(std::move(tool)), scenario_(std::move(scenario)) {}

RunResult PropagationChecker::run(const RunSpec& spec) {
  RunResult r = scenario_(spec);
  ++runs_;
  for (const auto& [key, kind] : r.reads) {
    auto [it, inserted] = reads_.emplace(key, kind);
    if (!inserted && kind == "direct") it->second = kind;
  }
  return r;
}

Verdict PropagationChecker::check(const Probe& p) {
  Verdict v;
  RunSpec base;
  base.settings = p.with.is_null() ? json::object() : p.with;
  base.env = p.env;
  base.options = p.options;
  base.prerun = p.prerun;
  RunSpec changed = base;
  changed.settings[p.key] = p.value;  // dotted keys: the scenario nests them

  const std::string head = p.key + " = " + p.value.dump() + " in " + tool_;
  const std::string why = p.why.empty() ? "" : "\n  probe: " + p.why;
  const std::string key = spec_key(base);
  auto cached = baselines_.find(key + "#1");
  if (cached == baselines_.end()) {
    baselines_[key + "#1"] = run(base).observed;
    baselines_[key + "#2"] = run(base).observed;
  }
  const Observation& first = baselines_[key + "#1"];
  const Observation& second = baselines_[key + "#2"];
  if (std::string e = config_error(first); !e.empty()) {
    v.message = head + ": the baseline is not a valid config (" + e + ")" + why;
    return v;
  }
  auto noise = differing(compared_parts(first, p.watch), compared_parts(second, p.watch));
  if (!noise.empty()) {
    const Observation a = compared_parts(first, p.watch), b = compared_parts(second, p.watch);
    auto in = [&](const Observation& o) {
      return o.count(noise.front()) ? o.at(noise.front()) : "(missing)";
    };
    v.message = head + ": two identical baseline runs differ in " + noise.front() +
                ", so a difference would prove nothing; make the scenario reproducible" +
                first_difference(in(a), in(b)) + why;
    return v;
  }
  Observation probed = run(changed).observed;
  if (std::string e = config_error(probed); !e.empty()) {
    v.message =
        head + ": the probe is refused by validation, not by the code that uses the key (" + e + ")" + why;
    return v;
  }
  v.changed = differing(compared_parts(first, p.watch), compared_parts(probed, p.watch));
  v.alive = !v.changed.empty();
  if (!v.alive)
    v.message =
        head + " changed nothing the tool did: the key is dead (or the probe cannot show it). Compared " +
        describe_parts(compared_parts(first, p.watch)) + "; baseline settings " + base.settings.dump() + why;
  return v;
}

bool refused_when_set(const af::config::Field& f) {
  return (!f.unsupported_values.empty() &&
          (f.unsupported_values.front() == "*" || f.type == af::config::FieldType::Bool)) ||
         !f.invalid_values.empty();
}

}  // namespace af::test
