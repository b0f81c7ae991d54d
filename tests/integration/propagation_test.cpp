// Propagation, proven (seeds/000, seeds/001): for every key and every tool that consumes it, a non-default
// value set in a file, by --set, and by the tool's own flag appears in that tool's --dry-run output. Keys
// whose feature is not built are rejected by every path instead of being accepted and ignored.
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

json dry_run_value(const std::string& out, const Field& f) {
  json doc = json::parse(out);
  std::string ptr = "/settings/" + f.path;
  std::replace(ptr.begin(), ptr.end(), '.', '/');
  return doc.at(json::json_pointer(ptr));
}

json expected_shown(const Field& f, const json& v) {
  return f.secret ? json("<redacted>") : v;
}

// Settings a probe needs to be valid on its own (fp16 excludes bf16 and needs CUDA).
std::vector<std::pair<std::string, json>> companions(const Field& f) {
  if (f.name() == "fp16") return {{f.section() + ".bf16", false}, {"run.device", "cuda"}};
  return {};
}

}  // namespace

TEST_CASE("every key reaches every consumer's --dry-run by file, by --set and by its own flag") {
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
        if (args.front() != "--config") args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("--dry-run");
        auto run = run_tool(tool, args, {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}});
        REQUIRE_MESSAGE(run.exit_code == 0, run.err);
        CHECK(dry_run_value(run.out, f) == expected_shown(f, probe));
        json sources = json::parse(run.out)["sources"];
        CHECK(sources[f.path] != "default");
        ++checked;
      }
    }
  }
  MESSAGE("checked ", checked, " (key, tool, way) propagations");
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

TEST_CASE("a tool's --dry-run shows exactly the keys it consumes, with their sources") {
  for (Tool t : all_tools()) {
    CAPTURE(tool_name(t));
    auto run = run_tool(std::string(tool_name(t)), {"--dry-run"}, {{"LLM_MODEL", ""}, {"OLLAMA_HOST", ""}});
    REQUIRE(run.exit_code == 0);
    json doc = json::parse(run.out);
    CHECK(doc["tool"] == tool_name(t));
    std::set<std::string> shown;
    for (auto& [path, src] : doc["sources"].items()) {
      shown.insert(path);
      CHECK(src == "default");
    }
    std::set<std::string> consumed;
    for (const Field* f : fields_for(t)) consumed.insert(f->path);
    CHECK(shown == consumed);
  }
}

TEST_CASE("--help lists every consumed key's flag; the work itself says it is not built yet") {
  for (Tool t : all_tools()) {
    const std::string tool(tool_name(t));
    CAPTURE(tool);
    auto help = run_tool(tool, {"--help"});
    CHECK(help.exit_code == 0);
    for (const Field* f : fields_for(t))
      CHECK_MESSAGE(help.out.find("--" + f->flag) != std::string::npos, f->flag);
    CHECK(help.out.find("--dry-run") != std::string::npos);
    if (t == Tool::TeacherSim) continue;  // it works: tests/integration/teacher_sim_test.cpp
    // ds-build needs a stage; its validate and schemas stages work (their own tests).
    auto run =
        run_tool(tool, tool == "ds-build" ? std::vector<std::string>{"specs"} : std::vector<std::string>{});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("is not implemented yet") != std::string::npos);
    auto bad = run_tool(tool, {"--no-such-flag"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--no-such-flag") != std::string::npos);
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
  CHECK(doc["settings"]["teacher"]["model"] == "from-env");
  CHECK(doc["sources"]["teacher.model"] == "env LLM_MODEL");
  CHECK(doc["settings"]["teacher"]["host"] == json::array({"127.0.0.1:7777"}));
  CHECK(doc["settings"]["teacher"]["retries"] == 5);
  CHECK(doc["sources"]["teacher.retries"] == "flag --teacher-retries");
  auto flag_wins =
      run_tool("eval-teacher", {"--teacher-model", "from-flag", "--dry-run"}, {{"LLM_MODEL", "from-env"}});
  CHECK(json::parse(flag_wins.out)["settings"]["teacher"]["model"] == "from-flag");
}

TEST_CASE("seed-script flag spellings work as aliases") {
  auto run = run_tool("ds-build", {"--prompts", "p.jsonl", "--domain-specs", "d.jsonl", "--dry-run"});
  REQUIRE(run.exit_code == 0);
  json s = json::parse(run.out)["settings"]["dataset_generation"];
  CHECK(s["prompts_path"] == "p.jsonl");
  CHECK(s["schema_specs_out"] == "d.jsonl");
  auto dpo = run_tool("train-dpo", {"--pairs", "x.jsonl", "--dry-run"});
  CHECK(json::parse(dpo.out)["settings"]["alignment"]["pairs_out"] == "x.jsonl");
}
