// The config field table's types: one Field per config key, declared once in field_table.cpp. Validation,
// defaults, CLI flags, --help, the Markdown reference and the propagation tests all read this table.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace af::config {

/// The value type of a key.
enum class FieldType {
  Bool,
  Int,
  Float,
  String,
  Path,        // a file or directory; relative paths are relative to the working directory
  Enum,        // one string out of `choices`
  StringList,  // a list of strings (a single string is read as a one-element list)
  EnumList,    // a list of strings out of `choices`
  BoolOrEnum,  // true, false, or one string out of `choices` (PEFT's init_lora_weights)
};

/// The pipeline tools that consume keys (cfg-check and cfg-resolve read every key and are not listed).
enum class Tool : uint32_t {
  DsBuild = 1u << 0,
  TrainSft = 1u << 1,
  EvalTeacher = 1u << 2,
  PairsBuild = 1u << 3,
  TrainDpo = 1u << 4,
  Report = 1u << 5,
  Predict = 1u << 6,
  TeacherSim = 1u << 7,
  Export = 1u << 8,
  Serve = 1u << 9,
};
using ToolSet = uint32_t;
constexpr ToolSet operator|(Tool a, Tool b) {
  return static_cast<ToolSet>(a) | static_cast<ToolSet>(b);
}
constexpr ToolSet operator|(ToolSet a, Tool b) {
  return a | static_cast<ToolSet>(b);
}
constexpr bool has_tool(ToolSet set, Tool t) {
  return (set & static_cast<ToolSet>(t)) != 0;
}

/// Every pipeline tool, in pipeline order.
const std::vector<Tool>& all_tools();
/// The executable name of a tool ("train-sft").
std::string_view tool_name(Tool tool);
/// Looks a tool up by executable name.
std::optional<Tool> tool_by_name(std::string_view name);

/// One config key.
struct Field {
  std::string path;  // "training.lora.r"
  FieldType type = FieldType::String;
  nlohmann::json default_value;  // may hold "${other.key}" references, resolved by resolve.cpp
  bool nullable = false;         // null is a valid value (meaning given in the description)
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;  // Enum, EnumList, BoolOrEnum
  std::string description;
  ToolSet consumers = 0;
  std::string flag;                       // the tool flag without "--" (kebab-case of the name, or explicit)
  std::vector<std::string> flag_aliases;  // extra flag spellings (the seed scripts' names)
  std::string env;                        // environment variable that sets it (between files and flags)
  bool secret = false;                    // redacted in everything written or printed
  // Values accepted by the type but not built yet ("*" = any non-default value): rejected with this reason.
  std::vector<nlohmann::json> unsupported_values;
  std::string unsupported_reason;
  // Values that are always wrong (a config error, with this reason).
  std::vector<nlohmann::json> invalid_values;
  std::string invalid_reason;

  /// "training" for "training.lora.r".
  std::string section() const;
  /// "lora.r" for "training.lora.r" (the key inside its section).
  std::string key_in_section() const;
  /// "r" for "training.lora.r".
  std::string name() const;
  bool is_list() const { return type == FieldType::StringList || type == FieldType::EnumList; }
  bool default_is_reference() const;
};

/// A renamed key: the old spelling still works and warns.
struct Alias {
  std::string old_path;
  std::string new_path;
};

/// A key that no longer exists: a config, --set or flag that still sets it gets a warning with the reason
/// (and what to use instead), and the value is ignored.
struct RemovedKey {
  std::string path;
  std::string reason;
  ToolSet tools = 0;  // tools whose flag (kebab-case of the name) still answers, with the warning
};

/// A top-level section or a subsection, with what it is for.
struct Section {
  std::string path;  // "training" or "training.lora"
  std::string description;
  std::string flag_prefix;  // prepended to flags of its keys ("teacher-" gives --teacher-model)
};

/// Human name of a type ("integer", "list of strings").
std::string type_name(FieldType type);

}  // namespace af::config
