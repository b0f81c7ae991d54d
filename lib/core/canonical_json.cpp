#include "core/canonical_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"

namespace af {
namespace {

void append_string(std::string& out, const std::string& s) {
  if (auto bad = first_invalid_utf8(s)) {
    throw runtime_error("canonical JSON: invalid UTF-8 in a string at byte " + std::to_string(*bad));
  }
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Deeper documents are rejected rather than risking the stack; no AST comes near this.
constexpr int kMaxDepth = 512;

void append_value(std::string& out, const nlohmann::json& v, int depth = 0) {
  if (depth > kMaxDepth) {
    throw runtime_error("canonical JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      out += "null";
      break;
    case nlohmann::json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case nlohmann::json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      break;
    case nlohmann::json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      break;
    case nlohmann::json::value_t::number_float:
      out += canonical_number(v.get<double>());
      break;
    case nlohmann::json::value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      break;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        append_value(out, e, depth + 1);
      }
      out += ']';
      break;
    }
    case nlohmann::json::value_t::object: {
      // nlohmann::json keeps objects in a std::map: iteration is already in byte order.
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        append_string(out, it.key());
        out += ':';
        append_value(out, it.value(), depth + 1);
      }
      out += '}';
      break;
    }
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      throw runtime_error("canonical JSON: value has no JSON form");
  }
}

// Builds a json value from SAX events, rejecting duplicate keys (nlohmann's own parser keeps the last one).
class StrictBuilder {
 public:
  using json = nlohmann::json;
  explicit StrictBuilder(std::string_view text) : text_(text) {}
  json result;
  std::string error;

  bool null() { return put(nullptr); }
  bool boolean(bool b) { return put(b); }
  bool number_integer(json::number_integer_t n) { return put(n); }
  bool number_unsigned(json::number_unsigned_t n) { return put(n); }
  bool number_float(json::number_float_t f, const json::string_t&) { return put(f); }
  bool string(json::string_t& s) { return put(std::move(s)); }
  bool binary(json::binary_t&) { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool key(json::string_t& k) {
    if (stack_.back()->contains(k)) return fail("duplicate key \"" + k + "\"");
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    TextPos pos = text_pos_of(text_, position > 0 ? position - 1 : 0);
    std::string what = ex.what();
    // nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    auto colon = what.find(": ", what.find("parse error"));
    error = "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column) + ": " +
            (colon == std::string::npos ? what : what.substr(colon + 2));
    return false;
  }

 private:
  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
  bool put(json value) {
    if (stack_.empty()) {
      result = std::move(value);
    } else if (stack_.back()->is_object()) {
      (*stack_.back())[key_] = std::move(value);
    } else {
      stack_.back()->push_back(std::move(value));
    }
    return true;
  }
  bool open(json container) {
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    json* slot;
    if (stack_.empty()) {
      result = std::move(container);
      slot = &result;
    } else if (stack_.back()->is_object()) {
      slot = &((*stack_.back())[key_] = std::move(container));
    } else {
      stack_.back()->push_back(std::move(container));
      slot = &stack_.back()->back();
    }
    stack_.push_back(slot);
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::string_view text_;
  std::vector<json*> stack_;
  std::string key_;
};

}  // namespace

std::string canonical_number(double value) {
  if (!std::isfinite(value)) throw runtime_error("canonical JSON: NaN and infinity have no JSON form");
  if (value == 0) return "0";  // also -0
  // Shortest round-trip digits in scientific form: d[.ddd]e[+-]x
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  auto e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exp10 = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // value = 0.digits * 10^n
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    int shown = n - 1;
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += shown < 0 ? "e-" : "e+";
    out += std::to_string(std::abs(shown));
  }
  return sign + out;
}

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  append_value(out, value);
  return out;
}

nlohmann::json parse_json_strict(std::string_view text) {
  if (auto bad = first_invalid_utf8(text)) {
    TextPos pos = text_pos_of(text, *bad);
    throw runtime_error("invalid UTF-8 at line " + std::to_string(pos.line) + ", column " +
                        std::to_string(pos.column));
  }
  StrictBuilder builder(text);
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder,
                                      nlohmann::json::input_format_t::json, true, false);
  if (!ok) throw runtime_error("invalid JSON: " + builder.error);
  return std::move(builder.result);
}

std::string canonicalize_json_text(std::string_view text) {
  return canonical_json(parse_json_strict(text));
}

}  // namespace af
