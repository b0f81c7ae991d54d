#include "dataset/stages.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <set>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/interrupt.h"
#include "core/jsonl_reader.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "dataset/domain_spec.h"
#include "dataset/pretty_copy.h"
#include "dataset/query_kind.h"
#include "dataset/resumable_output.h"
#include "dataset/settings.h"
#include "dataset/student_prompt.h"
#include "jsonschema/schema.h"
#include "teacher/client.h"
#include "teacher/prompts.h"

namespace af::dataset {
namespace {

using json = nlohmann::json;

// Requests are asked for in chunks: a real LLM writes a list of 20 well, and a list of 300 badly.
constexpr int64_t kQueryChunk = 20;

// Specs and samples are streamed to disk (and may be resumed): their pretty copy is made from the file.
void write_pretty_from_file(const DatasetSettings& s, const std::string& output) {
  write_pretty_copy(s.pretty_dir, output, read_jsonl(output));
}

json teacher_meta(const teacher::TeacherClient& t) {
  return {{"model", t.settings().model}, {"protocol", t.settings().protocol}};
}

std::string normalized_text(const std::string& s) {
  std::string out;
  bool space = false;
  for (unsigned char c : s) {
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

json errors_json(const std::vector<jsonschema::ValidationError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back(e.to_json());
  return out;
}

double unit_hash(uint64_t seed, const std::string& key) {
  uint64_t h = fnv1a64(key, kFnvOffset ^ (seed * 0x9E3779B97F4A7C15ull));
  h ^= h >> 33;
  return static_cast<double>(h % 1000000007ull) / 1000000007.0;
}

}  // namespace

size_t run_specs_stage(const DatasetSettings& settings, const teacher::TeacherClient& teacher) {
  const SpecsSettings& s = settings.specs;
  const std::string& prompts_path = s.prompts_path;
  const std::string& out_path = s.out_path;
  const auto lock = lock_folder_of(out_path, "ds-build specs");
  auto prompts = read_jsonl_records(prompts_path);
  if (s.max_domains) prompts.resize(std::min<size_t>(prompts.size(), static_cast<size_t>(*s.max_domains)));
  for (const auto& p : prompts) {
    if (!p.value.is_object() || !p.value.contains("domain_id") || !p.value["domain_id"].is_string()) {
      throw runtime_error(prompts_path + ":" + std::to_string(p.line) +
                          ": a domain prompt needs a \"domain_id\"");
    }
  }
  const int64_t examples = s.examples_per_schema;
  const double french = s.french_ratio;
  const uint64_t seed = settings.seed;
  json inputs = {{"examples", examples},
                 {"french", french},
                 {"seed", seed},
                 {"teacher", teacher.settings().answer_settings()}};
  for (const auto& p : prompts) inputs["prompts"].push_back(p.value);
  ResumableOutput out(out_path, out_path + ".checkpoint.json", inputs, settings.resume);
  if (!out.complete()) {
    Progress progress("specs", prompts.size(), settings.progress);
    progress.advance(out.done());
    const size_t block = static_cast<size_t>(std::max(1, teacher.settings().concurrency));
    for (size_t start = out.done(); start < prompts.size(); start += block) {
      size_t n = std::min(block, prompts.size() - start);
      std::vector<json> rows(n);
      parallel_for(n, block, [&](size_t k) {
        const json& prompt = prompts[start + k].value;
        const std::string id = prompt["domain_id"];
        auto answer =
            teacher.ask(teacher::domain_spec_request(prompt, examples, french, seed), start + k,
                        [&](const json& v) -> std::string {
                          try {
                            parse_domain_spec(v, "answer");
                          } catch (const Error& e) {
                            return e.what();
                          }
                          return v["domain_id"] == id ? "" : "the answer is about another domain_id";
                        });
        rows[k] = answer.value;
        rows[k]["teacher"] = teacher_meta(teacher);
      });
      for (const auto& r : rows) out.append(r);
      out.commit();
      progress.advance(n);
      throw_if_interrupted("the domain specs written so far are saved");
    }
    out.finish();
  }
  write_pretty_from_file(settings, out_path);
  log_info("wrote ", prompts.size(), " domain specs to ", out_path);
  return prompts.size();
}

size_t run_samples_stage(const DatasetSettings& settings, const teacher::TeacherClient& teacher) {
  const SamplesSettings& ss = settings.samples;
  const std::string& schemas_path = ss.schemas_path;
  const std::string& out_path = ss.out_path;
  const auto locks = lock_folders_of({out_path, ss.checkpoint_path}, "ds-build samples");
  auto schemas = read_jsonl_records(schemas_path);
  if (schemas.empty()) throw runtime_error(schemas_path + ": no schemas", "run `ds-build schemas` first");
  const int64_t per_schema = ss.samples_per_schema;
  const double french = ss.french_ratio;
  const double refusals = ss.refusal_ratio;
  const uint64_t seed = settings.seed;
  json inputs = {{"per_schema", per_schema},
                 {"french", french},
                 {"refusals", refusals},
                 {"seed", seed},
                 {"teacher", teacher.settings().answer_settings()}};
  std::vector<jsonschema::Schema> compiled;
  for (const auto& s : schemas) {
    const std::string where = schemas_path + ":" + std::to_string(s.line);
    if (!s.value.contains("schema") || !s.value.contains("schema_id")) {
      throw runtime_error(where + ": a d_02 row needs schema_id and schema", "re-run `ds-build schemas`");
    }
    compiled.push_back(jsonschema::Schema::compile(s.value["schema"]));
    inputs["schemas"].push_back(fingerprint_of(s.value));
  }
  ResumableOutput out(out_path, ss.checkpoint_path, inputs, settings.resume);
  const uint64_t total = schemas.size() * static_cast<uint64_t>(per_schema);
  out.require_at_most(total);
  if (!out.complete()) {
    Progress progress("samples", total, settings.progress);
    progress.advance(out.done());
    // Requests per schema, fetched chunk by chunk as the units that need them come up.
    std::map<std::pair<size_t, int64_t>, json> chunks;
    const size_t workers = static_cast<size_t>(std::max(1, teacher.settings().concurrency));
    // Work goes out in blocks large enough to keep every worker busy through several rounds (one round of
    // request-chunk fetches, then the ASTs); rows are still made durable every checkpoint_every rows.
    const uint64_t every = static_cast<uint64_t>(ss.checkpoint_every);
    const uint64_t block = std::max<uint64_t>(every, 8 * workers);
    uint64_t invalid = 0, repaired = 0;
    for (uint64_t start = out.done(); start < total; start += block) {
      uint64_t n = std::min(block, total - start);
      std::vector<std::pair<size_t, int64_t>> need;
      for (uint64_t u = start; u < start + n; ++u) {
        auto key = std::make_pair(static_cast<size_t>(u / per_schema),
                                  static_cast<int64_t>(u % per_schema) / kQueryChunk);
        if (!chunks.count(key) && std::find(need.begin(), need.end(), key) == need.end()) need.push_back(key);
      }
      std::vector<json> fetched(need.size());
      parallel_for(need.size(), workers, [&](size_t k) {
        auto [s, chunk] = need[k];
        int64_t first = chunk * kQueryChunk, count = std::min(kQueryChunk, per_schema - first);
        auto req = teacher::queries_request(schemas[s].value, count, first, french, refusals, seed);
        fetched[k] = teacher
                         .ask(req, s * 1000 + static_cast<size_t>(chunk),
                              [&](const json& v) -> std::string {
                                if (!v.contains("queries") || !v["queries"].is_array())
                                  return "no \"queries\" list";
                                if (static_cast<int64_t>(v["queries"].size()) != count) {
                                  return "expected " + std::to_string(count) + " requests";
                                }
                                for (const auto& q : v["queries"])
                                  if (!q.contains("text") || !q["text"].is_string())
                                    return "a request has no text";
                                return "";
                              })
                         .value["queries"];
      });
      for (size_t k = 0; k < need.size(); ++k) chunks[need[k]] = std::move(fetched[k]);

      std::vector<json> rows(n);
      parallel_for(n, workers, [&](size_t k) {
        uint64_t u = start + k;
        size_t s = static_cast<size_t>(u / per_schema);
        int64_t index = static_cast<int64_t>(u % per_schema);
        const json& q = chunks.at({s, index / kQueryChunk})[static_cast<size_t>(index % kQueryChunk)];
        const json& row = schemas[s].value;
        const std::string text = q["text"];
        // Only "is it JSON" is retried as such; an answer the schema refuses is a negative: it is kept, and
        // the teacher is shown its errors once and asked to correct it (seeds/004's negatives, made usable).
        auto answer = teacher.ask(teacher::ast_request(row["schema"], text, seed), static_cast<size_t>(u));
        json errs = errors_json(compiled[s].validate(answer.value));
        json rejected = json::array();
        if (!errs.empty()) {
          rejected.push_back({{"ast_canonical", canonical_json(answer.value)}, {"errors", errs}});
          answer = teacher.ask(teacher::ast_repair_request(row["schema"], text, answer.value, errs, seed),
                               static_cast<size_t>(u));
          errs = errors_json(compiled[s].validate(answer.value));
        }
        rows[k] = {{"schema_id", row["schema_id"]},
                   {"domain_id", row.value("domain_id", "")},
                   {"index", index},
                   {"language", q.value("language", "en")},
                   {"query", text},
                   {"ast", answer.value},
                   {"ast_canonical", canonical_json(answer.value)},
                   {"is_valid", errs.empty()},
                   {"errors", errs},
                   {"kind", query_kind(answer.value)},
                   {"teacher", teacher_meta(teacher)}};
        if (!rejected.empty()) rows[k]["rejected_attempts"] = rejected;
      });
      for (size_t k = 0; k < rows.size(); ++k) {
        invalid += !rows[k]["is_valid"].get<bool>();
        repaired += rows[k].contains("rejected_attempts") && rows[k]["is_valid"].get<bool>();
        out.append(rows[k]);
        if ((start + k + 1) % every == 0) out.commit();
      }
      out.commit();
      progress.advance(n);
      throw_if_interrupted("the samples written so far are saved");
      // Requests of finished schemas are not needed again.
      for (auto it = chunks.begin(); it != chunks.end();) {
        it = it->first.first < static_cast<size_t>((start + n) / per_schema) ? chunks.erase(it)
                                                                             : std::next(it);
      }
    }
    out.finish();
    if (repaired)
      log_info(repaired,
               " teacher answers failed their schema and were corrected when shown the errors (the "
               "failed answers are kept as rejected_attempts)");
    if (invalid)
      log_warn(invalid,
               " teacher answers did not validate against their schema even after a correction "
               "(kept with is_valid false; never a training target)");
  }
  write_pretty_from_file(settings, out_path);
  log_info("wrote ", total, " samples to ", out_path);
  return total;
}

size_t run_corpus_stage(const DatasetSettings& settings) {
  const CorpusSettings& cs = settings.corpus;
  const std::string& dataset_path = cs.dataset_path;
  std::vector<std::string> outputs = {cs.corpus_path, cs.eval_path};
  if (!cs.negative_pairs_path.empty()) outputs.push_back(cs.negative_pairs_path);
  const auto locks = lock_folders_of(outputs, "ds-build corpus");
  const uint64_t seed = settings.seed;
  std::map<std::string, json> schemas;
  std::vector<std::string> ids;
  for (const auto& r : read_jsonl_records(cs.schemas_path)) {
    schemas[r.value.at("schema_id")] = r.value.at("schema");
    ids.push_back(r.value.at("schema_id"));
  }
  // Whole schemas held out: the student is judged on schemas it never saw.
  std::sort(ids.begin(), ids.end());
  std::mt19937_64 rng(seed ^ 0xC0FFEEull);
  std::shuffle(ids.begin(), ids.end(), rng);
  const double schema_fraction = cs.eval_schema_fraction;
  size_t held = static_cast<size_t>(std::llround(schema_fraction * static_cast<double>(ids.size())));
  if (schema_fraction > 0 && ids.size() >= 2) held = std::clamp<size_t>(held, 1, ids.size() - 1);
  std::set<std::string> eval_schemas(ids.begin(),
                                     ids.begin() + static_cast<long>(std::min(held, ids.size())));
  const double row_fraction = cs.eval_row_fraction;

  std::vector<json> train, eval;
  for (const auto& rec : read_jsonl_records(dataset_path)) {
    const json& r = rec.value;
    const std::string where = dataset_path + ":" + std::to_string(rec.line);
    if (!r.contains("schema_id") || !r.contains("query") || !r.contains("ast_canonical")) {
      throw runtime_error(where + ": a d_03 row needs schema_id, query and ast_canonical",
                          "re-run `ds-build samples`");
    }
    const std::string schema_id = r["schema_id"];
    auto s = schemas.find(schema_id);
    if (s == schemas.end()) throw runtime_error(where + ": unknown schema_id \"" + schema_id + "\"");
    const std::string id = schema_id + "/" + std::to_string(r.value("index", 0));
    json common = {{"id", id},
                   {"schema_id", schema_id},
                   {"domain_id", r.value("domain_id", "")},
                   {"language", r.value("language", "en")},
                   {"kind", r.value("kind", "")},
                   {"is_valid", r.value("is_valid", false)},
                   {"prompt", student_prompt(s->second, r["query"])}};
    bool to_eval = eval_schemas.count(schema_id) || unit_hash(seed, id) < row_fraction;
    if (to_eval) {
      json e = common;
      e["query"] = r["query"];
      e["target"] = r["ast_canonical"];
      eval.push_back(std::move(e));
    } else {
      json t = common;
      t["query"] = r["query"];
      t["completion"] = r["ast_canonical"];
      if (r.contains("rejected_attempts")) t["rejected_attempts"] = r["rejected_attempts"];
      train.push_back(std::move(t));
    }
  }
  // No request text on both sides. A row whose AST fails its schema is never a training target; the teacher's
  // failed answers (rejected_attempts) become preference pairs when a corrected answer exists to prefer.
  std::set<std::string> eval_texts;
  for (const auto& e : eval) eval_texts.insert(normalized_text(e["query"]));
  size_t overlap = 0, dropped_invalid = 0, unpaired_negatives = 0;
  std::vector<json> kept, negatives;
  for (auto& t : train) {
    if (eval_texts.count(normalized_text(t["query"]))) {
      ++overlap;
      continue;
    }
    const bool valid = t["is_valid"].get<bool>();
    if (t.contains("rejected_attempts")) {
      for (const auto& attempt : t["rejected_attempts"]) {
        if (!valid) {
          ++unpaired_negatives;
          continue;
        }
        negatives.push_back({{"id", t["id"]},
                             {"schema_id", t["schema_id"]},
                             {"prompt", t["prompt"]},
                             {"chosen", t["completion"]},
                             {"rejected", attempt["ast_canonical"]},
                             {"rejected_errors", attempt["errors"]},
                             {"language", t["language"]},
                             {"kind", t["kind"]},
                             {"source", "dataset"}});
      }
      t.erase("rejected_attempts");
    }
    if (!valid) {
      ++dropped_invalid;
      continue;
    }
    t.erase("query");
    kept.push_back(std::move(t));
  }
  if (cs.max_samples) {
    std::shuffle(kept.begin(), kept.end(), rng);
    kept.resize(std::min<size_t>(kept.size(), static_cast<size_t>(*cs.max_samples)));
  }
  if (!cs.include_invalid) negatives.clear();
  write_jsonl_atomic(cs.corpus_path, kept);
  write_jsonl_atomic(cs.eval_path, eval);
  // Always written (empty when negatives are dropped), so pairs-build never reads an earlier run's file.
  write_jsonl_atomic(cs.negative_pairs_path, negatives);
  write_pretty_copy(settings.pretty_dir, cs.corpus_path, kept);
  write_pretty_copy(settings.pretty_dir, cs.eval_path, eval);
  log_info("corpus: ", kept.size(), " training rows, ", eval.size(), " eval rows (", eval_schemas.size(),
           " schemas held out); dropped ", overlap, " training rows whose request is in the eval set and ",
           dropped_invalid, " invalid rows");
  if (!negatives.empty())
    log_info(negatives.size(),
             " schema-invalid teacher answers kept as DPO pairs (the corrected answer chosen) in ",
             cs.negative_pairs_path);
  if (unpaired_negatives > 0 && cs.include_invalid)
    log_info(unpaired_negatives, " schema-invalid teacher answers had no corrected answer to pair with");
  return kept.size();
}

}  // namespace af::dataset
