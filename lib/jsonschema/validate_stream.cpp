#include "jsonschema/validate_stream.h"

#include <filesystem>
#include <istream>
#include <iterator>
#include <ostream>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"

namespace af::jsonschema {
namespace {

using json = nlohmann::json;

void report(std::ostream& out, uint64_t line, const std::vector<ValidationError>& errors,
            StreamCounts& counts) {
  json errs = json::array();
  for (const auto& e : errors) errs.push_back(e.to_json());
  (errors.empty() ? counts.valid : counts.invalid)++;
  out << json{{"line", line}, {"valid", errors.empty()}, {"errors", errs}}.dump() << "\n";
}

void validate_text(const Schema& schema, std::string_view text, uint64_t line, std::ostream& out,
                   StreamCounts& counts) {
  json instance;
  try {
    instance = parse_json_strict(text);
  } catch (const Error& e) {
    report(out, line, {{"", "", std::string("not JSON: ") + e.what()}}, counts);
    return;
  }
  report(out, line, schema.validate(instance), counts);
}

}  // namespace

StreamCounts validate_stream(const Schema& schema, std::istream& in, bool whole_document, std::ostream& out) {
  StreamCounts counts;
  if (whole_document) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    validate_text(schema, text, 1, out, counts);
    return counts;
  }
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    validate_text(schema, line, number, out, counts);
  }
  return counts;
}

Schema compile_schema_file(const std::string& path, Options options) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw usage_error(e.what(), e.hint());
  }
  json schema;
  try {
    schema = parse_json_strict(text);
  } catch (const Error& e) {
    throw usage_error(path + ": " + e.what(), "a schema file holds one JSON document");
  }
  if (options.base_uri.empty())
    options.base_uri = "file://" + std::filesystem::absolute(path).lexically_normal().string();
  try {
    return Schema::compile(schema, options);
  } catch (const Error& e) {
    throw usage_error(path + ": " + e.what(), e.hint());
  }
}

}  // namespace af::jsonschema
