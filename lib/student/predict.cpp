#include "student/predict.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "core/progress.h"
#include "dataset/student_prompt.h"
#include "eval/student_output.h"
#include "model/generate.h"
#include "model/model_folder.h"
#include "student/allocator.h"
#include "student/constrained.h"
#include "student/load.h"
#include "student/settings.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"

namespace af::student {
namespace {

using nlohmann::json;

// Input rows with where they came from, for errors.
struct InputRow {
  json value;
  std::string where;  // path:line
};

std::vector<InputRow> read_rows(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream all;
    all << std::cin.rdbuf();
    text = all.str();
  } else {
    text = read_file(path);
  }
  std::string name = path == "-" ? "<stdin>" : path;
  std::vector<InputRow> rows;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    ++line_no;
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string where = name + ":" + std::to_string(line_no);
    try {
      rows.push_back({parse_json_strict(line), where});
    } catch (const Error& e) {
      throw usage_error(where + ": " + e.what(), "each input line must be one JSON object");
    }
    if (!rows.back().value.is_object()) throw usage_error(where + ": expected a JSON object");
  }
  return rows;
}

// The user prompt of a row: {prompt} as given, or the student prompt of {schema, query}.
std::string row_prompt(const InputRow& row) {
  const json& v = row.value;
  if (v.contains("prompt")) {
    if (!v["prompt"].is_string()) throw usage_error(row.where + ": key 'prompt' must be a string");
    return v["prompt"].get<std::string>();
  }
  if (!v.contains("schema") || !v.contains("query"))
    throw usage_error(row.where + ": needs 'schema' and 'query' (or a raw 'prompt')",
                      "rows look like {\"schema\": {...}, \"query\": \"show orders above 100\"}");
  if (!v["schema"].is_object() && !v["schema"].is_boolean())
    throw usage_error(row.where + ": key 'schema' must be a JSON Schema (an object)");
  if (!v["query"].is_string()) throw usage_error(row.where + ": key 'query' must be a string");
  return dataset::student_prompt(v["schema"], v["query"].get<std::string>());
}

// Writes to a file atomically at the end (no half-written file), or to stdout line by line.
class Output {
 public:
  explicit Output(std::string path) : path_(std::move(path)) {}
  void write(const json& row) {
    if (path_ == "-") {
      std::cout << to_json_line(row) << '\n' << std::flush;
    } else {
      rows_.push_back(row);
    }
  }
  void finish() {
    if (path_ != "-") write_jsonl_atomic(path_, rows_);
  }

 private:
  std::string path_;
  std::vector<json> rows_;
};

}  // namespace

void run_predict(const PredictSettings& st) {
  std::unique_ptr<OutputLock> lock;
  if (st.output != "-") lock = lock_folder_of(st.output, "predict");
  std::vector<InputRow> rows = read_rows(st.input);
  std::vector<std::string> prompts;
  for (const auto& r : rows) prompts.push_back(row_prompt(r));  // every row checked before the model loads
  if (st.decode.constrained)
    for (const auto& r : rows) {
      if (!r.value.contains("schema"))
        throw usage_error(r.where + ": --constrained needs the row's 'schema'",
                          "give {schema, query} rows, or {prompt, schema} rows");
      require_document_fits(r.value["schema"], st.decode.generation.max_new_tokens, r.where);
    }
  apply_threads(st.runtime.threads);
  keep_freed_memory();
  Student s = load_student(st.model.dir, st.adapter, model::parse_dtype_name(st.decode.dtype),
                           resolve_device(st.runtime.device), /*merge=*/true);
  model::GenerationSettings settings = with_tokenizer(st.decode.generation, *s.tokenizer);
  RowConstraints constraints(st.decode.constrained, st.decode.key_order, *s.tokenizer, settings.stop_tokens,
                             settings.max_new_tokens);
  const size_t batch_size = st.decode.batch_size;
  Output out(st.output);
  Progress progress("predict", rows.size(), st.progress);
  uint64_t generated_tokens = 0;
  auto started = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < rows.size(); begin += batch_size) {
    size_t end = std::min(rows.size(), begin + batch_size);
    std::vector<std::vector<int32_t>> batch;
    for (size_t i = begin; i < end; ++i) batch.push_back(text::tokenize_prompt(*s.tokenizer, prompts[i]));
    auto t0 = std::chrono::steady_clock::now();
    // Rows of a batch share its seed stream by position; the row index keeps them distinct across batches.
    model::GenerationSettings batch_settings = settings;
    batch_settings.seed = settings.seed + begin;
    std::vector<const json*> schemas;
    for (size_t i = begin; i < end; ++i) schemas.push_back(&rows[i].value["schema"]);
    constraints.start_batch(schemas);
    std::vector<model::Generation> gens =
        model::generate(*s.model, batch, batch_settings, constraints.pointers());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = begin; i < end; ++i) {
      const model::Generation& g = gens[i - begin];
      std::string raw = s.tokenizer->decode(g.tokens, true);
      eval::ParsedOutput parsed = eval::parse_student_output(raw);
      json row = json::object();
      if (rows[i].value.contains("id")) row["id"] = rows[i].value["id"];
      row["index"] = i;
      if (rows[i].value.contains("query")) row["query"] = rows[i].value["query"];
      row["raw_output"] = raw;
      row["ast"] = parsed.parsed ? json::parse(parsed.canonical) : json(nullptr);
      row["ast_canonical"] = parsed.parsed ? json(parsed.canonical) : json(nullptr);
      if (!parsed.parsed) row["parse_error"] = parsed.error;
      row["finish_reason"] = g.finish_reason;
      row["prompt_tokens"] = batch[i - begin].size();
      row["generated_tokens"] = g.tokens.size();
      row["batch_rows"] = end - begin;  // the rows generated together with this one
      row["batch_seconds"] = seconds;   // wall time of the whole batch this row was generated in
      row.update(constraints.record_fields(i - begin));
      generated_tokens += g.tokens.size();
      out.write(row);
    }
    progress.advance(end - begin);
  }
  out.finish();
  progress.finish();
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log_info("predicted ", rows.size(), " rows, ", generated_tokens, " tokens in ", total, " s (",
           total > 0 ? static_cast<double>(generated_tokens) / total : 0.0, " tokens/s)");
}

void run_tokenize(const PredictSettings& st) {
  std::vector<InputRow> rows = read_rows(st.input);
  auto tok = text::load_tokenizer(st.model.dir);
  Output out(st.output);
  for (const auto& r : rows) {
    std::vector<int32_t> ids;
    if (r.value.contains("text")) {
      if (!r.value["text"].is_string()) throw usage_error(r.where + ": key 'text' must be a string");
      ids = tok->encode(r.value["text"].get<std::string>());
    } else if (r.value.contains("completion")) {
      if (!r.value["completion"].is_string())
        throw usage_error(r.where + ": key 'completion' must be a string");
      ids = text::tokenize_example(*tok, row_prompt(r), r.value["completion"].get<std::string>()).ids;
    } else {
      ids = text::tokenize_prompt(*tok, row_prompt(r));
    }
    out.write(json(ids));
  }
  out.finish();
}

}  // namespace af::student
