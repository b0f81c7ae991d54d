// JSON types as bits, shared by the validator and the constrained-decoding grammar: a type check is one AND.
// "number" is kNumber | kInteger (every integer is a number); an instance is kInteger when it has no
// fraction.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace af::jsonschema {

/// One bit per JSON Schema type.
enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kInteger = 4,
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
  kAnyType = 127
};

/// The bits of a `type` keyword's name ("number" -> kNumber | kInteger); 0 for an unknown name.
uint8_t type_bit(const std::string& name);
/// The bit of an instance (integers, and numbers with no fraction, are kInteger).
uint8_t instance_bit(const nlohmann::json& v);

}  // namespace af::jsonschema
