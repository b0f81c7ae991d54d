#include "jsonschema/format.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <cctype>
#include <string_view>

namespace af::jsonschema {
namespace {

bool digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int num(std::string_view s, size_t pos, size_t n) {
  return std::stoi(std::string(s.substr(pos, n)));
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2)) {
    return false;
  }
  int y = num(s, 0, 4), m = num(s, 5, 2), d = num(s, 8, 2);
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= max;
}

bool is_time(std::string_view s) {
  if (s.size() < 9 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' ||
      !digits(s, 6, 2)) {
    return false;
  }
  int h = num(s, 0, 2), m = num(s, 3, 2), sec = num(s, 6, 2);
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i >= s.size()) return false;
  int off_h = 0, off_m = 0, sign = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return false;
  } else if (s[i] == '+' || s[i] == '-') {
    sign = s[i] == '+' ? 1 : -1;
    if (s.size() != i + 6 || !digits(s, i + 1, 2) || s[i + 3] != ':' || !digits(s, i + 4, 2)) return false;
    off_h = num(s, i + 1, 2);
    off_m = num(s, i + 4, 2);
    if (off_h > 23 || off_m > 59) return false;
  } else {
    return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;
  if (sec == 60) {
    // A leap second happens at 23:59:60 UTC only.
    int total = h * 60 + m - sign * (off_h * 60 + off_m);
    total = ((total % 1440) + 1440) % 1440;
    if (total != 23 * 60 + 59) return false;
  }
  return true;
}

bool is_date_time(std::string_view s) {
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return false;
  return is_date(s.substr(0, 10)) && is_time(s.substr(11));
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-' && label.substr(0, 2) != "xn") return false;
    start = dot + 1;
  }
  return true;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t dot = s.find('.', i);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view part = s.substr(i, dot - i);
    if (part.empty() || part.size() > 3 || !digits(part, 0, part.size())) return false;
    if (part.size() > 1 && part[0] == '0') return false;
    if (num(part, 0, part.size()) > 255) return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 4;
}

bool is_ipv6(const std::string& s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  // An embedded IPv4 tail follows the IPv4 rules (no leading zeros).
  if (auto dot = s.find('.'); dot != std::string::npos && !is_ipv4(s.substr(s.rfind(':') + 1))) return false;
  in6_addr addr;
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

bool is_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      if (local[i] == '\\') {
        ++i;
      } else if (local[i] == '"') {
        return false;
      }
    }
  } else {
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
      return false;
    for (char c : local) {
      if (!std::isalnum(static_cast<unsigned char>(c)) &&
          std::string_view("!#$%&'*+/=?^_`{|}~-.").find(c) == std::string_view::npos) {
        return false;
      }
    }
  }
  if (domain.front() == '[' && domain.back() == ']') {
    std::string inner(domain.substr(1, domain.size() - 2));
    if (inner.rfind("IPv6:", 0) == 0) return is_ipv6(inner.substr(5));
    return is_ipv4(inner);
  }
  return is_hostname(domain);
}

bool valid_uri_chars(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::string_view("<>\"{}|\\^`").find(static_cast<char>(c)) != std::string_view::npos) return false;
    if (c == '%' && !(i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                      std::isxdigit(static_cast<unsigned char>(s[i + 2])))) {
      return false;
    }
  }
  return true;
}

bool is_uri_reference(std::string_view s) {
  if (!valid_uri_chars(s)) return false;
  // An authority may hold at most one '[...]' IP literal and no stray brackets elsewhere.
  auto hash = s.find('#');
  if (hash != std::string_view::npos && s.substr(hash + 1).find('#') != std::string_view::npos) return false;
  return true;
}

bool is_uri(std::string_view s) {
  static const RE2 kScheme("^[A-Za-z][A-Za-z0-9+.-]*:");
  if (!RE2::PartialMatch(s, kScheme) || !is_uri_reference(s)) return false;
  auto colon = s.find(':');
  std::string_view rest = s.substr(colon + 1);
  std::string_view after_authority = rest;
  if (rest.substr(0, 2) == "//") {
    size_t end = rest.find_first_of("/?#", 2);
    std::string_view authority =
        rest.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    after_authority = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    auto at = authority.rfind('@');
    std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
    if (at != std::string_view::npos &&
        authority.substr(0, at).find_first_of("[]") != std::string_view::npos) {
      return false;  // userinfo cannot hold brackets
    }
    if (!host.empty() && host.front() == '[') {
      auto close = host.find(']');
      if (close == std::string_view::npos) return false;
      std::string literal(host.substr(1, close - 1));
      if (literal.empty() || (literal[0] != 'v' && literal[0] != 'V' && !is_ipv6(literal))) return false;
      host = host.substr(close + 1);
      if (!host.empty() && host.front() != ':') return false;
    } else if (host.find_first_of("[]") != std::string_view::npos) {
      return false;
    }
    auto port = host.rfind(':');
    if (port != std::string_view::npos) {
      std::string_view p = host.substr(port + 1);
      for (char c : p)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  // Square brackets belong to IP literals only: never in the path, query or fragment.
  return after_authority.find_first_of("[]") == std::string_view::npos;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool is_duration(std::string_view s) {
  static const RE2 kDuration(
      "^P(?:(?:\\d+Y(?:\\d+M(?:\\d+D)?)?|\\d+M(?:\\d+D)?|\\d+D)(?:T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+"
      "S)?|\\d+S))?"
      "|T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+S)?|\\d+S)|\\d+W)$");
  return RE2::FullMatch(s, kDuration);
}

bool is_json_pointer(std::string_view s) {
  if (s.empty()) return true;
  if (s[0] != '/') return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '~' && (i + 1 >= s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  return true;
}

bool is_regex(const std::string& s) {
  RE2::Options opts;
  opts.set_log_errors(false);
  return RE2(s, opts).ok();
}

}  // namespace

bool format_matches(const std::string& format, const std::string& value) {
  if (format == "date") return is_date(value);
  if (format == "time") return is_time(value);
  if (format == "date-time") return is_date_time(value);
  if (format == "duration") return is_duration(value);
  if (format == "email" || format == "idn-email") return is_email(value);
  if (format == "hostname") return is_hostname(value);
  if (format == "ipv4") return is_ipv4(value);
  if (format == "ipv6") return is_ipv6(value);
  if (format == "uri" || format == "iri") return is_uri(value);
  if (format == "uri-reference" || format == "iri-reference") return is_uri_reference(value);
  if (format == "uuid") return is_uuid(value);
  if (format == "json-pointer") return is_json_pointer(value);
  if (format == "regex") return is_regex(value);
  return true;
}

}  // namespace af::jsonschema
