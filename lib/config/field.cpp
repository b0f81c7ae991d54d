#include "config/field.h"

namespace af::config {

const std::vector<Tool>& all_tools() {
  static const std::vector<Tool> tools = {
      Tool::DsBuild, Tool::TrainSft, Tool::EvalTeacher, Tool::PairsBuild, Tool::TrainDpo,
      Tool::Report,  Tool::Predict,  Tool::Export,      Tool::Serve,      Tool::TeacherSim};
  return tools;
}

std::string_view tool_name(Tool tool) {
  switch (tool) {
    case Tool::DsBuild:
      return "ds-build";
    case Tool::TrainSft:
      return "train-sft";
    case Tool::EvalTeacher:
      return "eval-teacher";
    case Tool::PairsBuild:
      return "pairs-build";
    case Tool::TrainDpo:
      return "train-dpo";
    case Tool::Report:
      return "report";
    case Tool::Predict:
      return "predict";
    case Tool::TeacherSim:
      return "teacher-sim";
    case Tool::Export:
      return "export";
    case Tool::Serve:
      return "serve";
  }
  return "?";
}

std::optional<Tool> tool_by_name(std::string_view name) {
  for (Tool t : all_tools())
    if (tool_name(t) == name) return t;
  return std::nullopt;
}

std::string Field::section() const {
  return path.substr(0, path.find('.'));
}
std::string Field::key_in_section() const {
  return path.substr(path.find('.') + 1);
}
std::string Field::name() const {
  return path.substr(path.rfind('.') + 1);
}

bool Field::default_is_reference() const {
  return default_value.is_string() &&
         default_value.get_ref<const std::string&>().find("${") != std::string::npos;
}

std::string type_name(FieldType type) {
  switch (type) {
    case FieldType::Bool:
      return "boolean";
    case FieldType::Int:
      return "integer";
    case FieldType::Float:
      return "number";
    case FieldType::String:
      return "string";
    case FieldType::Path:
      return "path";
    case FieldType::Enum:
      return "enum";
    case FieldType::StringList:
      return "list of strings";
    case FieldType::EnumList:
      return "list of enum";
    case FieldType::BoolOrEnum:
      return "boolean or enum";
  }
  return "?";
}

}  // namespace af::config
