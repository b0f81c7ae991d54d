// How a key gets to a tool: for every key and every tool that consumes it, a non-default value set in a file,
// by --set, or by the tool's own flag is what the tool's settings builder reads, with that source (--dry-run
// prints the settings the consumers built and the source of every key they read). Keys whose feature is not
// built are rejected by every path instead of being accepted and ignored. That the values then change what
// the tools do is proven in model/propagation_behaviour_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "config/resolve.h"
#include "config/table.h"
#include "core/canonical_json.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using namespace af::config;
using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

// The defaults as resolved (references followed), so probes differ from what a tool would otherwise use.
const Resolved& resolved_defaults() {
  static const Resolved r = [] {
    Findings f;
    ResolveInput in;
    in.getenv = [](const std::string&) { return std::optional<std::string>(); };
    return resolve(in, f);
  }();
  return r;
}

bool rejects_non_default(const Field& f) {
  // A boolean with an unsupported value rejects its only non-default value.
  return (!f.unsupported_values.empty() &&
          (f.unsupported_values.front() == "*" || f.type == FieldType::Bool)) ||
         !f.invalid_values.empty();
}

// A valid value different from the default (for rejected keys: any non-default value).
json probe_value(const Field& f) {
  const json def = resolved_defaults().get(f.path);
  switch (f.type) {
    case FieldType::Bool:
      return !(def.is_boolean() && def.get<bool>());
    case FieldType::Int: {
      int64_t base = def.is_null() ? static_cast<int64_t>(f.min.value_or(0)) : def.get<int64_t>();
      int64_t up = base + 1;
      if (f.max && static_cast<double>(up) > *f.max) return base - 1;
      return up;
    }
    case FieldType::Float: {
      double d = def.is_number() ? def.get<double>() : 0.0;
      if (d > 0) return d / 2;
      return 0.25;
    }
    case FieldType::String:
      if (f.path == "teacher_sim.bind") return "127.0.0.2";
      if (f.path == "teacher.api_key_env") return "HOME";
      return "probe-" + f.name();
    case FieldType::Path:
      return "probe/" + f.name() + ".out";
    case FieldType::Enum:
      for (const auto& c : f.choices)
        if (c != def) return c;
      break;
    case FieldType::StringList:
      return json::array({"http://127.0.0.1:9999", "http://127.0.0.1:9998"});
    case FieldType::EnumList:
      for (const auto& c : f.choices)
        if (json::array({c}) != def && c != "all-linear") return json::array({c});
      break;
    case FieldType::BoolOrEnum:
      return "gaussian";
  }
  FAIL("no probe value for " << f.path);
  return nullptr;
}

// The value as text for --set and flags.
std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : ",") + item.get<std::string>();
    return out;
  }
  if (v.is_number_float()) return af::canonical_number(v.get<double>());
  return v.dump();
}

// Adds `path: value` to a nested document; written out as JSON, which YAML reads as flow syntax.
void put(json& doc, const std::string& path, const json& value) {
  std::string ptr = "/" + path;
  std::replace(ptr.begin(), ptr.end(), '.', '/');
  doc[json::json_pointer(ptr)] = value;
}

std::vector<std::string> flag_args(const Field& f, const json& v) {
  if (f.type == FieldType::Bool) return {v.get<bool>() ? "--" + f.flag : "--no-" + f.flag};
  return {"--" + f.flag, as_text(v)};
}

// The source a dry run shows for `f`: read by the consumer's builder, or reached through a reference.
std::string dry_run_source(const std::string& out, const Field& f) {
  json doc = json::parse(out);
  if (doc["sources"].contains(f.path)) return doc["sources"][f.path];
  if (doc["referenced"].contains(f.path)) return doc["referenced"][f.path];
  return "(not read)";
}

// Settings a probe needs to be valid on its own (fp16 excludes bf16 and needs CUDA).
std::vector<std::pair<std::string, json>> companions(const Field& f) {
  if (f.name() == "fp16") return {{f.section() + ".bf16", false}, {"run.device", "cuda"}};
  return {};
}

}  // namespace

