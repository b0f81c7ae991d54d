// The field table's own invariants: every key is consumed, documented, valid by default, and bound to a
// flag that collides with nothing else in the tools that consume it.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "config/cli.h"
#include "config/table.h"
#include "config/value_check.h"

using namespace af::config;

TEST_CASE("every key has a consumer, a description and a section") {
  CHECK(fields().size() > 150);
  for (const auto& f : fields()) {
    CAPTURE(f.path);
    CHECK(f.consumers != 0);
    CHECK(f.description.size() > 10);
    CHECK(is_section(f.path.substr(0, f.path.rfind('.'))));
    CHECK_FALSE(f.flag.empty());
    if (f.type == FieldType::Enum || f.type == FieldType::EnumList || f.type == FieldType::BoolOrEnum) {
      CHECK_FALSE(f.choices.empty());
    }
  }
}

TEST_CASE("every default passes its own checks, and every reference names a key of a compatible type") {
  for (const auto& f : fields()) {
    CAPTURE(f.path);
    nlohmann::json v = f.default_value;
    Findings findings;
    CHECK(check_value(f, v, Origin::default_value(), findings));
    CHECK_FALSE(findings.has_errors());
    if (f.default_is_reference()) {
      std::string text = f.default_value.get<std::string>();
      for (size_t open = text.find("${"); open != std::string::npos; open = text.find("${", open + 1)) {
        std::string ref = text.substr(open + 2, text.find('}', open) - open - 2);
        const Field* target = find_field(ref);
        REQUIRE_MESSAGE(target != nullptr, ref);
        if (open == 0 && text.size() == ref.size() + 3 && f.type != FieldType::String &&
            f.type != FieldType::Path) {
          CHECK(target->type == f.type);
        }
      }
    }
  }
}

TEST_CASE("aliases map old spellings to existing keys and are not keys themselves") {
  for (const auto& a : aliases()) {
    CAPTURE(a.old_path);
    CHECK(find_field(a.new_path) != nullptr);
    CHECK(find_field(a.old_path) == nullptr);
  }
}

TEST_CASE("no two keys of one tool share a flag, and no key flag shadows a common flag") {
  const std::set<std::string> common = {"--config", "--set", "--dry-run", "--help", "-h", "-c"};
  for (Tool t : all_tools()) {
    std::map<std::string, std::string> owner;
    for (const Field* f : fields_for(t)) {
      for (const auto& spelling : flag_spellings(*f)) {
        CAPTURE(tool_name(t));
        CAPTURE(spelling);
        CHECK(common.count(spelling) == 0);
        auto [it, inserted] = owner.emplace(spelling, f->path);
        std::string clash = spelling + " is used by " + it->second + " and " + f->path;
        CHECK_MESSAGE(inserted, clash);
      }
    }
  }
}

TEST_CASE("flags follow the naming rule") {
  CHECK(find_field("training.learning_rate")->flag == "learning-rate");
  CHECK(find_field("teacher.model")->flag == "teacher-model");
  CHECK(find_field("teacher.retry_wait")->flag == "teacher-retry-wait");
  CHECK(find_field("training.lora.r")->flag == "lora-r");
  CHECK(find_field("training.lora.lora_alpha")->flag == "lora-alpha");
  CHECK(find_field("training.scratch.hidden_size")->flag == "scratch-hidden-size");
  CHECK(find_field("run.seed")->flag == "seed");
  CHECK(find_field("dataset_generation.prompts_path")->flag_aliases == std::vector<std::string>{"prompts"});
}

TEST_CASE("the stage file names are declared once, under run.output_root") {
  CHECK(find_field("dataset_generation.schema_specs_out")->default_value ==
        "${run.output_root}/d_01_domain_specs.jsonl");
  CHECK(find_field("dataset_generation.eval_set_out")->default_value ==
        "${run.output_root}/d_05_eval_set.jsonl");
  CHECK(find_field("training.training_corpus")->default_value == "${dataset_generation.training_corpus_out}");
}

TEST_CASE("the table hash is stable within a build and hex") {
  CHECK(field_table_hash() == field_table_hash());
  CHECK(field_table_hash().size() == 16);
}
