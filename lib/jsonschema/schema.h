// JSON Schema validation (2020-12 and draft-07): compile a schema once, validate many instances, and get
// every error as (instance path, keyword path, message). Never touches the network: documents referenced by
// $ref come from a DocumentLoader (local files, URI-prefix mappings, the meta-schemas installed on the
// system).
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace af::jsonschema {

/// The dialect a schema resource follows (from its `$schema`, else the referrer's, else the default).
enum class Draft { Draft7, Draft2019_09, Draft2020_12 };

/// One failed assertion: where in the instance (JSON Pointer), which keyword (evaluation path), and why.
struct ValidationError {
  std::string instance_path;
  std::string keyword_path;
  std::string message;
  nlohmann::json to_json() const;
};

/// Finds schema documents by absolute URI (without fragment). Never the network.
class DocumentLoader {
 public:
  /// A loader that knows the draft-07, 2019-09 and 2020-12 meta-schemas from `metaschema_dir`.
  explicit DocumentLoader(std::string metaschema_dir = default_metaschema_dir());
  /// URIs that start with `prefix` are read from `dir` + the rest of the URI.
  void map_prefix(std::string prefix, std::string dir);
  /// Registers a document under `uri`.
  void add(std::string uri, nlohmann::json document);
  /// The document at `uri`, or nullopt. file:// URIs are read from disk.
  std::optional<nlohmann::json> load(const std::string& uri) const;
  /// Where Debian's python3-jsonschema installs the meta-schemas (ASTFORGE_METASCHEMA_DIR overrides it).
  static std::string default_metaschema_dir();

 private:
  std::string metaschema_dir_;
  std::vector<std::pair<std::string, std::string>> prefixes_;
  std::map<std::string, nlohmann::json> documents_;
};

/// How a schema is compiled.
struct Options {
  Draft default_draft = Draft::Draft2020_12;
  bool format_assertion = false;  // `format` is an annotation unless asked for (or the vocabulary says so)
  std::string base_uri;           // the document's retrieval URI when it has no $id
  std::shared_ptr<const DocumentLoader> loader;  // default: a loader with the installed meta-schemas
};

class Compiled;

/// A compiled schema. Copies share the compiled form; validation is const and thread-safe.
class Schema {
 public:
  /// Compiles `schema` (refs resolved, regexes built). An invalid schema — a bad regex, an unresolvable $ref,
  /// nesting beyond 1000 levels, a wrong keyword type — is a usage error naming the keyword.
  static Schema compile(const nlohmann::json& schema, const Options& options = {});
  /// True when `instance` is valid (stops at the first failure).
  bool is_valid(const nlohmann::json& instance) const;
  /// Every error (empty when valid).
  std::vector<ValidationError> validate(const nlohmann::json& instance) const;

 private:
  std::shared_ptr<const Compiled> impl_;
};

}  // namespace af::jsonschema
