// DESIGN.md: "Settings are built once, at the consumer": each consumer reads its keys in one place into a
// typed struct, and the code uses only that. So outside lib/config, a config key may be read by name only in
// the settings builders listed here; a read anywhere else is a consumer reaching around its struct.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

TEST_CASE("config keys are read only by the consumers' settings builders") {
  const std::string lib = std::string(ASTFORGE_SOURCE_DIR) + "/lib";
  const std::set<std::string> builders = {"dataset/settings.cpp",
                                          "teacher/client.cpp",
                                          "teachersim/settings.cpp",
                                          "train/loop_config.cpp",
                                          "train/sft_settings.cpp",
                                          "train/dpo_settings.cpp",
                                          "student/settings.cpp",
                                          "student/eval_settings.cpp",
                                          "student/predict_settings.cpp",
                                          "student/export_settings.cpp",
                                          "serve/settings.cpp",
                                          "eval/pairs.cpp",
                                          "report/report.cpp"};
  // A read of a key by name: cfg.get_string("section.key"), or the shared loop keys' key("name").
  const std::regex read(
      R"re(\b(get|get_string|get_int|get_bool|get_double|get_list|is_null|is_explicit)\("[a-z_]+\.[a-z_.]+"\))re");
  size_t reading = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(lib)) {
    if (entry.path().extension() != ".cpp" && entry.path().extension() != ".h") continue;
    const std::string rel = std::filesystem::relative(entry.path(), lib).string();
    if (rel.rfind("config/", 0) == 0) continue;  // the config layer itself (validation, rules, the CLI)
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    const bool reads = std::regex_search(source, read);
    reading += reads;
    const bool allowed = !reads || builders.count(rel) == 1;
    CHECK_MESSAGE(allowed, (rel + " reads a config key outside a settings builder"));
  }
  CHECK(reading >= 9);  // the builders themselves are found (the pattern still matches what they do)
}
