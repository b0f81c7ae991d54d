#include "config/resume_check.h"

#include <filesystem>
#include <set>

#include "config/table.h"
#include "config/value_check.h"
#include "core/files.h"
#include "core/json_path.h"
#include "core/log.h"

namespace af::config {
namespace {

using json = nlohmann::json;

// Keys that say how a run reports, saves or where it reads and writes, not what it computes.
bool cannot_change_result(const Field& f) {
  static const std::set<std::string> kNames = {
      "log_level",     "progress",   "progress_interval", "threads", "resume", "resume_from_checkpoint",
      "logging_steps", "save_steps", "save_total_limit",  "name",    "dir"};
  return f.type == FieldType::Path || f.secret || kNames.count(f.name()) > 0;
}

}  // namespace

std::vector<std::string> settings_changed_since(const json& saved, const json& current, Tool tool) {
  std::vector<std::string> out;
  const json& before = saved.contains("config") ? saved["config"] : saved;
  const json& now = current.contains("config") ? current["config"] : current;
  for (const Field* f : fields_for(tool)) {
    if (cannot_change_result(*f)) continue;
    const json* a = find_dotted(before, f->path);
    const json* b = find_dotted(now, f->path);
    if (a == nullptr || b == nullptr || *a == *b) continue;  // a key the older run did not record: unknown
    out.push_back(f->path + " is " + describe_value(*b) + " now, " + describe_value(*a) +
                  " in the run being resumed");
  }
  return out;
}

size_t warn_settings_changed(const std::string& saved_path, const std::string& current_text, Tool tool) {
  if (!std::filesystem::exists(saved_path)) return 0;
  json saved = json::parse(read_file(saved_path), nullptr, false);
  json current = json::parse(current_text, nullptr, false);
  if (saved.is_discarded() || current.is_discarded()) {
    log_warn(saved_path, " is not JSON: the settings of the run being resumed cannot be compared with these");
    return 0;
  }
  auto changed = settings_changed_since(saved, current, tool);
  for (const auto& line : changed)
    log_warn("resuming with other settings: ", line, " (", saved_path,
             "); the result will differ from an uninterrupted run");
  return changed.size();
}

}  // namespace af::config
