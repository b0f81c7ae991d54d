#include "eval/judge.h"

#include "core/canonical_json.h"
#include "teacher/prompts.h"

namespace af::eval {

using nlohmann::json;

Judgement judge(const teacher::TeacherClient& teacher, const json& schema, const jsonschema::Schema& compiled,
                const std::string& query, const json& candidate, size_t index, uint64_t seed) {
  auto check = [](const json& answer) -> std::string {
    if (!answer.is_object()) return "the answer is not a JSON object";
    if (!answer.contains("verdict") || !answer["verdict"].is_string() ||
        (answer["verdict"] != "accept" && answer["verdict"] != "reject"))
      return "the verdict is not \"accept\" or \"reject\"";
    if (!answer.contains("ast") || !answer["ast"].is_object()) return "the answer has no AST object";
    return "";
  };
  teacher::ChatAnswer answer =
      teacher.ask(teacher::judge_request(schema, query, candidate, seed), index, check);
  Judgement j;
  j.verdict = answer.value["verdict"].get<std::string>();
  j.reason = answer.value.contains("reason") && answer.value["reason"].is_string()
                 ? answer.value["reason"].get<std::string>()
                 : "";
  j.teacher_ast = answer.value["ast"];
  j.teacher_canonical = canonical_json(j.teacher_ast);
  j.teacher_schema_valid = compiled.is_valid(j.teacher_ast);
  j.attempts = answer.attempts;
  j.seconds = answer.seconds;
  return j;
}

}  // namespace af::eval
