#include "serve/engine.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "jsonschema/schema.h"
#include "serve/request_options.h"
#include "student/settings.h"
#include "text/chat_template.h"

namespace af::serve {

namespace {

// Distinct schemas kept compiled; past it the cache starts over (a client sending a new schema with every
// request must not grow the server without bound).
constexpr size_t kMaxGrammars = 256;

}  // namespace

Engine::Engine(student::Student student, model::GenerationSettings defaults, constrain::KeyOrder order)
    : student_(std::move(student)),
      defaults_(student::with_tokenizer(std::move(defaults), *student_.tokenizer)),
      order_(order) {
  vocabulary_ = constrain::TokenVocabulary::of(*student_.tokenizer, defaults_.stop_tokens);
}

std::shared_ptr<const constrain::SchemaGrammar> Engine::grammar_for(const nlohmann::json& schema) {
  const std::string key = schema.dump();
  {
    std::lock_guard<std::mutex> lock(grammars_mutex_);
    auto it = grammars_.find(key);
    if (it != grammars_.end()) return it->second;
  }
  std::shared_ptr<const constrain::SchemaGrammar> grammar;
  try {
    // The validator's compiler checks the schema itself (a "type" of 12 is refused, not read as no type).
    jsonschema::Schema::compile(schema);
    grammar = constrain::SchemaGrammar::compile(schema);
  } catch (const std::exception& e) {
    throw usage_error(std::string("the format is not a schema serve can hold answers to: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(grammars_mutex_);
  if (grammars_.size() >= kMaxGrammars) grammars_.clear();
  grammars_.emplace(key, grammar);
  return grammar;
}

Job Engine::prepare(const teacher::ChatCall& call) {
  if (call.user.empty() && call.system.empty())
    throw usage_error("the request has no user message (or prompt) to answer");
  Job job;
  job.generation = request_generation(defaults_, call.options);
  job.prompt = text::tokenize_prompt(*student_.tokenizer, text::with_system(call.system, call.user));
  if (!call.schema.is_null() || call.json_only) {
    if (!call.schema.is_null() && !call.schema.is_object() && !call.schema.is_boolean())
      throw usage_error("the format must be a JSON Schema (an object), \"json\", or absent");
    // format "json" (response_format json_object) asks for one JSON object, as Ollama's grammar gives it.
    const nlohmann::json schema = call.schema.is_null() ? nlohmann::json{{"type", "object"}} : call.schema;
    job.grammar = grammar_for(schema);
    constrain::SchemaConstraint probe(vocabulary_, job.grammar, order_, job.generation.max_new_tokens);
    int64_t shortest = probe.shortest_document();
    if (shortest > job.generation.max_new_tokens)
      throw usage_error("the shortest answer the format allows takes " + std::to_string(shortest) +
                        " tokens, more than this request's limit of " +
                        std::to_string(job.generation.max_new_tokens) +
                        " (num_predict / max_tokens, at most serve's evaluation.max_new_tokens)");
    const constrain::TokenBits& first = probe.allowed();
    if (std::none_of(first.begin(), first.end(), [](uint64_t w) { return w != 0; }))
      throw usage_error("the format allows no JSON document (an unsatisfiable schema)");
  }
  return job;
}

std::vector<Answer> Engine::run(const std::vector<const Job*>& jobs) {
  std::vector<Answer> answers(jobs.size());
  if (jobs.empty()) return answers;
  model::GenerationSettings settings = jobs.front()->generation;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::unique_ptr<constrain::SchemaConstraint>> owned;
  std::vector<constrain::SchemaConstraint*> constraints;
  settings.row_seeds.clear();
  for (const Job* job : jobs) {
    prompts.push_back(job->prompt);
    settings.row_seeds.push_back(job->generation.seed);
    owned.push_back(job->grammar ? std::make_unique<constrain::SchemaConstraint>(
                                       vocabulary_, job->grammar, order_, job->generation.max_new_tokens)
                                 : nullptr);
    constraints.push_back(owned.back().get());
  }
  auto t0 = std::chrono::steady_clock::now();
  std::vector<model::Generation> gens = model::generate(*student_.model, prompts, settings, constraints);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < jobs.size(); ++i) {
    answers[i].text = student_.tokenizer->decode(gens[i].tokens, true);
    answers[i].finish_reason = gens[i].finish_reason;
    answers[i].prompt_tokens = prompts[i].size();
    answers[i].generated_tokens = gens[i].tokens.size();
    answers[i].batch_rows = jobs.size();
    answers[i].seconds = seconds;
  }
  return answers;
}

}  // namespace af::serve
