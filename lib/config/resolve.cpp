#include "config/resolve.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "config/config_file.h"
#include "config/read_trace.h"
#include "config/rules.h"
#include "config/table.h"
#include "config/value_check.h"

namespace af::config {
namespace {

using json = nlohmann::json;
constexpr int kMaxExtendsDepth = 16;

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

void load_chain(const std::string& path, Findings& findings, std::vector<ConfigFile>& out,
                std::vector<std::string>& stack, const Origin& from) {
  std::string key = std::filesystem::weakly_canonical(path).string();
  if (std::find(stack.begin(), stack.end(), key) != stack.end()) {
    std::string cycle;
    for (const auto& s : stack) cycle += s + " -> ";
    findings.error("extends_cycle", "extends", from, "extends forms a cycle: " + cycle + key).hint =
        "remove one of the extends entries";
    return;
  }
  if (stack.size() >= static_cast<size_t>(kMaxExtendsDepth)) {
    findings.error("extends_depth", "extends", from,
                   "extends chain deeper than " + std::to_string(kMaxExtendsDepth) + " files");
    return;
  }
  ConfigFile file = load_config_file(path, findings);
  stack.push_back(key);
  for (size_t i = 0; i < file.extends.size(); ++i)
    load_chain(file.extends[i], findings, out, stack, file.extends_origins[i]);
  stack.pop_back();
  out.push_back(std::move(file));
}

class Resolver {
 public:
  Resolver(Resolved& r, Findings& findings) : r_(r), findings_(findings) {}

  void apply(const Field& f, json value, const Origin& origin) {
    if (check_value(f, value, origin, findings_)) {
      r_.values[f.path] = std::move(value);
      r_.origins[f.path] = origin;
      r_.origins[f.path].layer = ++layer_;
    }
  }

  // Resolves "${key}" references in every value; a value that is exactly one reference takes that key's
  // value (typed), otherwise references are replaced by the referenced values' text.
  void interpolate_all() {
    for (const auto& f : fields()) {
      std::vector<std::string> stack;
      interpolate(f, stack);
    }
  }

 private:
  const json& interpolate(const Field& f, std::vector<std::string>& stack) {
    json& value = r_.values[f.path];
    if (done_.count(f.path) || !holds_reference(value)) {
      done_.insert(f.path);
      return value;
    }
    Origin& origin = r_.origins[f.path];
    if (std::find(stack.begin(), stack.end(), f.path) != stack.end()) {
      std::string cycle;
      for (const auto& s : stack) cycle += s + " -> ";
      findings_.error("reference_cycle", f.path, origin, "references form a cycle: " + cycle + f.path);
      done_.insert(f.path);
      return value;
    }
    stack.push_back(f.path);
    const std::string text = value.get<std::string>();
    json result;
    bool ok = true;
    std::string out;
    size_t pos = 0;
    bool whole = false;
    while (ok) {
      size_t open = text.find("${", pos);
      if (open == std::string::npos) {
        out += text.substr(pos);
        break;
      }
      size_t close = text.find('}', open);
      if (close == std::string::npos) {
        findings_.error("bad_reference", f.path, origin,
                        "unclosed ${ in " + (f.secret ? std::string("the value") : "\"" + text + "\""));
        ok = false;
        break;
      }
      out += text.substr(pos, open - pos);
      std::string ref = text.substr(open + 2, close - open - 2);
      const Field* target = find_field(ref);
      if (!target) {
        Finding& e = findings_.error("bad_reference", f.path, origin, "${" + ref + "} names no key");
        auto near = closest_matches(ref, field_paths());
        if (!near.empty()) e.hint = "did you mean ${" + near.front() + "}?";
        ok = false;
        break;
      }
      if (target->secret && !f.secret) {
        // Copied into a key that is not secret, it would be printed and written in full.
        findings_.error("bad_reference", f.path, origin,
                        "${" + ref + "} is a secret and cannot be copied into a key that is not");
        ok = false;
        break;
      }
      const json& v = interpolate(*target, stack);
      if (open == 0 && close + 1 == text.size()) {
        whole = true;
        result = v;
        break;
      }
      if (v.is_null()) {
        findings_.error("bad_reference", f.path, origin,
                        "${" + ref + "} is null and cannot be part of a text");
        ok = false;
        break;
      }
      out += v.is_string() ? v.get<std::string>() : describe_value(v);
      pos = close + 1;
    }
    stack.pop_back();
    done_.insert(f.path);
    if (!ok) return value;
    if (!whole) result = out;
    if ((f.type == FieldType::String || f.type == FieldType::Path) && !result.is_string() &&
        !result.is_null()) {
      result = describe_value(result);
    }
    origin.template_text = text;
    if (check_value(f, result, origin, findings_)) value = std::move(result);
    return value;
  }

  Resolved& r_;
  Findings& findings_;
  std::set<std::string> done_;
  size_t layer_ = 0;
};

}  // namespace

void load_with_extends(const std::string& path, Findings& findings, std::vector<ConfigFile>& out) {
  std::vector<std::string> stack;
  load_chain(path, findings, out, stack, Origin::in_file(path, 0, 0));
}

const json& Resolved::get(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) throw std::out_of_range("config key not in the field table: " + key);
  if (reader_) note_read(key);
  return it->second;
}

void Resolved::trace_reads_as(Tool tool) {
  reader_ = tool;
}

