// Runs the official JSON Schema Test Suite (draft2020-12 and draft7) against lib/jsonschema, with the suite's
// remotes/ served from disk. Prints the pass count per keyword file; exits 1 when any required test fails.
// Optional tests (optional/, format with assertion on) are run and reported, never fatal.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "jsonschema/schema.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace af::jsonschema;

namespace {

struct Tally {
  int passed = 0, failed = 0;
};

Tally run_file(const fs::path& file, Draft draft, bool format_assertion,
               std::shared_ptr<DocumentLoader> loader, bool verbose) {
  Tally t;
  json groups = json::parse(std::ifstream(file));
  for (const auto& group : groups) {
    Options opts;
    opts.default_draft = draft;
    opts.format_assertion = format_assertion;
    opts.loader = loader;
    std::optional<Schema> schema;
    std::string compile_error;
    try {
      schema = Schema::compile(group["schema"], opts);
    } catch (const std::exception& e) {
      compile_error = e.what();
    }
    for (const auto& test : group["tests"]) {
      bool expected = test["valid"];
      bool ok = false;
      std::string detail;
      if (schema) {
        try {
          bool fast = schema->is_valid(test["data"]);
          bool full = schema->validate(test["data"]).empty();
          ok = fast == expected && full == expected;
          if (fast != full) detail = " (is_valid and validate disagree)";
        } catch (const std::exception& e) {
          detail = std::string(" (threw: ") + e.what() + ")";
        }
      } else {
        detail = " (compile error: " + compile_error + ")";
      }
      if (ok) {
        ++t.passed;
      } else {
        ++t.failed;
        if (verbose) {
          std::cout << "  FAIL " << file.filename().string() << ": "
                    << group["description"].get<std::string>() << " / "
                    << test["description"].get<std::string>() << detail << "\n";
        }
      }
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("JSON Schema Test Suite runner", "jsonschema_suite");
  std::string suite;
  bool verbose = false;
  app.add_option("--suite", suite, "Root of the JSON-Schema-Test-Suite checkout")->required();
  app.add_flag("-v,--verbose", verbose, "List every failing test (optional ones too)");
  CLI11_PARSE(app, argc, argv);

  auto loader = std::make_shared<DocumentLoader>();
  loader->map_prefix("http://localhost:1234/", suite + "/remotes");
  int required_failed = 0, required_passed = 0, optional_failed = 0, optional_passed = 0;
  for (auto [dir, draft] :
       {std::pair{"draft2020-12", Draft::Draft2020_12}, std::pair{"draft7", Draft::Draft7}}) {
    fs::path root = fs::path(suite) / "tests" / dir;
    if (!fs::exists(root)) {
      std::cout << dir << ": not in this suite checkout, skipped\n";
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(root))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::cout << "== " << dir << " (required)\n";
    for (const auto& f : files) {
      Tally t = run_file(f, draft, false, loader, true);
      required_passed += t.passed;
      required_failed += t.failed;
      std::cout << "  " << dir << "/" << f.filename().string() << ": " << t.passed << "/"
                << (t.passed + t.failed) << "\n";
    }
    std::vector<fs::path> optional;
    for (const auto& e : fs::recursive_directory_iterator(root / "optional"))
      if (e.path().extension() == ".json") optional.push_back(e.path());
    std::sort(optional.begin(), optional.end());
    std::cout << "== " << dir << " (optional)\n";
    for (const auto& f : optional) {
      bool is_format = f.parent_path().filename() == "format" || f.filename() == "format-assertion.json";
      Tally t = run_file(f, draft, is_format, loader, verbose);
      optional_passed += t.passed;
      optional_failed += t.failed;
      std::cout << "  " << dir << "/" << fs::relative(f, root).string() << ": " << t.passed << "/"
                << (t.passed + t.failed) << "\n";
    }
  }
  std::cout << "required: " << required_passed << " passed, " << required_failed << " failed\n";
  std::cout << "optional: " << optional_passed << " passed, " << optional_failed
            << " failed (reported, not fatal)\n";
  return required_failed == 0 && required_passed > 0 ? 0 : 1;
}
