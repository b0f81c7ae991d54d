// The JSON Schema compiler and validator: any JSON as a schema, validated against a few instances and itself.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "jsonschema/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using json = nlohmann::json;
  json schema = json::parse(data, data + size, nullptr, false);
  if (schema.is_discarded()) return 0;
  try {
    auto compiled = af::jsonschema::Schema::compile(schema);
    for (const json& instance : {json(nullptr), json(0), json(-1.5), json(18446744073709551615ull),
                                 json("livrée"), json::array({1, "a"}), json::object({{"a", 1}}), schema}) {
      for (const auto& e : compiled.validate(instance)) (void)json(e.message).dump();
    }
  } catch (const af::Error&) {
    // an invalid schema: its error is the expected outcome
  }
  return 0;
}
