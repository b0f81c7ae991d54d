// Where a config value came from, and the problems found in a config (each with its place and key).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::config {

/// The origin of a value: a default, a place in a file, an environment variable, a flag, or a derivation.
struct Origin {
  enum class Kind { Default, File, Env, Flag, Derived };
  Kind kind = Kind::Default;
  std::string file;           // File: the config file
  size_t line = 0;            // File: 1-based
  size_t column = 0;          // File: 1-based
  std::string detail;         // Env: variable name; Flag: the flag as typed; Derived: the reason
  std::string template_text;  // the "${...}" text the value was interpolated from, when it was
  size_t layer = 0;           // order of application (0: default or derived); later layers win

  static Origin default_value() { return {}; }
  static Origin in_file(std::string file, size_t line, size_t column);
  static Origin env(std::string var);
  static Origin flag(std::string text);
  static Origin derived(std::string reason);
  bool is_default() const { return kind == Kind::Default; }
  /// "configs/a.yaml:3:5", "default", "env LLM_MODEL", "flag --learning-rate", "derived (...)".
  std::string describe() const;
};

enum class Severity { Error, Warning };

/// One problem: severity, a stable code, the key path, where, and what was expected and found.
struct Finding {
  Severity severity = Severity::Error;
  std::string code;  // unknown_key, wrong_type, out_of_range, not_in_enum, duplicate_key, ...
  std::string key;
  Origin where;
  std::string message;
  std::string expected;
  std::string found;
  std::string hint;

  /// `file:line:col: error: key: message` plus an indented hint line.
  std::string to_text() const;
  nlohmann::json to_json() const;
};

/// Collects findings from every phase, so all problems are reported at once.
class Findings {
 public:
  Finding& error(std::string code, std::string key, Origin where, std::string message);
  Finding& warning(std::string code, std::string key, Origin where, std::string message);
  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Finding>& all() const { return items_; }
  void append(const Findings& other);

 private:
  std::vector<Finding> items_;
};

}  // namespace af::config
