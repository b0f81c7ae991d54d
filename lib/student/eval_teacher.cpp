#include "student/eval_teacher.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/interrupt.h"
#include "core/jsonl_reader.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "dataset/resumable_output.h"
#include "eval/eval_set.h"
#include "eval/judge.h"
#include "eval/student_output.h"
#include "eval/summary.h"
#include "jsonschema/schema.h"
#include "model/model_folder.h"
#include "model/weight_files.h"
#include "student/allocator.h"
#include "student/constrained.h"
#include "student/load.h"
#include "student/settings.h"
#include "teacher/client.h"
#include "text/chat_template.h"

namespace af::student {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The record of one sample, before the teacher's part.
json student_record(const eval::EvalSample& s, const jsonschema::Schema& compiled, const std::string& raw,
                    const model::Generation& g, size_t prompt_tokens, double seconds_share) {
  eval::ParsedOutput parsed = eval::parse_student_output(raw);
  json r = {{"id", s.id},
            {"schema_id", s.schema_id},
            {"domain_id", s.domain_id},
            {"language", s.language},
            {"kind", s.kind},
            {"query", s.query},
            {"prompt_text", s.prompt},
            {"raw_output", raw},
            {"finish_reason", g.finish_reason},
            {"truncated", g.finish_reason == "length"},
            {"prompt_tokens", prompt_tokens},
            {"generated_tokens", g.tokens.size()},
            {"generation_seconds", seconds_share},
            {"parsed", parsed.parsed}};
  if (parsed.parsed) {
    r["student_ast"] = parsed.value;
    r["student_canonical"] = parsed.canonical;
    json errors = json::array();
    for (const auto& e : compiled.validate(parsed.value)) errors.push_back(e.to_json());
    r["schema_valid"] = errors.empty();
    r["schema_errors"] = errors;
  } else {
    r["student_ast"] = nullptr;
    r["student_canonical"] = nullptr;
    r["parse_error"] = parsed.error;
    r["schema_valid"] = false;
    r["schema_errors"] = json::array();
  }
  // An output cut off by max_new_tokens is its own outcome: never valid, never a match, even when what was
  // written so far happens to parse.
  bool truncated = g.finish_reason == "length";
  if (truncated) r["schema_valid"] = false;
  r["target_canonical"] = s.target ? json(*s.target) : json(nullptr);
  r["exact_match"] =
      s.target ? json(!truncated && parsed.parsed && parsed.canonical == *s.target) : json(nullptr);
  return r;
}

// The fields of the other decoding mode's output kept in a record (compare_constrained).
json other_mode_fields(const json& r) {
  json o = json::object();
  for (const char* k : {"raw_output", "finish_reason", "truncated", "generated_tokens", "generation_seconds",
                        "parsed", "schema_valid", "schema_errors", "student_canonical", "exact_match",
                        "constrained", "constraint_unenforced", "mask_ms_median", "language", "kind"})
    if (r.contains(k)) o[k] = r[k];
  if (!o.contains("constrained")) o["constrained"] = false;
  return o;
}

// Rows whose schema asked for something the constraint could not enforce, and rows the constraint stopped
// (no token could continue: the schema admits no document there), added to `into`.
void add_constraint_counts(json& into, const std::vector<json>& records) {
  size_t unenforced = 0, stopped = 0;
  for (const json& r : records) {
    unenforced += r.contains("constraint_unenforced") && !r["constraint_unenforced"].empty();
    stopped += r.value("finish_reason", "") == "constraint";
  }
  into["constraint_unenforced_count"] = unenforced;
  into["constraint_stopped_count"] = stopped;
}

// One mode's rates for the side-by-side comparison.
json mode_rates(const json& summary, const std::vector<json>& records) {
  json out = json::object();
  for (const char* k : {"samples", "parsed_rate", "parsed_count", "schema_valid_rate", "schema_valid_count",
                        "exact_match_rate", "exact_match_count", "truncated_count"})
    if (summary.contains(k)) out[k] = summary[k];
  // Generation time per generated token (each row's share of its batch), for the constrained slowdown.
  double seconds = 0, tokens = 0;
  for (const json& r : records) {
    seconds += r.value("generation_seconds", 0.0);
    tokens += r.value("generated_tokens", 0.0);
  }
  out["generation_seconds"] = seconds;
  out["generated_tokens"] = tokens;
  out["ms_per_token"] = tokens > 0 ? json(seconds / tokens * 1000.0) : json(nullptr);
  return out;
}

}  // namespace