void Resolved::note_read(const std::string& key) const {
  const Field* f = find_field(key);
  if (f == nullptr || !has_tool(f->consumers, *reader_))
    throw std::logic_error(
        std::string(tool_name(*reader_)) + " read " + key +
        ", which the field table does not list it as consuming (lib/config/field_table.cpp)");
  const std::string tool(tool_name(*reader_));
  config::note_read(tool, key, ReadKind::Direct);
  // The keys a value was interpolated from reached the code through it.
  std::vector<std::string> pending = {key};
  std::set<std::string> seen;
  while (!pending.empty()) {
    std::string k = pending.back();
    pending.pop_back();
    auto o = origins.find(k);
    if (o == origins.end()) continue;
    const std::string& text = o->second.template_text;
    for (size_t open = text.find("${"); open != std::string::npos; open = text.find("${", open + 2)) {
      size_t close = text.find('}', open);
      if (close == std::string::npos) break;
      std::string ref = text.substr(open + 2, close - open - 2);
      if (!seen.insert(ref).second) continue;
      config::note_read(tool, ref, ReadKind::Reference);
      pending.push_back(ref);
    }
  }
}

const Origin& Resolved::origin(const std::string& key) const {
  auto it = origins.find(key);
  if (it == origins.end()) throw std::out_of_range("config key not in the field table: " + key);
  return it->second;
}

std::vector<std::string> Resolved::get_list(const std::string& key) const {
  return get(key).get<std::vector<std::string>>();
}

bool Resolved::is_explicit(const std::string& key) const {
  auto k = origin(key).kind;
  return k == Origin::Kind::File || k == Origin::Kind::Env || k == Origin::Kind::Flag;
}

json shown_value(const Field& field, const json& value) {
  if (field.secret && !value.is_null()) return "<redacted>";
  return value;
}

json Resolved::nested(const std::vector<const Field*>& keys) const {
  json out = json::object();
  auto add = [&](const Field& f) {
    json::json_pointer ptr("/" + [&] {
      std::string p = f.path;
      std::replace(p.begin(), p.end(), '.', '/');
      return p;
    }());
    out[ptr] = shown_value(f, values.at(f.path));
  };
  if (keys.empty()) {
    for (const auto& f : fields()) add(f);
  } else {
    for (const Field* f : keys) add(*f);
  }
  return out;
}

json Resolved::origins_json(const std::vector<const Field*>& keys) const {
  json out = json::object();
  if (keys.empty()) {
    for (const auto& f : fields()) out[f.path] = origin(f.path).describe();
  } else {
    for (const Field* f : keys) out[f->path] = origin(f->path).describe();
  }
  return out;
}

json Resolved::run_config(const std::vector<std::string>& warnings) const {
  return {{"astforge_version", ASTFORGE_VERSION},
          {"field_table_version", kFieldTableVersion},
          {"field_table_hash", field_table_hash()},
          {"config", nested()},
          {"sources", origins_json()},
          {"warnings", warnings}};
}

Resolved resolve(const ResolveInput& input, Findings& findings) {
  Resolved r;
  for (const auto& f : fields()) {
    r.values[f.path] = f.default_value;
    r.origins[f.path] = Origin::default_value();
  }
  Resolver resolver(r, findings);

  for (const auto& path : input.config_files) {
    std::vector<ConfigFile> chain;
    load_with_extends(path, findings, chain);
    for (const auto& file : chain)
      for (const auto& e : file.entries) resolver.apply(*find_field(e.path), e.value, e.origin);
  }

  auto getenv = input.getenv ? input.getenv : process_env;
  for (const auto& f : fields()) {
    if (f.env.empty()) continue;
    auto v = getenv(f.env);
    if (v && !v->empty()) resolver.apply(f, parse_text_value(f, *v), Origin::env(f.env));
  }

  for (const auto& s : input.sets) {
    auto eq = s.find('=');
    Origin where = Origin::flag("--set " + s);
    if (eq != std::string::npos) {
      const Field* target = find_field(s.substr(0, eq));
      if (target && target->secret) where = Origin::flag("--set " + s.substr(0, eq) + "=<redacted>");
    }
    if (eq == std::string::npos || eq == 0) {
      findings.error("bad_set", "", where, "--set expects section.key=value").hint =
          "for example --set training.learning_rate=1e-4";
      continue;
    }
    std::string key = s.substr(0, eq);
    if (const RemovedKey* gone = find_removed(key)) {
      findings.warning("removed", key, where, "removed key: " + gone->reason).hint =
          "drop this --set: its value is ignored";
      continue;
    }
    if (const Alias* alias = find_alias(key)) {
      findings.warning("deprecated", key, where, "deprecated key").hint = "use " + alias->new_path;
      key = alias->new_path;
    }
    const Field* f = find_field(key);
    if (!f) {
      Finding& e = findings.error("unknown_key", key, where, "unknown key");
      auto near = closest_matches(key, field_paths());
      if (!near.empty()) e.hint = "did you mean " + near.front() + "?";
      continue;
    }
    resolver.apply(*f, parse_text_value(*f, std::string_view(s).substr(eq + 1)), where);
  }

  for (const auto& fv : input.flags) {
    if (const RemovedKey* gone = find_removed(fv.key)) {
      findings.warning("removed", fv.key, Origin::flag(fv.flag), "removed key: " + gone->reason).hint =
          "drop " + fv.flag + ": its value is ignored";
      continue;
    }
    const Field* f = find_field(fv.key);
    if (!f) throw std::logic_error("flag bound to unknown key " + fv.key);
    resolver.apply(*f, parse_text_value(*f, fv.text), Origin::flag(fv.flag));
  }

  resolver.interpolate_all();
  derive_settings(r, findings);
  check_cross_field_rules(r, findings, getenv);
  return r;
}

}  // namespace af::config
