// pairs-build's rules: teacher AST chosen, student AST rejected, the exact prompt; accepted, unparsed,
// identical, invalid-teacher and duplicate records skipped and counted by reason; max_pairs; clear errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/pairs.h"
#include "support/temp_dir.h"

using namespace af::eval;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

std::string rec(const std::string& id, const std::string& verdict, json student, const std::string& teacher,
                bool teacher_valid = true) {
  return json({{"id", id},
               {"prompt_text", "PROMPT " + id},
               {"student_canonical", student},
               {"teacher_canonical", teacher},
               {"teacher_verdict", verdict},
               {"teacher_schema_valid", teacher_valid},
               {"language", "en"},
               {"kind", "filter"}})
             .dump() +
         "\n";
}

}  // namespace

TEST_CASE(
    "pairs: chosen is the teacher's AST, rejected the student's (raw text when unparsable); the rest is "
    "skipped by reason") {
  TempDir dir;
  std::string path = dir.write(
      "r.jsonl",
      rec("a", "reject", R"({"q":1})", R"({"q":2})") + rec("b", "accept", R"({"q":1})", R"({"q":1})") +
          rec("c", "reject", nullptr, R"({"q":2})") + rec("d", "reject", R"({"q":3})", R"({"q":3})") +
          rec("a", "reject", R"({"q":1})", R"({"q":2})") +  // the same pair again
          rec("e", "reject", R"({"q":1})", R"({"q":9})", false) + R"({"id":"f","prompt_text":"P"})" + "\n" +
          rec("g", "reject", R"({"q":5})", R"({"q":6})") +
          // Unparsable output: its raw text is the rejected side.
          [] {
            json h = json::parse(rec("h", "reject", nullptr, R"({"q":8})"));
            h["raw_output"] = "{\"q\":";
            return h.dump() + "\n";
          }());
  PairsResult r = build_pairs(path, {});
  CHECK(r.records == 9);
  REQUIRE(r.pairs.size() == 3);
  CHECK(r.pairs[0]["prompt"] == "PROMPT a");
  CHECK(r.pairs[0]["chosen"] == R"({"q":2})");
  CHECK(r.pairs[0]["rejected"] == R"({"q":1})");
  CHECK(r.pairs[0]["rejected_parsed"] == true);
  CHECK(r.pairs[1]["id"] == "g");
  CHECK(r.pairs[2]["rejected"] == "{\"q\":");
  CHECK(r.pairs[2]["rejected_parsed"] == false);
  CHECK(r.skipped == std::map<std::string, size_t>{{"teacher accepted (only_rejected)", 1},
                                                   {"no student output", 1},
                                                   {"chosen equals rejected", 1},
                                                   {"duplicate", 1},
                                                   {"teacher AST not schema-valid", 1},
                                                   {"no teacher AST", 1}});
  PairSettings capped;
  capped.max_pairs = 1;
  CHECK(build_pairs(path, capped).pairs.size() == 1);
  CHECK(build_pairs(path, capped).skipped["over max_pairs"] == 2);
  PairSettings all;
  all.only_rejected = false;  // an accepted record with a different teacher AST still makes a pair
  std::string acc = dir.write("acc.jsonl", rec("x", "accept", R"({"q":1})", R"({"q":7})"));
  CHECK(build_pairs(acc, all).pairs.size() == 1);
  CHECK(build_pairs(acc, {}).pairs.empty());
}

TEST_CASE("pairs: results without any teacher verdict, or malformed lines, are refused by name") {
  TempDir dir;
  std::string none = dir.write("n.jsonl", R"({"prompt_text":"P","student_canonical":"{}"})"
                                          "\n");
  CHECK_THROWS_WITH_AS(build_pairs(none, {}),
                       (none + " has no teacher verdicts: it was evaluated without a teacher").c_str(),
                       af::Error);
  std::string bad = dir.write("b.jsonl", rec("a", "reject", "{}", "{}") + R"({"id":"x"})" + "\n");
  CHECK_THROWS_WITH_AS(build_pairs(bad, {}), (bad + ":2: missing key 'prompt_text'").c_str(), af::Error);
}
