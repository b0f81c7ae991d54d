#include "config/value_check.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <regex>
#include <set>

#include "core/canonical_json.h"

namespace af::config {
namespace {

using json = nlohmann::json;

bool all_digits(std::string_view s, const char* alphabet) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::strchr(alphabet, c)) return false;
  return true;
}

std::string format_bound(double v) {
  return canonical_number(v);
}

bool is_integral_number(const json& v) {
  return v.is_number_integer() || v.is_number_unsigned();
}

std::string quote(const std::string& s) {
  return "\"" + s + "\"";
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

bool value_is_listed(const json& value, const std::vector<json>& list) {
  return std::any_of(list.begin(), list.end(), [&](const json& v) { return v == value; });
}

}  // namespace

json type_plain_scalar(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view body = s;
  bool negative = false;
  if (body[0] == '-' || body[0] == '+') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  try {
    if (all_digits(body, "0123456789")) {
      std::string text(s);
      if (negative) return static_cast<int64_t>(std::stoll(text));
      unsigned long long u = std::stoull(text);
      if (u <= static_cast<unsigned long long>(INT64_MAX)) return static_cast<int64_t>(u);
      return static_cast<uint64_t>(u);
    }
    if (s.size() > 2 && s.substr(0, 2) == "0x" && all_digits(s.substr(2), "0123456789abcdefABCDEF")) {
      return static_cast<int64_t>(std::stoll(std::string(s.substr(2)), nullptr, 16));
    }
    if (s.size() > 2 && s.substr(0, 2) == "0o" && all_digits(s.substr(2), "01234567")) {
      return static_cast<int64_t>(std::stoll(std::string(s.substr(2)), nullptr, 8));
    }
  } catch (const std::out_of_range&) {
    return std::stod(std::string(s));  // too big for 64 bits: keep it as a number; the type check reports it
  }
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s.begin(), s.end(), kFloat)) return std::stod(std::string(s));
  if (body == ".inf" || body == ".Inf" || body == ".INF") return negative ? -HUGE_VAL : HUGE_VAL;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return NAN;
  return std::string(s);
}

json parse_text_value(const Field& field, std::string_view text) {
  if (field.nullable && (text == "null" || text == "~")) return nullptr;
  switch (field.type) {
    case FieldType::String:
    case FieldType::Path:
      return std::string(text);
    case FieldType::Enum:
      return std::string(text);
    case FieldType::StringList:
    case FieldType::EnumList: {
      if (!text.empty() && text.front() == '[') {
        try {
          return json::parse(text);
        } catch (const json::exception&) {
          return std::string(text);  // reported by check_value as a wrong type
        }
      }
      json list = json::array();
      size_t start = 0;
      while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string item(text.substr(start, comma - start));
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) list.push_back(item);
        start = comma + 1;
      }
      return list;
    }
    default:
      return type_plain_scalar(text);
  }
}

bool holds_reference(const json& value) {
  return value.is_string() && value.get_ref<const std::string&>().find("${") != std::string::npos;
}

std::string describe_value(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "a mapping";
    case json::value_t::array:
      return "a list " + value.dump();
    case json::value_t::string:
      return quote(value.get<std::string>());
    case json::value_t::number_float: {
      double d = value.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      return canonical_number(d);
    }
    default:
      return value.dump();
  }
}

std::string describe_value_of(const Field& field, const json& value) {
  if (field.secret && !value.is_null()) return "<redacted>";
  return describe_value(value);
}

std::string describe_expected(const Field& f) {
  std::string base;
  switch (f.type) {
    case FieldType::Bool:
      base = "true or false";
      break;
    case FieldType::Int:
      base = "an integer";
      break;
    case FieldType::Float:
      base = "a number";
      break;
    case FieldType::String:
      base = "a string";
      break;
    case FieldType::Path:
      base = "a path";
      break;
    case FieldType::Enum:
      base = "one of " + join(f.choices, ", ");
      break;
    case FieldType::StringList:
      base = "a list of strings";
      break;
    case FieldType::EnumList:
      base = "a list of: " + join(f.choices, ", ");
      break;
    case FieldType::BoolOrEnum:
      base = "one of " + join(f.choices, ", ");
      break;
  }
  std::vector<std::string> bounds;
  if (f.min) bounds.push_back((f.min_exclusive ? "> " : ">= ") + format_bound(*f.min));
  if (f.max) bounds.push_back((f.max_exclusive ? "< " : "<= ") + format_bound(*f.max));
  if (!bounds.empty()) base += " " + join(bounds, " and ");
  if (f.nullable) base += ", or null";
  return base;
}

std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         size_t max_results) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    size_t d = distance(word, c);
    // Close enough: about a third of the word may differ, or one is the other's prefix/suffix.
    size_t limit = std::max<size_t>(2, std::max(word.size(), c.size()) / 3);
    bool contains =
        word.size() >= 3 && (c.find(word) != std::string::npos || word.find(c) != std::string::npos);
    if (d <= limit || contains) scored.emplace_back(contains ? std::min(d, limit) : d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& s : scored) {
    // Only the best-scoring candidates: a near-exact match hides the merely similar ones.
    if (out.size() >= max_results || s.first > scored.front().first) break;
    if (std::find(out.begin(), out.end(), s.second) == out.end()) out.push_back(s.second);
  }
  return out;
}

