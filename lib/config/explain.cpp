#include "config/explain.h"

#include "config/cli.h"
#include "config/table.h"
#include "config/value_check.h"
#include "core/error.h"

namespace af::config {
namespace {

const Field& require_field(const std::string& key) {
  std::string path = key;
  if (const Alias* a = find_alias(key)) path = a->new_path;
  if (const Field* f = find_field(path)) return *f;
  auto near = closest_matches(key, field_paths());
  throw usage_error("unknown key " + key,
                    near.empty() ? "see configs/REFERENCE.md" : "did you mean " + near.front() + "?");
}

}  // namespace

std::string explain_key(const Resolved& resolved, const std::string& key) {
  const Field& f = require_field(key);
  const Origin& origin = resolved.origin(f.path);
  std::string out = f.path + " = " + shown_value(f, resolved.get(f.path)).dump() + "\n";
  out += "  source:      " + origin.describe() + "\n";
  if (!origin.template_text.empty()) out += "  from:        " + origin.template_text + "\n";
  out += "  type:        " + describe_expected(f) + "\n";
  out += "  default:     " + f.default_value.dump() + "\n";
  std::string flags;
  for (const auto& spelling : flag_spellings(f)) {
    if (!flags.empty()) flags += ", ";
    flags += spelling;
  }
  out += "  flags:       " + flags + "  (or --set " + f.path + "=...)\n";
  if (!f.env.empty()) out += "  environment: " + f.env + "\n";
  std::string consumers;
  for (Tool t : all_tools())
    if (has_tool(f.consumers, t)) consumers += (consumers.empty() ? "" : ", ") + std::string(tool_name(t));
  out += "  consumed by: " + consumers + "\n";
  out += "  meaning:     " + f.description + "\n";
  return out;
}

std::string value_for_shell(const Resolved& resolved, const std::string& key) {
  const Field& f = require_field(key);
  const auto& v = shown_value(f, resolved.get(f.path));
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v)
      out += (out.empty() ? "" : "\n") + (item.is_string() ? item.get<std::string>() : item.dump());
    return out;
  }
  if (v.is_number_float()) return describe_value(v);
  return v.dump();
}

}  // namespace af::config
