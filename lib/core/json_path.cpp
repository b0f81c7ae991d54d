#include "core/json_path.h"

#include <string>

namespace af {

const nlohmann::json* find_dotted(const nlohmann::json& doc, std::string_view path) {
  const nlohmann::json* v = &doc;
  for (size_t start = 0; start <= path.size();) {
    size_t dot = std::min(path.find('.', start), path.size());
    if (!v->is_object()) return nullptr;
    auto it = v->find(std::string(path.substr(start, dot - start)));
    if (it == v->end()) return nullptr;
    v = &*it;
    start = dot + 1;
  }
  return v;
}

}  // namespace af
