// Dotted paths into JSON: found through nested objects; missing keys and non-objects on the way give null.
#include <doctest/doctest.h>

#include "core/json_path.h"

TEST_CASE("find_dotted walks object keys joined by dots") {
  const auto doc = nlohmann::json::parse(R"({"data":{"epoch":2,"list":[1]},"a.b":1,"top":null})");
  REQUIRE(af::find_dotted(doc, "data.epoch") != nullptr);
  CHECK(*af::find_dotted(doc, "data.epoch") == 2);
  CHECK(*af::find_dotted(doc, "data") == doc["data"]);
  CHECK(af::find_dotted(doc, "top")->is_null());  // present, null
  CHECK(af::find_dotted(doc, "data.missing") == nullptr);
  CHECK(af::find_dotted(doc, "data.epoch.more") == nullptr);  // a number has no keys
  CHECK(af::find_dotted(doc, "data.list.0") == nullptr);      // arrays are not walked
  CHECK(af::find_dotted(doc, "a.b") == nullptr);              // a dot always separates keys
  CHECK(af::find_dotted(doc, "") == nullptr);
}
