#include "jsonschema/type_bits.h"

#include <cmath>

namespace af::jsonschema {

using json = nlohmann::json;

uint8_t type_bit(const std::string& name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBoolean;
  if (name == "integer") return kInteger;
  if (name == "number") return kNumber | kInteger;  // every integer is a number
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  return 0;
}

uint8_t instance_bit(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return kNull;
    case json::value_t::boolean:
      return kBoolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return kInteger;
    case json::value_t::number_float: {
      double d = v.get<double>();
      return std::isfinite(d) && d == std::floor(d) ? kInteger : kNumber;
    }
    case json::value_t::string:
      return kString;
    case json::value_t::array:
      return kArray;
    case json::value_t::object:
      return kObject;
    default:
      return 0;
  }
}

}  // namespace af::jsonschema