TEST_CASE("every key set by file, by --set or by its flag is what its consumers' settings builders read") {
  TempDir dir;
  size_t checked = 0;
  for (const auto& f : fields()) {
    if (rejects_non_default(f)) continue;
    const json probe = probe_value(f);
    json doc = json::object();
    put(doc, f.path, probe);
    std::vector<std::string> extra;
    for (const auto& [key, value] : companions(f)) {
      put(doc, key, value);
      extra.push_back("--set");
      extra.push_back(key + "=" + as_text(value));
    }
    std::string file = dir.write(f.path + ".yaml", doc.dump(2));
    for (Tool t : all_tools()) {
      if (!has_tool(f.consumers, t)) continue;
      const std::string tool(tool_name(t));
      CAPTURE(f.path);
      CAPTURE(tool);
      CAPTURE(probe.dump());
      std::vector<std::vector<std::string>> ways = {
          {"--config", file}, {"--set", f.path + "=" + as_text(probe)}, flag_args(f, probe)};
      for (auto args : ways) {
        CAPTURE(args.front());
        const std::string way = args.front();
        if (way != "--config") args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("--dry-run");
        auto run = run_tool(tool, args, {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}});
        REQUIRE_MESSAGE(run.exit_code == 0, run.err);
        const std::string source = dry_run_source(run.out, f);
        CAPTURE(source);
        if (way == "--config") {
          CHECK(source.rfind(file + ":", 0) == 0);
        } else if (way == "--set") {
          CHECK(source.rfind("flag --set " + f.path + "=", 0) == 0);
        } else {
          CHECK(source.rfind("flag --", 0) == 0);
        }
        ++checked;
      }
    }
  }
  MESSAGE("checked ", checked, " (key, tool, way) bindings");
  CHECK(checked > 500);
}

TEST_CASE("keys whose feature is not built are rejected by every path, by every consumer") {
  TempDir dir;
  for (const auto& f : fields()) {
    if (!rejects_non_default(f)) continue;
    const json probe = probe_value(f);
    json doc = json::object();
    put(doc, f.path, probe);
    std::string file = dir.write(f.path + ".yaml", doc.dump(2));
    for (Tool t : all_tools()) {
      if (!has_tool(f.consumers, t)) continue;
      CAPTURE(f.path);
      for (auto args : std::vector<std::vector<std::string>>{
               {"--config", file}, {"--set", f.path + "=" + as_text(probe)}, flag_args(f, probe)}) {
        args.push_back("--dry-run");
        auto run = run_tool(std::string(tool_name(t)), args);
        CHECK(run.exit_code == 2);
        CHECK(run.out.empty());
        bool explained =
            run.err.find(f.unsupported_values.empty() ? f.invalid_reason : "not supported yet") !=
            std::string::npos;
        CHECK_MESSAGE(explained, run.err);
      }
    }
  }
  auto pissa = run_tool("train-sft", {"--init-lora-weights", "pissa", "--dry-run"});
  CHECK(pissa.exit_code == 2);
  CHECK(pissa.err.find("not supported yet: PiSSA and LoftQ") != std::string::npos);
}

