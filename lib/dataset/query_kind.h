// The kind of a request, from its AST: how datasets are balanced and how evaluations are split.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace af::dataset {

/// "refusal", "compound_filter" (and/or/not), "filter", "ordering" (order_by without a filter), "selection"
/// (only select/limit), or "malformed" (neither a query nor a refusal).
std::string query_kind(const nlohmann::json& ast);

}  // namespace af::dataset
