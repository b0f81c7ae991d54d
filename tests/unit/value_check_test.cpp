// Typing scalars and checking values against their fields.
#include <doctest/doctest.h>

#include <cmath>

#include "config/table.h"
#include "config/value_check.h"

using namespace af::config;
using json = nlohmann::json;

namespace {
// Checks `v` for `key`; returns the first finding's code ("" when valid).
std::string code_for(const std::string& key, json v, json* normalised = nullptr) {
  Findings f;
  bool ok = check_value(*find_field(key), v, Origin::in_file("c.yaml", 1, 1), f);
  if (normalised) *normalised = v;
  if (ok) return "";
  return f.all().front().code;
}
}  // namespace

TEST_CASE("plain scalars follow the YAML 1.2 core schema") {
  CHECK(type_plain_scalar("").is_null());
  CHECK(type_plain_scalar("~").is_null());
  CHECK(type_plain_scalar("True") == true);
  CHECK(type_plain_scalar("yes") == "yes");  // YAML 1.1 booleans are strings
  CHECK(type_plain_scalar("42") == 42);
  CHECK(type_plain_scalar("-7").get<int64_t>() == -7);
  CHECK(type_plain_scalar("0x1F") == 31);
  CHECK(type_plain_scalar("5e-5").get<double>() == doctest::Approx(5e-5));  // unlike PyYAML, a float
  CHECK(type_plain_scalar("1.").get<double>() == 1.0);
  CHECK(type_plain_scalar(".inf").get<double>() == HUGE_VAL);
  CHECK(std::isnan(type_plain_scalar(".nan").get<double>()));
  CHECK(type_plain_scalar("99999999999999999999").is_number_unsigned() == false);
  CHECK(type_plain_scalar("1_000") == "1_000");
  CHECK(type_plain_scalar("q_proj") == "q_proj");
}

TEST_CASE("text values from flags are typed per field") {
  CHECK(parse_text_value(*find_field("run.name"), "123") == "123");
  CHECK(parse_text_value(*find_field("training.learning_rate"), "1e-4").get<double>() ==
        doctest::Approx(1e-4));
  CHECK(parse_text_value(*find_field("training.lora.target_modules"), "q_proj, v_proj") ==
        json::array({"q_proj", "v_proj"}));
  CHECK(parse_text_value(*find_field("training.lora.target_modules"), R"(["k_proj"])") ==
        json::array({"k_proj"}));
  CHECK(parse_text_value(*find_field("training.max_samples"), "null").is_null());
  CHECK(parse_text_value(*find_field("training.bf16"), "false") == false);
}

TEST_CASE("types, ranges, enums and lists") {
  CHECK(code_for("training.learning_rate", 1e-4) == "");
  CHECK(code_for("training.learning_rate", 0) == "out_of_range");
  CHECK(code_for("training.learning_rate", -1) == "out_of_range");
  CHECK(code_for("training.learning_rate", "5e-5") == "wrong_type");
  CHECK(code_for("training.batch_size", 2.5) == "wrong_type");
  CHECK(code_for("training.batch_size", 0) == "out_of_range");
  CHECK(code_for("training.bf16", "yes") == "wrong_type");
  CHECK(code_for("training.bf16", nullptr) == "wrong_type");
  CHECK(code_for("training.max_samples", nullptr) == "");
  CHECK(code_for("training.lr_scheduler_type", "cosin") == "not_in_enum");
  CHECK(code_for("training.lora.target_modules", json::array({"q_proj", "q_proj"})) == "duplicate_value");
  CHECK(code_for("training.lora.target_modules", json::array()) == "out_of_range");
  CHECK(code_for("training.val_split", 1.0) == "out_of_range");
  CHECK(code_for("run.name", "") == "out_of_range");
  CHECK(code_for("run.name", 7) == "wrong_type");
  CHECK(code_for("teacher.retries", -1) == "");
  CHECK(code_for("teacher.retries", -2) == "out_of_range");
  json v;
  CHECK(code_for("training.lora.target_modules", "all-linear", &v) == "");
  CHECK(v == json::array({"all-linear"}));
  CHECK(code_for("training.learning_rate", 1, &v) == "");
  CHECK(v.is_number_float());
}

TEST_CASE("unsupported and invalid values are rejected with their reason") {
  CHECK(code_for("training.load_in_4bit", true) == "not_supported");
  CHECK(code_for("training.load_in_4bit", false) == "");
  CHECK(code_for("training.lora.init_lora_weights", "pissa") == "not_supported");
  CHECK(code_for("training.lora.init_lora_weights", "gaussian") == "");
  json v;
  CHECK(code_for("training.lora.init_lora_weights", "false", &v) == "");
  CHECK(v == false);
  CHECK(code_for("training.lora.fan_in_fan_out", true) == "invalid_value");
  Findings f;
  json t = true;
  check_value(*find_field("training.load_in_4bit"), t, Origin::default_value(), f);
  CHECK(f.all().front().message.find("not supported yet") == 0);
}

TEST_CASE("messages say what was expected and what was found, with a hint") {
  Findings f;
  json v = 0;
  check_value(*find_field("training.grad_accum"), v, Origin::in_file("c.yaml", 3, 5), f);
  const Finding& e = f.all().front();
  CHECK(e.expected == "an integer >= 1 and <= 65536");
  CHECK(e.found == "0");
  CHECK(e.hint == "the effective batch size (batch_size x grad_accum) would be 0");
  CHECK(e.to_text() ==
        "c.yaml:3:5: error: training.grad_accum: value out of range (expected an integer >= 1 and <= 65536, "
        "found 0) "
        "[out_of_range]\n  hint: the effective batch size (batch_size x grad_accum) would be 0");
}

TEST_CASE("did-you-mean finds near spellings") {
  std::vector<std::string> words = {"learning_rate", "logging_steps", "lr_scheduler_type"};
  CHECK(closest_matches("lerning_rate", words).front() == "learning_rate");
  CHECK(closest_matches("zzz", words).empty());
}