size_t run_eval_teacher(const EvalSettings& settings) {
  const EvalSettings& st = settings;
  const std::string& results_path = st.results;
  const std::string& summary_path = st.summary;
  const std::string& dataset_path = st.dataset;
  const std::string& schemas_path = st.schemas;
  const std::string& adapter = st.adapter;
  const bool judge = st.judge;
  const uint64_t seed = st.seed;
  const auto locks = lock_folders_of({results_path, summary_path}, "eval-teacher");

  for (const auto& [path, what, flag] : {std::tuple{dataset_path, "evaluation dataset", "--dataset"},
                                         {schemas_path, "schemas file", "--schemas"}})
    if (!fs::exists(path))
      throw usage_error(std::string(what) + " not found: " + path,
                        std::string("run ds-build first (or pass ") + flag + ")");
  eval::EvalSet set = eval::load_eval_set(dataset_path, schemas_path, st.selection);
  if (set.samples.empty())
    throw usage_error(dataset_path + " has no samples to evaluate" +
                          (set.skipped_invalid > 0 ? " (every row is invalid; add --include-invalid)" : ""),
                      "run ds-build corpus to write the eval set");
  log_info(
      "evaluating ", set.samples.size(), " of ", set.rows, " rows of ", dataset_path,
      set.skipped_invalid > 0 ? " (" + std::to_string(set.skipped_invalid) + " invalid rows left out)" : "");

  if (st.decode.constrained || st.compare_constrained)
    for (const auto& [id, schema] : set.schemas)
      require_document_fits(schema, st.decode.generation.max_new_tokens,
                            schemas_path + ": schema '" + id + "'");

  std::unique_ptr<teacher::TeacherClient> teacher;
  if (judge) {
    teacher = std::make_unique<teacher::TeacherClient>(st.teacher);
    teacher->check_reachable();
  } else {
    log_warn("no teacher (--no-judge): teacher_accept_rate and semantic_pass_rate will be missing");
  }

  const std::string& base_dir = st.base.dir;
  const model::GenerationSettings& g = st.decode.generation;
  json fingerprint = {{"samples", json::array()},
                      {"base_model", base_dir},
                      {"adapter", adapter},
                      {"weights", model::weights_identity(adapter.empty() ? base_dir : adapter)},
                      {"dtype", st.decode.dtype},
                      {"generation",
                       {{"max_new_tokens", g.max_new_tokens},
                        {"do_sample", g.do_sample},
                        {"temperature", g.temperature},
                        {"top_p", g.top_p},
                        {"top_k", g.top_k},
                        {"repetition_penalty", g.repetition_penalty},
                        {"seed", seed},
                        {"constrained", st.decode.constrained},
                        {"compare_constrained", st.compare_constrained},
                        {"key_order", key_order_name(st.decode.key_order)}}},
                      {"judge", judge},
                      {"teacher", judge ? teacher->settings().answer_settings() : json(nullptr)}};
  for (const auto& s : set.samples)
    fingerprint["samples"].push_back({s.id, dataset::fingerprint_of(s.prompt)});
  fs::create_directories(fs::path(results_path).parent_path().empty() ? "."
                                                                      : fs::path(results_path).parent_path());
  dataset::ResumableOutput out(results_path, st.checkpoint_path, fingerprint, st.resume);
  const size_t total = set.samples.size();
  out.require_at_most(total);
  // The rows on disk count, whatever the checkpoint says (a finished file may have lost rows since).
  size_t next = std::min(total, static_cast<size_t>(out.done()));

  if (next < total) {
    apply_threads(st.runtime.threads);
    keep_freed_memory();
    Student student = load_student(base_dir, adapter, model::parse_dtype_name(st.decode.dtype),
                                   resolve_device(st.runtime.device), /*merge=*/true);
    const model::GenerationSettings gen_settings = with_tokenizer(g, *student.tokenizer);
    const bool constrained = st.decode.constrained;
    RowConstraints constraints(constrained, st.decode.key_order, *student.tokenizer, gen_settings.stop_tokens,
                               g.max_new_tokens);
    std::optional<RowConstraints> other;
    if (st.compare_constrained)
      other.emplace(!constrained, st.decode.key_order, *student.tokenizer, gen_settings.stop_tokens,
                    g.max_new_tokens);
    std::map<std::string, jsonschema::Schema> compiled;
    for (const auto& [id, schema] : set.schemas) compiled.emplace(id, jsonschema::Schema::compile(schema));
    const size_t batch_size = st.decode.batch_size;
    const auto every = static_cast<size_t>(st.checkpoint_every);
    size_t workers = teacher ? static_cast<size_t>(teacher->settings().concurrency) : 1;
    Progress progress("eval", total, st.progress);
    progress.advance(next);
    install_interrupt_handlers();
    size_t since_commit = 0;
    while (next < total) {
      size_t end = std::min(total, next + batch_size);
      std::vector<std::vector<int32_t>> prompts;
      for (size_t i = next; i < end; ++i)
        prompts.push_back(text::tokenize_prompt(*student.tokenizer, set.samples[i].prompt));
      model::GenerationSettings batch_settings = gen_settings;
      batch_settings.seed =
          gen_settings.seed + next;  // a sample's draws depend on its position, not the batch
      std::vector<const json*> schemas;
      for (size_t i = next; i < end; ++i) schemas.push_back(set.samples[i].schema);
      // One decoding pass over the batch (constrained or not, as `rc` says): a record per sample.
      auto decode_batch = [&](RowConstraints& rc) {
        rc.start_batch(schemas);
        auto t0 = std::chrono::steady_clock::now();
        std::vector<model::Generation> gens =
            model::generate(*student.model, prompts, batch_settings, rc.pointers());
        double share = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                       static_cast<double>(end - next);
        std::vector<json> batch(end - next);
        for (size_t i = next; i < end; ++i) {
          const auto& s = set.samples[i];
          batch[i - next] = student_record(s, compiled.at(s.schema_id),
                                           student.tokenizer->decode(gens[i - next].tokens, true),
                                           gens[i - next], prompts[i - next].size(), share);
          batch[i - next]["batch_rows"] = end - next;  // the rows generated together with this one
          batch[i - next].update(rc.record_fields(i - next));
        }
        return batch;
      };
      std::vector<json> records = decode_batch(constraints);
      if (other) {
        std::vector<json> others = decode_batch(*other);
        for (size_t k = 0; k < records.size(); ++k) records[k]["other_mode"] = other_mode_fields(others[k]);
      }
      if (teacher) {
        try {
          parallel_for(records.size(), workers, [&](size_t k) {
            const auto& s = set.samples[next + k];
            json& r = records[k];
            eval::Judgement j = eval::judge(*teacher, *s.schema, compiled.at(s.schema_id), s.query,
                                            r["student_ast"], next + k, seed + next + k);
            r["teacher_canonical"] = j.teacher_canonical;
            r["teacher_schema_valid"] = j.teacher_schema_valid;
            r["teacher_verdict"] = j.verdict;
            r["teacher_reason"] = j.reason;
            r["teacher_accept"] = j.verdict == "accept";
            r["semantic_pass"] = r["schema_valid"].get<bool>() && j.verdict == "accept";
            r["teacher_seconds"] = j.seconds;
            r["teacher_attempts"] = j.attempts;
          });
        } catch (const Error& e) {
          out.commit();
          throw runtime_error(std::string("the teacher failed while judging samples ") +
                                  std::to_string(next + 1) + "-" + std::to_string(end) + ": " + e.what(),
                              std::to_string(next) + " of " + std::to_string(total) +
                                  " samples are saved in " + results_path +
                                  "; start the teacher (or raise --teacher-retries) and run again to resume");
        }
      }
      for (auto& r : records) out.append(r);
      since_commit += records.size();
      if (since_commit >= every) {
        out.commit();
        since_commit = 0;
      }
      progress.advance(end - next);
      next = end;
      if (interrupt_requested()) {
        out.commit();
        throw interrupted_error("interrupted after " + std::to_string(next) + " of " + std::to_string(total) +
                                    " samples; they are saved in " + results_path,
                                "run the same command again to resume");
      }
    }
    progress.finish();
  }
  out.finish();

  std::vector<json> records = read_jsonl(results_path);
  if (records.size() != total)
    throw runtime_error(results_path + " has " + std::to_string(records.size()) + " records for " +
                            std::to_string(total) + " samples",
                        "run with --no-resume to evaluate again from the start");
  json context = {{"dataset", dataset_path},
                  {"base_model", base_dir},
                  {"adapter", adapter.empty() ? json(nullptr) : json(adapter)},
                  {"teacher_model", judge ? json(teacher->settings().model) : json(nullptr)},
                  {"eval_results", results_path},
                  {"rows_in_dataset", set.rows},
                  {"skipped_invalid", set.skipped_invalid},
                  {"generation", fingerprint["generation"]}};
  json summary = eval::summarize(records, context);
  const bool constrained = st.decode.constrained;
  if (constrained) {
    summary["constrained"] = true;
    add_constraint_counts(summary, records);
  }
  if (st.compare_constrained) {
    std::vector<json> others;
    for (const json& r : records)
      if (r.contains("other_mode")) others.push_back(r["other_mode"]);
    if (others.size() == records.size()) {
      json other_summary = eval::summarize(others, json::object());
      json on = constrained ? mode_rates(summary, records) : mode_rates(other_summary, others);
      json off = constrained ? mode_rates(other_summary, others) : mode_rates(summary, records);
      add_constraint_counts(on, constrained ? records : others);
      json comparison = {{"constrained", on}, {"unconstrained", off}};
      if (on["ms_per_token"].is_number() && off["ms_per_token"].is_number() && off["ms_per_token"] > 0)
        comparison["slowdown_per_token"] =
            on["ms_per_token"].get<double>() / off["ms_per_token"].get<double>() - 1.0;
      summary["constrained_comparison"] = comparison;
    }
  }
  if (!fs::path(summary_path).parent_path().empty())
    fs::create_directories(fs::path(summary_path).parent_path());
  write_file_atomic(summary_path, summary.dump(2) + "\n");
  auto pct = [&](const char* key) {
    return summary[key].is_null() ? std::string("n/a")
                                  : std::to_string(summary[key].get<double>() * 100).substr(0, 5) + "%";
  };
  log_info("parsed ", pct("parsed_rate"), ", schema-valid ", pct("schema_valid_rate"), ", exact match ",
           pct("exact_match_rate"), ", teacher accept ", pct("teacher_accept_rate"), ", semantic pass ",
           pct("semantic_pass_rate"), " over ", total, " samples; ", summary_path);
  return total;
}

}  // namespace af::student
