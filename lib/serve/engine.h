// serve's generator: a chat request made into a job (its prompt tokens, its schema's compiled grammar, its
// generation settings), and a batch of jobs generated together with each one's constraint.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "constrain/json_matcher.h"
#include "constrain/token_mask.h"
#include "model/generate.h"
#include "student/load.h"
#include "teacher/chat_wire.h"

namespace af::serve {

/// One request, ready to generate.
struct Job {
  std::vector<int32_t> prompt;
  std::shared_ptr<const constrain::SchemaGrammar> grammar;  // null: free text
  model::GenerationSettings generation;                     // its seed is the request's
};

/// One request's answer.
struct Answer {
  std::string text;
  std::string finish_reason;  // stop | length | constraint
  size_t prompt_tokens = 0, generated_tokens = 0;
  size_t batch_rows = 0;  // the requests generated together with this one
  double seconds = 0;     // the batch's generation time
};

class Engine {
 public:
  /// Serves `student` (loaded, adapter merged); `defaults` are the answers' settings before a request's
  /// options, `order` the key order of constrained answers.
  Engine(student::Student student, model::GenerationSettings defaults, constrain::KeyOrder order);

  /// The job of `call`: its user turn (the system text before it) through the chat template, its options
  /// over the defaults, and its format's grammar. A bad option, an unusable schema, or a schema whose
  /// shortest document cannot fit the answer's token limit is a usage_error (HTTP 400).
  Job prepare(const teacher::ChatCall& call);

  /// Generates `jobs` (which same_batch groups together) in one batch.
  std::vector<Answer> run(const std::vector<const Job*>& jobs);

  const student::Student& student() const { return student_; }

 private:
  std::shared_ptr<const constrain::SchemaGrammar> grammar_for(const nlohmann::json& schema);

  student::Student student_;
  model::GenerationSettings defaults_;
  constrain::KeyOrder order_;
  std::shared_ptr<const constrain::TokenVocabulary> vocabulary_;
  std::mutex grammars_mutex_;  // prepare runs on the HTTP threads
  std::map<std::string, std::shared_ptr<const constrain::SchemaGrammar>> grammars_;  // by schema text
};

}  // namespace af::serve