bool check_value(const Field& f, json& value, const Origin& where, Findings& out) {
  auto wrong = [&](std::string code, std::string message, std::string hint = {}) {
    Finding& e = out.error(std::move(code), f.path, where, std::move(message));
    e.expected = describe_expected(f);
    e.found = describe_value_of(f, value);
    e.hint = std::move(hint);
    return false;
  };
  // "${other.key}": checked again once interpolated.
  if (holds_reference(value)) return true;
  if (value.is_null()) {
    if (f.nullable) return true;
    return wrong("wrong_type", "this key cannot be null",
                 "remove the key to use its default (" + describe_value(f.default_value) + ")");
  }
  switch (f.type) {
    case FieldType::Bool:
      if (!value.is_boolean()) {
        std::string hint;
        if (value.is_string()) {
          static const std::set<std::string> kYaml11 = {"yes", "no",  "on", "off", "y",
                                                        "n",   "Yes", "No", "On",  "Off"};
          if (kYaml11.count(value.get<std::string>()))
            hint = "YAML 1.1 spellings are not booleans here; write true or false";
        }
        if (value.is_number()) hint = "write true or false, not a number";
        return wrong("wrong_type", "wrong type", hint);
      }
      break;
    case FieldType::Int:
      if (!is_integral_number(value)) {
        std::string hint;
        if (value.is_number_float()) {
          double d = value.get<double>();
          if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
            hint = "write " + canonical_number(d) + " without a decimal point or exponent";
          }
        } else if (value.is_string()) {
          hint = "remove the quotes around the number";
        }
        return wrong("wrong_type", "wrong type", hint);
      }
      break;
    case FieldType::Float:
      if (!value.is_number()) {
        std::string hint = value.is_string() ? "remove the quotes around the number" : "";
        return wrong("wrong_type", "wrong type", hint);
      }
      if (!std::isfinite(value.get<double>())) return wrong("out_of_range", "not a finite number");
      value = value.get<double>();
      break;
    case FieldType::String:
    case FieldType::Path:
      if (!value.is_string()) {
        return wrong("wrong_type", "wrong type",
                     value.is_number() || value.is_boolean() ? "quote the value to make it a string" : "");
      }
      if (value.get_ref<const std::string&>().empty()) {
        return wrong("out_of_range", "empty string",
                     f.nullable ? "use null to leave it unset" : "remove the key to use its default");
      }
      break;
    case FieldType::Enum:
    case FieldType::BoolOrEnum: {
      if (f.type == FieldType::BoolOrEnum) {
        if (value.is_boolean()) break;
        if (value == "true" || value == "false") {
          value = value == "true";
          break;
        }
      }
      if (!value.is_string()) return wrong("wrong_type", "wrong type");
      const auto& s = value.get_ref<const std::string&>();
      if (std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end()) {
        auto near = closest_matches(s, f.choices, 1);
        return wrong("not_in_enum", "not an allowed value",
                     near.empty() ? "" : "did you mean \"" + near.front() + "\"?");
      }
      break;
    }
    case FieldType::StringList:
    case FieldType::EnumList: {
      if (value.is_string()) value = json::array({value});
      if (!value.is_array()) return wrong("wrong_type", "wrong type");
      if (value.empty() && !(f.default_value.is_array() && f.default_value.empty())) {
        return wrong("out_of_range", "the list cannot be empty", "remove the key to use its default");
      }
      std::set<std::string> seen;
      for (const auto& item : value) {
        if (!item.is_string()) return wrong("wrong_type", "every item must be a string");
        const auto& s = item.get_ref<const std::string&>();
        if (!seen.insert(s).second)
          return wrong("duplicate_value", (f.secret ? "an item" : "\"" + s + "\"") + " is listed twice");
        if (f.type == FieldType::EnumList &&
            std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end()) {
          auto near = closest_matches(s, f.choices, 1);
          return wrong("not_in_enum", "\"" + s + "\" is not an allowed item",
                       near.empty() ? "" : "did you mean \"" + near.front() + "\"?");
        }
      }
      break;
    }
  }
  if (value.is_number() && (f.min || f.max)) {
    double d = value.get<double>();
    bool low = f.min && (f.min_exclusive ? d <= *f.min : d < *f.min);
    bool high = f.max && (f.max_exclusive ? d >= *f.max : d > *f.max);
    if (low || high) {
      std::string hint;
      std::string name = f.name();
      if (d == 0 && (name == "batch_size" || name == "grad_accum")) {
        hint = "the effective batch size (batch_size x grad_accum) would be 0";
      } else if (d == 0 && name == "save_total_limit") {
        hint = "0 would delete every checkpoint; use null to keep them all";
      } else if (name == "learning_rate" && d > 1) {
        hint = "learning rates are small numbers such as 5e-5";
      }
      return wrong("out_of_range", "value out of range", hint);
    }
  }
  if (value_is_listed(value, f.invalid_values)) {
    Finding& e = out.error("invalid_value", f.path, where, f.invalid_reason);
    e.found = describe_value_of(f, value);
    e.hint = "remove the key (default " + describe_value(f.default_value) + ")";
    return false;
  }
  bool any_non_default =
      !f.unsupported_values.empty() && f.unsupported_values.front() == "*" && value != f.default_value;
  if (any_non_default || value_is_listed(value, f.unsupported_values)) {
    Finding& e = out.error("not_supported", f.path, where, "not supported yet: " + f.unsupported_reason);
    e.found = describe_value_of(f, value);
    e.hint = "remove the key (default " + describe_value(f.default_value) + ")";
    return false;
  }
  return true;
}

}  // namespace af::config
