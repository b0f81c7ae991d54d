// Loading config files: every structural problem is a finding with file:line:col; hostile files are
// errors, never crashes or hangs.
#include <doctest/doctest.h>

#include <string>

#include "config/config_file.h"
#include "config/resolve.h"
#include "support/temp_dir.h"

using namespace af::config;
using af::test::TempDir;

namespace {
struct Loaded {
  ConfigFile file;
  Findings findings;
};
Loaded load(const TempDir& dir, const std::string& name, const std::string& text) {
  Loaded l;
  l.file = load_config_file(dir.write(name, text), l.findings);
  return l;
}
const Finding* find_code(const Findings& f, const std::string& code) {
  for (const auto& x : f.all())
    if (x.code == code) return &x;
  return nullptr;
}
}  // namespace

TEST_CASE("entries carry their canonical key, typed value and place") {
  TempDir dir;
  auto l =
      load(dir, "c.yaml", "training:\n  learning_rate: 1e-4\n  lora:\n    r: 16\nrun:\n  name: \"123\"\n");
  CHECK_FALSE(l.findings.has_errors());
  REQUIRE(l.file.entries.size() == 3);
  CHECK(l.file.entries[0].path == "training.learning_rate");
  CHECK(l.file.entries[0].value.get<double>() == doctest::Approx(1e-4));
  CHECK(l.file.entries[0].origin.describe() == dir.file("c.yaml") + ":2:18");
  CHECK(l.file.entries[1].path == "training.lora.r");
  CHECK(l.file.entries[2].value == "123");  // quoted: a string
}

TEST_CASE("JSON configs read the same way") {
  TempDir dir;
  auto l = load(dir, "c.json", "{\n  \"training\": {\"max_steps\": 10, \"max_steps\": 20}\n}\n");
  const Finding* dup = find_code(l.findings, "duplicate_key");
  REQUIRE(dup != nullptr);
  CHECK(dup->key == "training.max_steps");
  CHECK(dup->where.line == 2);
}

TEST_CASE("unknown keys suggest the right one, also across sections") {
  TempDir dir;
  auto l = load(dir, "c.yaml", "training:\n  lerning_rate: 1\n  beta: 0.2\ntrainng:\n  x: 1\n");
  REQUIRE(l.findings.error_count() == 3);
  CHECK(l.findings.all()[0].hint == "did you mean training.learning_rate?");
  CHECK(l.findings.all()[1].hint == "did you mean alignment.beta?");
  CHECK(l.findings.all()[2].hint == "did you mean training?");
  CHECK(l.findings.all()[2].where.line == 4);
}

TEST_CASE("deprecated aliases warn and map to the new key") {
  TempDir dir;
  auto l = load(dir, "c.yaml", "training:\n  lora_r: 8\n  use_gradient_checkpointing: true\n");
  CHECK_FALSE(l.findings.has_errors());
  CHECK(l.findings.warning_count() == 2);
  CHECK(l.findings.all()[0].hint == "use training.lora.r");
  CHECK(l.file.entries[0].path == "training.lora.r");
}

TEST_CASE("structural errors") {
  TempDir dir;
  CHECK(find_code(load(dir, "a.yaml", "- a\n- b\n").findings, "wrong_type") != nullptr);
  CHECK(find_code(load(dir, "b.yaml", "").findings, "empty") != nullptr);
  CHECK(find_code(load(dir, "c.yaml", "\n  \n").findings, "empty") != nullptr);
  CHECK(find_code(load(dir, "d.yaml", "training: 5\n").findings, "wrong_type") != nullptr);
  auto syntax = load(dir, "e.yaml", "training:\n  learning_rate: [1, 2\n");
  REQUIRE(find_code(syntax.findings, "syntax") != nullptr);
  CHECK(find_code(syntax.findings, "syntax")->where.line >= 2);
  auto utf = load(dir, "f.yaml", "run:\n  name: \"ab\xff\"\n");
  REQUIRE(find_code(utf.findings, "invalid_utf8") != nullptr);
  CHECK(find_code(utf.findings, "invalid_utf8")->where.line == 2);
  CHECK(find_code(utf.findings, "invalid_utf8")->where.column == 12);
  CHECK(find_code(load(dir, "g.yaml", "{}\n").findings, "empty") == nullptr);
}