TEST_CASE(
    "a tool's --dry-run shows what its consumers built, and they read every key it consumes and no other") {
  for (Tool t : all_tools()) {
    CAPTURE(tool_name(t));
    auto run = run_tool(std::string(tool_name(t)), {"--dry-run"}, {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    json doc = json::parse(run.out);
    CHECK(doc["tool"] == tool_name(t));
    CHECK(doc["settings"].is_object());
    CHECK_FALSE(doc["settings"].contains("run"));  // not the table's sections: the consumers' structs
    std::set<std::string> read, reached;
    for (auto& [path, src] : doc["sources"].items()) {
      read.insert(path);
      reached.insert(path);
      CHECK(src == "default");
    }
    for (auto& [path, src] : doc["referenced"].items()) reached.insert(path);
    std::set<std::string> consumed, used;
    for (const Field* f : fields_for(t)) {
      consumed.insert(f->path);
      if (!rejects_non_default(*f)) used.insert(f->path);  // a refused key can only hold its default
    }
    for (const auto& k : read) CHECK_MESSAGE(consumed.count(k) == 1, (k + " is read but not declared"));
    for (const auto& k : used) CHECK_MESSAGE(reached.count(k) == 1, (k + " is declared but never read"));
  }
}

TEST_CASE("--dry-run shows the plan a real run follows: schedule, batch, LoRA scaling, the teacher request") {
  auto sft =
      run_tool("train-sft", {"--config", "configs/defaults.yaml", "--max-steps", "100", "--warmup-steps",
                             "10", "--learning-rate", "1e-3", "--lr-scheduler-type", "linear", "--dry-run"});
  REQUIRE_MESSAGE(sft.exit_code == 0, sft.err);
  json s = json::parse(sft.out)["settings"];
  CHECK(s["trainer"]["schedule"]["total_steps"] == 100);
  CHECK(s["trainer"]["schedule"]["learning_rate_at_step"]["10"] == 1e-3);
  CHECK(s["trainer"]["schedule"]["learning_rate_at_step"]["0"] == 0.0);
  CHECK(s["trainer"]["batch"]["per_optimizer_step"] == 16);
  CHECK(s["lora"]["scaling"] == 2.0);
  auto eval =
      run_tool("eval-teacher", {"--teacher-num-ctx", "8192", "--teacher-num-predict", "512", "--dry-run"},
               {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}});
  REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  json body = json::parse(eval.out)["settings"]["judge"]["request_body"];
  CHECK(body["options"]["num_ctx"] == 8192);
  CHECK(body["options"]["num_predict"] == 512);
  CHECK(body["stream"] == false);
}

TEST_CASE("--help lists every consumed key's flag, and an unknown flag is a usage error") {
  for (Tool t : all_tools()) {
    const std::string tool(tool_name(t));
    CAPTURE(tool);
    auto help = run_tool(tool, {"--help"});
    CHECK(help.exit_code == 0);
    for (const Field* f : fields_for(t))
      CHECK_MESSAGE(help.out.find("--" + f->flag) != std::string::npos, f->flag);
    CHECK(help.out.find("--dry-run") != std::string::npos);
    auto bad = run_tool(tool, {"--no-such-flag"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--no-such-flag") != std::string::npos);
  }
}

TEST_CASE("a removed key warns with its reason by file, --set and flag, and changes nothing") {
  TempDir dir;
  std::string file = dir.write("old.yaml", "training:\n  eval_accumulation_steps: 4\n");
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--config", file},
                                             {"--set", "training.eval_accumulation_steps=4"},
                                             {"--eval-accumulation-steps", "4"}}) {
    CAPTURE(args.front());
    args.push_back("--dry-run");
    auto run = run_tool("train-sft", args);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find(
              "warning: training.eval_accumulation_steps: removed key: astforge's evaluation keeps only") !=
          std::string::npos);
    CHECK(run.err.find("training.eval_batch_size") != std::string::npos);
    json doc = json::parse(run.out);
    CHECK_FALSE(doc["sources"].contains("training.eval_accumulation_steps"));
    CHECK(doc["warnings"].size() == 1);
  }
}

TEST_CASE("precedence across the real command line: file < env < --set < flag") {
  TempDir dir;
  std::string file = dir.write("c.yaml", "teacher:\n  model: from-file\n  retries: 1\n");
  auto run = run_tool("eval-teacher",
                      {"--config", file, "--set", "teacher.retries=2", "--teacher-retries", "5", "--dry-run"},
                      {{"LLM_MODEL", "from-env"}, {"OLLAMA_HOST", "127.0.0.1:7777"}});
  REQUIRE(run.exit_code == 0);
  json doc = json::parse(run.out);
  CHECK(doc["settings"]["judge"]["model"] == "from-env");
  CHECK(doc["sources"]["teacher.model"] == "env LLM_MODEL");
  CHECK(doc["settings"]["judge"]["hosts"] == json::array({"http://127.0.0.1:7777"}));
  CHECK(doc["settings"]["judge"]["retries"] == 5);
  CHECK(doc["sources"]["teacher.retries"] == "flag --teacher-retries");
  auto flag_wins =
      run_tool("eval-teacher", {"--teacher-model", "from-flag", "--dry-run"}, {{"LLM_MODEL", "from-env"}});
  CHECK(json::parse(flag_wins.out)["settings"]["judge"]["model"] == "from-flag");
}

TEST_CASE("seed-script flag spellings work as aliases") {
  auto run = run_tool("ds-build", {"--prompts", "p.jsonl", "--domain-specs", "d.jsonl", "--dry-run"});
  REQUIRE(run.exit_code == 0);
  json s = json::parse(run.out)["settings"]["stages"];
  CHECK(s["specs"]["reads"] == "p.jsonl");
  CHECK(s["specs"]["writes"] == "d.jsonl");
  auto dpo = run_tool("train-dpo", {"--pairs", "x.jsonl", "--dry-run"});
  CHECK(json::parse(dpo.out)["settings"]["pairs"] == "x.jsonl");
}
