#include "jsonschema/validate_stream.h"

#include <filesystem>
#include <istream>
#include <iterator>
#include <ostream>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/limits.h"

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

// std::getline, but a line over kMaxLineBytes is an error before it is all in memory.
bool getline_limited(std::istream& in, std::string& line, uint64_t number, const std::string& name) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return !line.empty();
    if (c == '\n') return true;
    if (line.size() == kMaxLineBytes) {
      throw usage_error(name + ":" + std::to_string(number) + ": a line longer than " +
                            std::to_string(kMaxLineBytes) + " bytes, the most one instance may hold",
                        "one JSON instance per line; is this the right file?");
    }
    line.push_back(static_cast<char>(c));
  }
}

}  // namespace

StreamCounts validate_stream(const Schema& schema, std::istream& in, bool whole_document, std::ostream& out,
                             const std::string& name) {
  StreamCounts counts;
  if (whole_document) {
    validate_text(schema, read_stream_limited(in, kMaxDocumentBytes, name, "JSON document"), 1, out, counts);
    return counts;
  }
  std::string line;
  uint64_t number = 0;
  while (getline_limited(in, line, number + 1, name)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    validate_text(schema, line, number, out, counts);
  }
  return counts;
}

Schema compile_schema_file(const std::string& path, Options options) {
  std::string text;
  try {
    text = read_file_limited(path, kMaxDocumentBytes, "schema file");
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