TEST_CASE("hostile files: deep nesting, alias bombs and huge files are errors") {
  TempDir dir;
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(load(dir, "deep.yaml", "run:\n  name: " + deep + "\n").findings.has_errors());
  std::string deep_map;
  for (int i = 0; i < 200; ++i) deep_map += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  CHECK(load(dir, "deepmap.yaml", "training:\n  lora:\n    target_modules:\n" + deep_map)
            .findings.has_errors());
  std::string bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + std::string(1, c) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ",*" : "*") + prev;
    bomb += "]\n";
  }
  auto bombed = load(dir, "bomb.yaml", "run:\n  name: *j\n" + bomb);
  CHECK(bombed.findings.has_errors());
  auto bomb2 = load(dir, "bomb2.yaml", bomb + "training:\n  lora:\n    target_modules: *j\n");
  REQUIRE(find_code(bomb2.findings, "too_large") != nullptr);
  std::string big = "run:\n  name: x\n# " + std::string(50u << 20, 'x') + "\n";
  auto huge = load(dir, "huge.yaml", big);
  REQUIRE(find_code(huge.findings, "unreadable") != nullptr);
  CHECK(find_code(huge.findings, "unreadable")->message.find("may be at most") != std::string::npos);
}

TEST_CASE("extends chains load parents first and cycles are reported") {
  TempDir dir;
  dir.write("base.yaml", "training:\n  learning_rate: 1e-3\n  max_steps: 10\n");
  dir.write("sub/child.yaml", "extends: ../base.yaml\ntraining:\n  max_steps: 20\n");
  Findings f;
  std::vector<ConfigFile> chain;
  load_with_extends(dir.file("sub/child.yaml"), f, chain);
  CHECK_FALSE(f.has_errors());
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].path == dir.file("base.yaml"));
  dir.write("x.yaml", "extends: y.yaml\nrun:\n  seed: 1\n");
  dir.write("y.yaml", "extends: x.yaml\n");
  Findings g;
  std::vector<ConfigFile> cyc;
  load_with_extends(dir.file("x.yaml"), g, cyc);
  CHECK(find_code(g, "extends_cycle") != nullptr);
}

// issue 22: yaml-cpp folded the lines after an unclosed quote into the value, so `run.seed` kept its default
// and cfg-check said ok.
TEST_CASE("a quote left open is an error at the line where it opened") {
  TempDir dir;
  auto l = load(dir, "c.yaml", "run:\n  name: \"abc\n  seed: 5\n");
  const Finding* f = find_code(l.findings, "unclosed_quote");
  REQUIRE(f != nullptr);
  CHECK(f->where.line == 2);
  CHECK(f->where.column == 9);
  auto single = load(dir, "s.yaml", "run:\n  seed: 5\n  name: 'it''s\n  device: cpu\n");
  REQUIRE(find_code(single.findings, "unclosed_quote") != nullptr);
  CHECK(find_code(single.findings, "unclosed_quote")->where.line == 3);
  // Quotes that close, escapes, '' inside single quotes and a backslash-continued line are fine.
  auto fine =
      load(dir, "f.yaml",
           "run:\n  name: \"a \\\" b # c\"\n  device: 'it''s'\nteacher:\n  model: \"long \\\n    name\"\n");
  CHECK_FALSE(fine.findings.has_errors());
  REQUIRE(fine.file.entries.size() == 3);
  CHECK(fine.file.entries[0].value == "a \" b # c");
  CHECK(fine.file.entries[1].value == "it's");
  CHECK(fine.file.entries[2].value == "long name");
}

TEST_CASE("a NUL byte and a document nested too deep are named as such") {
  TempDir dir;
  auto nul = load(dir, "n.yaml", std::string("run:\n  name: a\0b\n", 17));
  const Finding* f = find_code(nul.findings, "nul_byte");
  REQUIRE(f != nullptr);
  CHECK(f->where.line == 2);
  CHECK(f->where.column == 10);
  std::string deep = "run:\n  name: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  auto d = load(dir, "d.yaml", deep);
  REQUIRE(find_code(d.findings, "too_deep") != nullptr);
  CHECK(find_code(d.findings, "too_deep")->message == "nested too deep (limit 32 levels)");
  auto shallow = load(dir, "s.yaml", "run:\n  name: " + std::string(40, '[') + std::string(40, ']') + "\n");
  REQUIRE(find_code(shallow.findings, "too_deep") != nullptr);
  CHECK(find_code(shallow.findings, "too_deep")->message == "nested too deep (limit 32 levels)");
}

TEST_CASE("a hundred thousand unknown keys are each reported, the first ones with near spellings") {
  TempDir dir;
  std::string text = "training:\n  learnig_rate: 1\n";
  for (int i = 0; i < 100000; ++i) text += "junk_key_" + std::to_string(i) + ": 1\n";
  auto l = load(dir, "u.yaml", text);
  size_t unknown = 0;
  for (const auto& x : l.findings.all()) unknown += x.code == "unknown_key";
  CHECK(unknown == 100001);
  CHECK(find_code(l.findings, "unknown_key")->hint == "did you mean training.learning_rate?");
}
