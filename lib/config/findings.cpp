#include "config/findings.h"

namespace af::config {

Origin Origin::in_file(std::string file, size_t line, size_t column) {
  Origin o;
  o.kind = Kind::File;
  o.file = std::move(file);
  o.line = line;
  o.column = column;
  return o;
}

Origin Origin::env(std::string var) {
  Origin o;
  o.kind = Kind::Env;
  o.detail = std::move(var);
  return o;
}

Origin Origin::flag(std::string text) {
  Origin o;
  o.kind = Kind::Flag;
  o.detail = std::move(text);
  return o;
}

Origin Origin::derived(std::string reason) {
  Origin o;
  o.kind = Kind::Derived;
  o.detail = std::move(reason);
  return o;
}

std::string Origin::describe() const {
  switch (kind) {
    case Kind::Default:
      return "default";
    case Kind::File:
      if (line == 0) return file;
      return file + ":" + std::to_string(line) + ":" + std::to_string(column);
    case Kind::Env:
      return "env " + detail;
    case Kind::Flag:
      return "flag " + detail;
    case Kind::Derived:
      return "derived (" + detail + ")";
  }
  return "?";
}

std::string Finding::to_text() const {
  std::string out = where.describe() + ": " + (severity == Severity::Error ? "error" : "warning") + ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  if (!expected.empty() || !found.empty()) {
    out += " (";
    if (!expected.empty()) out += "expected " + expected;
    if (!expected.empty() && !found.empty()) out += ", ";
    if (!found.empty()) out += "found " + found;
    out += ")";
  }
  out += " [" + code + "]";
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

nlohmann::json Finding::to_json() const {
  nlohmann::json j = {{"severity", severity == Severity::Error ? "error" : "warning"},
                      {"code", code},
                      {"key", key},
                      {"where", where.describe()},
                      {"message", message}};
  if (where.kind == Origin::Kind::File) {
    j["file"] = where.file;
    if (where.line > 0) {
      j["line"] = where.line;
      j["column"] = where.column;
    }
  }
  if (!expected.empty()) j["expected"] = expected;
  if (!found.empty()) j["found"] = found;
  if (!hint.empty()) j["hint"] = hint;
  return j;
}

Finding& Findings::error(std::string code, std::string key, Origin where, std::string message) {
  items_.push_back(
      {Severity::Error, std::move(code), std::move(key), std::move(where), std::move(message), {}, {}, {}});
  return items_.back();
}

Finding& Findings::warning(std::string code, std::string key, Origin where, std::string message) {
  items_.push_back(
      {Severity::Warning, std::move(code), std::move(key), std::move(where), std::move(message), {}, {}, {}});
  return items_.back();
}

bool Findings::has_errors() const {
  return error_count() > 0;
}

size_t Findings::error_count() const {
  size_t n = 0;
  for (const auto& f : items_) n += f.severity == Severity::Error;
  return n;
}

size_t Findings::warning_count() const {
  return items_.size() - error_count();
}

void Findings::append(const Findings& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

}  // namespace af::config
