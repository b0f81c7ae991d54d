// Resolution: built-in defaults < config files (in order, `extends:` first) < environment < --set < tool
// flags; then derived settings, "${key}" references, and the cross-field rules. Every value keeps its origin.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/field.h"
#include "config/findings.h"

namespace af::config {

/// What to resolve: files, environment, --set assignments and tool flags.
struct ResolveInput {
  std::vector<std::string> config_files;
  /// Returns an environment variable or nullopt; defaults to the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  /// "section.key=value" texts, in command-line order.
  std::vector<std::string> sets;
  /// (key path, value text, flag as typed) from a tool's own flags; applied after --set.
  struct FlagValue {
    std::string key;
    std::string text;
    std::string flag;
  };
  std::vector<FlagValue> flags;
};

/// Every key's value and origin after resolution.
class Resolved {
 public:
  const nlohmann::json& get(const std::string& key) const;
  const Origin& origin(const std::string& key) const;
  bool is_null(const std::string& key) const { return get(key).is_null(); }
  bool get_bool(const std::string& key) const { return get(key).get<bool>(); }
  int64_t get_int(const std::string& key) const { return get(key).get<int64_t>(); }
  double get_double(const std::string& key) const { return get(key).get<double>(); }
  std::string get_string(const std::string& key) const { return get(key).get<std::string>(); }
  std::vector<std::string> get_list(const std::string& key) const;

  /// Nested {section: {key: value}} of the given keys (all keys when empty), secrets redacted.
  nlohmann::json nested(const std::vector<const Field*>& keys = {}) const;
  /// {key path: origin text} of the given keys (all when empty).
  nlohmann::json origins_json(const std::vector<const Field*>& keys = {}) const;
  /// The run_config.json document: versions, every value (secrets redacted), origins and warnings.
  nlohmann::json run_config(const std::vector<std::string>& warnings) const;
  /// True when the key was set by the user (file, env or flag), not left at (or derived from) its default.
  bool is_explicit(const std::string& key) const;

  /// From now on every get() is `tool`'s read: recorded in the read trace (config/read_trace.h) with the keys
  /// its value was built from, and a read of a key the field table does not list `tool` as consuming throws
  /// std::logic_error (a programming error: declare the consumer in the table).
  void trace_reads_as(Tool tool);
  /// The tool whose reads are traced, if any.
  std::optional<Tool> reader() const { return reader_; }

  std::map<std::string, nlohmann::json> values;
  std::map<std::string, Origin> origins;

 private:
  void note_read(const std::string& key) const;
  std::optional<Tool> reader_;
};

/// A value as shown to people: "<redacted>" for a non-null secret.
nlohmann::json shown_value(const Field& field, const nlohmann::json& value);

/// Resolves `input`. Problems of every layer are added to `findings`; the result is meaningful only when
/// `findings.has_errors()` is false.
Resolved resolve(const ResolveInput& input, Findings& findings);

/// Loads `path` and its `extends:` chain (parents first), appending the files in application order.
/// Cycles and depth are reported as findings.
void load_with_extends(const std::string& path, Findings& findings, std::vector<struct ConfigFile>& out);

}  // namespace af::config
