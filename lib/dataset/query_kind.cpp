#include "dataset/query_kind.h"

namespace af::dataset {

std::string query_kind(const nlohmann::json& ast) {
  if (!ast.is_object()) return "malformed";
  if (ast.contains("refusal")) return "refusal";
  if (!ast.contains("query") || !ast["query"].is_object()) return "malformed";
  const auto& q = ast["query"];
  if (q.contains("filter") && q["filter"].is_object()) {
    return q["filter"].contains("args") || q["filter"].contains("arg") ? "compound_filter" : "filter";
  }
  if (q.contains("order_by")) return "ordering";
  return "selection";
}

}  // namespace af::dataset
