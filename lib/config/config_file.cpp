#include "config/config_file.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/table.h"
#include "config/value_check.h"
#include "core/error.h"
#include "core/files.h"
#include "core/utf8.h"

namespace af::config {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const char* kRedacted = "<redacted>";

const char* kReferenceHint = "see configs/REFERENCE.md (or cfg-check --reference) for every key";
constexpr size_t kSuggestedUnknownKeys = 100;

std::string too_deep_message() {
  return "nested too deep (limit " + std::to_string(kMaxConfigDepth) + " levels)";
}
std::string too_deep_hint() {
  return "config keys are at most three levels deep (section.subsection.key)";
}

// Converts a yaml-cpp node to JSON with plain scalars typed, within depth and node budgets.
class Converter {
 public:
  Converter(const std::string& file, const std::string& text, Findings& findings)
      : file_(file), text_(text), findings_(findings) {}

  Origin origin_of(const YAML::Node& node) const {
    const YAML::Mark m = node.Mark();
    if (m.line < 0) return Origin::in_file(file_, 0, 0);
    return Origin::in_file(file_, static_cast<size_t>(m.line) + 1, static_cast<size_t>(m.column) + 1);
  }

  // Returns false (after reporting once) when a budget is exceeded.
  bool convert(const YAML::Node& node, json& out, int depth) {
    if (failed_) return false;
    if (++nodes_ > kMaxConfigNodes) {
      return fail(
          node, "too_large",
          "the document expands to more than " + std::to_string(kMaxConfigNodes) + " nodes (an alias bomb?)",
          "configs are small: remove the anchors and aliases that multiply nodes");
    }
    if (depth > kMaxConfigDepth) {
      return fail(node, "too_deep", too_deep_message(), too_deep_hint());
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out = nullptr;
        return true;
      case YAML::NodeType::Scalar:
        if (!quote_closes_on_its_line(node.Mark())) {
          return fail(
              node, "unclosed_quote",
              "the quoted value opened here does not close on its line: YAML reads the lines after it "
              "into the value, keys included",
              "close the quote on the same line; for a text over several lines use a block scalar "
              "(key: |)");
        }
        out = scalar(node);
        return true;
      case YAML::NodeType::Sequence:
        out = json::array();
        for (const auto& item : node) {
          json v;
          if (!convert(item, v, depth + 1)) return false;
          out.push_back(std::move(v));
        }
        return true;
      case YAML::NodeType::Map:
        out = json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          json v;
          if (!convert(it->second, v, depth + 1)) return false;
          out[it->first.Scalar()] = std::move(v);
        }
        return true;
    }
    return true;
  }

  static json scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    // "!" marks a quoted scalar; an explicit !!str too: both are strings whatever they look like.
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return node.Scalar();
    return type_plain_scalar(node.Scalar());
  }

  bool failed() const { return failed_; }

 private:
  // yaml-cpp accepts a double-quoted scalar left open (`name: "abc` then `seed: 5`) by folding the following
  // lines into it, so a key silently keeps its default. Configs never need a quoted value over several lines
  // (a block scalar says so plainly), so a quote must close on its line, or be continued by a backslash.
  bool quote_closes_on_its_line(const YAML::Mark& m) const {
    if (m.pos < 0 || static_cast<size_t>(m.pos) >= text_.size()) return true;
    const char q = text_[static_cast<size_t>(m.pos)];
    if (q != '"' && q != '\'') return true;
    for (size_t i = static_cast<size_t>(m.pos) + 1; i < text_.size(); ++i) {
      const char c = text_[i];
      if (c == '\n') return false;
      if (q == '"' && c == '\\') {
        ++i;  // an escape, including an escaped line break
      } else if (c == q) {
        if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is a quote inside a single-quoted value
        } else {
          return true;
        }
      }
    }
    return false;
  }

  bool fail(const YAML::Node& node, const char* code, std::string message, std::string hint) {
    failed_ = true;
    findings_.error(code, "", origin_of(node), std::move(message)).hint = std::move(hint);
    return false;
  }

  const std::string& file_;
  const std::string& text_;
  Findings& findings_;
  size_t nodes_ = 0;
  bool failed_ = false;
};

// Candidates for an unknown key at the same depth: keys, and sections for section-level names.
std::vector<std::string> candidate_paths(const std::string& path) {
  auto depth = std::count(path.begin(), path.end(), '.');
  std::vector<std::string> out;
  for (const auto& f : fields()) out.push_back(f.path);
  for (const auto& s : sections())
    if (std::count(s.path.begin(), s.path.end(), '.') == depth) out.push_back(s.path);
  return out;
}

