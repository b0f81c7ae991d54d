#include "dataset/stage_schemas.h"

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "core/jsonl_writer.h"
#include "core/log.h"
#include "core/output_lock.h"
#include "dataset/pretty_copy.h"
#include "dataset/schema_builder.h"
#include "dataset/settings.h"
#include "jsonschema/schema.h"

namespace af::dataset {
namespace {

using json = nlohmann::json;

}  // namespace

size_t run_schemas_stage(const DatasetSettings& settings) {
  const SchemasSettings& s = settings.schemas;
  const std::string& specs_path = s.specs_path;
  const std::string& out_path = s.out_path;
  const auto lock = lock_folder_of(out_path, "ds-build schemas");
  const auto catalog = load_operator_catalog(s.operator_catalog);
  const std::string& template_path = s.base_schema_template;
  json base_template;
  try {
    base_template = parse_json_strict(read_file(template_path));
  } catch (const Error& e) {
    throw usage_error(template_path + ": " + e.what());
  }
  const OperatorSampling& sampling = s.sampling;
  const uint64_t seed = settings.seed;

  // Every schema written must itself be valid JSON Schema 2020-12.
  const jsonschema::Schema meta =
      jsonschema::Schema::compile(json{{"$ref", "https://json-schema.org/draft/2020-12/schema"}});

  std::vector<json> rows;
  for (const auto& record : read_jsonl_records(specs_path)) {
    const std::string where = specs_path + ":" + std::to_string(record.line);
    DomainSpec spec = parse_domain_spec(record.value, where);
    BuiltSchema built = build_schema(spec, base_template, catalog, sampling, seed);
    auto errors = meta.validate(built.schema);
    if (!errors.empty()) {
      throw runtime_error(where + ": the schema built for " + spec.domain_id + " is not valid JSON Schema: " +
                              errors.front().instance_path + ": " + errors.front().message,
                          "check " + template_path);
    }
    jsonschema::Schema::compile(built.schema);  // refs resolve, regexes build
    rows.push_back(built.to_row(spec));
  }
  if (rows.empty()) throw runtime_error(specs_path + ": no domain specs", "run `ds-build specs` first");
  write_jsonl_atomic(out_path, rows);
  write_pretty_copy(settings.pretty_dir, out_path, rows);
  log_info("wrote ", rows.size(), " schemas to ", out_path);
  return rows.size();
}

}  // namespace af::dataset
