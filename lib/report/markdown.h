// Markdown pieces the reports share: tables, escaped cells, rates as percentages.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::report {

/// `text` made safe for a table cell: pipes escaped, newlines flattened, cut to `max_chars` (with "…").
std::string cell(const std::string& text, size_t max_chars = 0);

/// A GitHub-flavoured Markdown table.
std::string table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

/// A rate in [0, 1] as "95.0%", or "n/a" when it is null or missing.
std::string percent(const nlohmann::json& rate);

/// The summary's `<rate>_rate` as a percentage, or NaN when it has none (a gap in a plot).
double rate_percent(const nlohmann::json& summary, const std::string& rate);
/// The summary's `<rate>_rate` as "95.0%", with " (count/samples)" when `counts` and the summary has them;
/// "n/a" when missing.
std::string rate_cell(const nlohmann::json& summary, const std::string& rate, bool counts = true);

/// A number with `decimals` digits after the point, or "n/a" when it is not a number.
std::string fixed(const nlohmann::json& value, int decimals);

}  // namespace af::report