// Suggests keys for an unknown one: near spellings of the full path, or the same name in other sections.
std::string suggest_for(const std::string& path) {
  // The same name in another section first (training.beta -> alignment.beta), then near spellings.
  std::vector<std::string> near;
  std::string leaf = path.substr(path.rfind('.') + 1);
  for (const auto& f : fields())
    if (f.name() == leaf) near.push_back(f.path);
  if (near.empty()) near = closest_matches(path, candidate_paths(path), 3);
  for (const auto& a : aliases()) {
    if (a.old_path == path) near.insert(near.begin(), a.new_path);
  }
  if (near.size() > 3) near.resize(3);
  if (near.empty()) return kReferenceHint;
  std::string out = "did you mean ";
  for (size_t i = 0; i < near.size(); ++i) out += (i ? " or " : "") + near[i];
  return out + "?";
}

class Walker {
 public:
  // `skip_sources`: for a run_config.json written by this same field table, keys whose recorded source is a
  // default or a derivation are left out, so loading it back reproduces the explicit settings exactly.
  Walker(ConfigFile& file, Findings& findings, Converter& conv, bool from_run_config,
         std::map<std::string, std::string> skip_sources)
      : file_(file),
        findings_(findings),
        conv_(conv),
        from_run_config_(from_run_config),
        skip_sources_(std::move(skip_sources)) {}

  void walk_map(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, Origin> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (conv_.failed()) return;
      // Copies, not references: `it->first` is a member of a temporary the iterator makes, gone at the `;`
      // (AddressSanitizer's stack-use-after-scope, found by fuzz_config).
      const YAML::Node key_node = it->first;
      const YAML::Node value_node = it->second;
      Origin where = conv_.origin_of(key_node);
      if (!key_node.IsScalar()) {
        findings_.error("wrong_type", prefix, where, "a key must be a plain name, not a list or mapping");
        continue;
      }
      const std::string key = key_node.Scalar();
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (auto prev = seen.find(key); prev != seen.end()) {
        findings_.error("duplicate_key", path, where, "key appears twice in the same mapping").hint =
            "first set at " + prev->second.describe() + "; keep one";
        continue;
      }
      seen.emplace(key, where);
      if (prefix.empty() && key == "extends") {
        read_extends(value_node, where);
        continue;
      }
      if (const RemovedKey* gone = find_removed(path)) {
        if (from_run_config_) continue;  // an older run_config.json lists every key it knew
        findings_.warning("removed", path, where, "removed key: " + gone->reason).hint =
            "delete it from the config: its value is ignored";
        continue;
      }
      std::string target = path;
      if (const Alias* alias = find_alias(path)) {
        findings_.warning("deprecated", path, where, "deprecated key").hint = "use " + alias->new_path;
        target = alias->new_path;
      }
      if (find_field(target)) {
        Origin value_where = value_node.IsNull() ? where : conv_.origin_of(value_node);
        json value;
        if (!conv_.convert(value_node, value, 0)) return;
        if (from_run_config_ && value == kRedacted) continue;  // a redacted secret: leave it unset
        if (auto src = skip_sources_.find(target); src != skip_sources_.end()) {
          if (src->second == "default" || src->second.rfind("derived", 0) == 0) continue;
        }
        file_.entries.push_back({target, std::move(value), value_where});
      } else if (is_section(path)) {
        if (value_node.IsNull()) continue;  // "training:" with nothing under it
        if (!value_node.IsMap()) {
          json v;
          conv_.convert(value_node, v, 0);
          Finding& e = findings_.error("wrong_type", path, where, "a section must be a mapping of keys");
          e.found = describe_value(v);
          continue;
        }
        walk_map(value_node, path);
      } else {
        // Near spellings cost an edit distance per key of the table: a file of 100,000 junk keys gets them
        // for its first few only, and is still reported at once.
        findings_.error("unknown_key", path, where, "unknown key").hint =
            ++unknown_keys_ <= kSuggestedUnknownKeys ? suggest_for(path) : kReferenceHint;
      }
    }
  }

 private:
  void read_extends(const YAML::Node& node, const Origin& where) {
    std::vector<YAML::Node> items;
    if (node.IsScalar()) {
      items.push_back(node);
    } else if (node.IsSequence()) {
      for (const auto& n : node) items.push_back(n);
    } else {
      findings_.error("wrong_type", "extends", where, "extends must be a file path or a list of paths");
      return;
    }
    fs::path base = fs::path(file_.path).parent_path();
    for (const auto& item : items) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        findings_.error("wrong_type", "extends", conv_.origin_of(item), "extends entries must be file paths");
        continue;
      }
      fs::path p = item.Scalar();
      if (p.is_relative()) p = base / p;
      file_.extends.push_back(p.lexically_normal().string());
      file_.extends_origins.push_back(conv_.origin_of(item));
    }
  }

  ConfigFile& file_;
  Findings& findings_;
  Converter& conv_;
  bool from_run_config_;
  std::map<std::string, std::string> skip_sources_;
  size_t unknown_keys_ = 0;
};

}  // namespace

