// Validating a stream of instances (a JSONL file, stdin, or one document) and reporting one JSON line each:
// the work of `ds-build validate`.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "jsonschema/schema.h"

namespace af::jsonschema {

struct StreamCounts {
  uint64_t valid = 0;
  uint64_t invalid = 0;  // includes lines that are not JSON
};

/// Validates each non-blank line of `in` (or, with `whole_document`, all of `in` as one JSON value) and
/// writes
/// `{"line":N,"valid":bool,"errors":[...]}` per instance to `out`. A line that is not JSON is reported as an
/// invalid instance whose error says why.
/// `name` is how messages name the input (a path, or "stdin"). A line over kMaxLineBytes, or a document over
/// kMaxDocumentBytes (core/limits.h), is a usage error naming it.
StreamCounts validate_stream(const Schema& schema, std::istream& in, bool whole_document, std::ostream& out,
                             const std::string& name = "stdin");

/// Reads a schema file (JSON) and compiles it; its file:// URI is the base for relative $refs to sibling
/// files. A missing file, bad JSON or an invalid schema is a usage error naming the file.
Schema compile_schema_file(const std::string& path, Options options = {});

}  // namespace af::jsonschema
