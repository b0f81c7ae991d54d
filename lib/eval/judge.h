// The teacher's verdict on one student answer: accept or reject with a reason, and the AST the teacher would
// write itself (the "chosen" side of a DPO pair). The stored target is never sent.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "jsonschema/schema.h"
#include "teacher/client.h"

namespace af::eval {

/// What the teacher said about one sample.
struct Judgement {
  std::string verdict;  // "accept" or "reject"
  std::string reason;
  nlohmann::json teacher_ast;  // the teacher's own AST
  std::string teacher_canonical;
  bool teacher_schema_valid = false;  // the teacher's AST validates against the row's schema
  int attempts = 0;
  double seconds = 0;
};

/// Asks the teacher to judge `candidate` (the student's parsed AST, or null when it did not parse) for
/// `query` under `schema`. Answers without a verdict of accept/reject or without an AST object are asked
/// again (within the client's retries); a teacher that stays down throws.
Judgement judge(const teacher::TeacherClient& teacher, const nlohmann::json& schema,
                const jsonschema::Schema& compiled, const std::string& query, const nlohmann::json& candidate,
                size_t index, uint64_t seed);

}  // namespace af::eval