ConfigFile load_config_file(const std::string& path, Findings& findings) {
  ConfigFile file;
  file.path = path;
  Origin whole = Origin::in_file(path, 0, 0);
  std::string text;
  try {
    text = read_file_limited(path, kMaxConfigBytes, "config file");
  } catch (const Error& e) {
    findings.error("unreadable", "", whole, e.what()).hint = e.hint();
    return file;
  }
  if (auto bad = first_invalid_utf8(text)) {
    TextPos pos = text_pos_of(text, *bad);
    findings
        .error("invalid_utf8", "", Origin::in_file(path, pos.line, pos.column), "invalid UTF-8 byte sequence")
        .hint = "save the file as UTF-8";
    return file;
  }
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    TextPos pos = text_pos_of(text, nul);
    findings.error("nul_byte", "", Origin::in_file(path, pos.line, pos.column), "a NUL byte in the text")
        .hint = "config files are text: remove the NUL byte (was a binary file given?)";
    return file;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    findings.error("empty", "", whole, "the config file is empty").hint =
        "write at least one key, or {} to use every default";
    return file;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    Origin where = Origin::in_file(path, static_cast<size_t>(std::max(0, e.mark.line)) + 1,
                                   static_cast<size_t>(std::max(0, e.mark.column)) + 1);
    findings.error("too_deep", "", where, too_deep_message()).hint = too_deep_hint();
    return file;
  } catch (const YAML::Exception& e) {
    Origin where = Origin::in_file(path, static_cast<size_t>(std::max(0, e.mark.line)) + 1,
                                   static_cast<size_t>(std::max(0, e.mark.column)) + 1);
    std::string msg = e.msg.empty() ? std::string(e.what()) : e.msg;
    findings.error("syntax", "", where, "YAML/JSON syntax error: " + msg).hint =
        "check indentation, quotes and brackets around this place";
    return file;
  }
  Converter conv(path, text, findings);
  if (root.IsNull()) {
    findings.error("empty", "", whole, "the config file holds no keys").hint =
        "write at least one key, or {}";
    return file;
  }
  if (!root.IsMap()) {
    json v;
    conv.convert(root, v, 0);
    Finding& e =
        findings.error("wrong_type", "", conv.origin_of(root), "the top level must be a mapping of sections");
    e.found = describe_value(v);
    e.hint = "start with a section such as `training:`";
    return file;
  }
  // A resolved run_config.json (cfg-resolve's output) is read through its "config" mapping.
  const YAML::Node& croot = root;  // const: lookups must not insert keys
  bool from_run_config = croot["astforge_version"] && croot["config"] && croot["config"].IsMap();
  std::map<std::string, std::string> skip_sources;
  if (from_run_config) {
    const YAML::Node& hash = croot["field_table_hash"];
    if (hash && hash.IsScalar() && hash.Scalar() == field_table_hash()) {
      const YAML::Node& sources = croot["sources"];
      if (sources && sources.IsMap()) {
        for (auto it = sources.begin(); it != sources.end(); ++it) {
          if (it->first.IsScalar() && it->second.IsScalar())
            skip_sources[it->first.Scalar()] = it->second.Scalar();
        }
      }
    } else {
      findings
          .warning("version_mismatch", "", whole,
                   "this run_config.json was written by another version of the field table; every value in "
                   "it is applied as set")
          .hint = "re-run cfg-resolve to refresh it";
    }
  }
  Walker walker(file, findings, conv, from_run_config, std::move(skip_sources));
  walker.walk_map(from_run_config ? croot["config"] : croot, "");
  file.ok = !conv.failed();
  return file;
}

}  // namespace af::config
