#include "report/markdown.h"

#include <cmath>
#include <cstdio>

namespace af::report {

std::string cell(const std::string& text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // Count code points, not bytes, so a cut never splits a character.
    if ((c & 0xC0) != 0x80) {
      if (max_chars > 0 && chars == max_chars) {
        out += "…";
        return out;
      }
      ++chars;
    }
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "|";
  for (const auto& h : headers) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < headers.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& c : row) out += " " + c + " |";
    out += "\n";
  }
  return out;
}

std::string percent(const nlohmann::json& rate) {
  if (!rate.is_number()) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", rate.get<double>() * 100.0);
  return buf;
}

double rate_percent(const nlohmann::json& summary, const std::string& rate) {
  std::string key = rate + "_rate";
  return summary.is_object() && summary.contains(key) && summary[key].is_number()
             ? summary[key].get<double>() * 100.0
             : NAN;
}

std::string rate_cell(const nlohmann::json& summary, const std::string& rate, bool counts) {
  if (!summary.is_object()) return "n/a";
  std::string key = rate + "_rate", count = rate + "_count";
  std::string out = percent(summary.value(key, nlohmann::json()));
  if (counts && summary.contains(count) && summary[count].is_number() && summary.contains("samples"))
    out += " (" + summary[count].dump() + "/" + summary["samples"].dump() + ")";
  return out;
}

std::string fixed(const nlohmann::json& value, int decimals) {
  if (!value.is_number()) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value.get<double>());
  return buf;
}

}  // namespace af::report
