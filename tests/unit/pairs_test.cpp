// pairs-build's rules: teacher AST chosen, student AST rejected, the exact prompt; accepted, unparsed,
// identical, invalid-teacher and duplicate records skipped and counted by reason; max_pairs; clear errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/pairs.h"
#include "eval/summary.h"
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

TEST_CASE("pairs-build refuses records no finished, judged evaluation describes") {
  TempDir dir;
  std::string records = dir.write("r.jsonl", rec("a", "reject", R"({"q":1})", R"({"q":2})") +
                                                 rec("b", "accept", R"({"q":1})", R"({"q":1})"));
  auto summary_of = [&](const std::string& path) {
    std::vector<json> rows;
    for (const auto& line :
         {rec("a", "reject", R"({"q":1})", R"({"q":2})"), rec("b", "accept", R"({"q":1})", R"({"q":1})")})
      rows.push_back(json::parse(line));
    return dir.write(path, summarize(rows, {{"teacher_model", "m"}}).dump());
  };
  const std::string good = summary_of("good.json");
  CHECK_NOTHROW(check_eval_summary(good, records));
  CHECK_THROWS_WITH_AS(check_eval_summary(dir.file("none.json"), records),
                       ("evaluation summary not found: " + dir.file("none.json") +
                        " (eval-teacher writes it once every sample is evaluated)")
                           .c_str(),
                       af::Error);
  json unjudged = json::parse(af::test::slurp(good));
  unjudged["teacher_rates_missing"] = "no teacher judged these samples";
  unjudged["teacher_accept_rate"] = nullptr;
  std::string nojudge = dir.write("nojudge.json", unjudged.dump());
  CHECK_THROWS_WITH_AS(
      check_eval_summary(nojudge, records),
      (nojudge + " says no teacher judged this evaluation (eval-teacher ran with --no-judge)").c_str(),
      af::Error);
  json other = json::parse(af::test::slurp(good));
  other["teacher_accept_count"] = 2;
  std::string mismatch = dir.write("other.json", other.dump());
  CHECK_THROWS_WITH_AS(
      check_eval_summary(mismatch, records),
      (mismatch + " does not describe " + records + ": its teacher_accept_count is 2, the records give 1")
          .c_str(),
      af::Error);
}

TEST_CASE("the dataset's negatives follow the student's pairs, deduplicated and under max_pairs") {
  TempDir dir;
  std::string records = dir.write("r.jsonl", rec("a", "reject", R"({"q":1})", R"({"q":2})"));
  auto negative = [](const std::string& id, const std::string& prompt) {
    return json({{"id", id},
                 {"schema_id", "s"},
                 {"prompt", prompt},
                 {"chosen", R"({"q":2})"},
                 {"rejected", R"({"q":1,"note":"x"})"},
                 {"rejected_errors", json::array({"additional property"})}})
               .dump() +
           "\n";
  };
  std::string negatives = dir.write(
      "d06.jsonl", negative("n1", "PROMPT n1") + negative("n1", "PROMPT n1") + negative("n2", "PROMPT n2"));
  PairsResult r = build_pairs(records, {});
  append_negative_pairs(r, negatives, {});
  REQUIRE(r.pairs.size() == 3);
  CHECK(r.pairs[0]["id"] == "a");
  CHECK(r.pairs[1]["id"] == "n1");
  CHECK(r.pairs[1]["source"] == "dataset");
  CHECK(r.pairs[1]["rejected_errors"] == json::array({"additional property"}));
  CHECK(r.from_dataset == 2);
  CHECK(r.skipped["duplicate"] == 1);
  PairSettings capped;
  capped.max_pairs = 2;
  PairsResult c = build_pairs(records, capped);
  append_negative_pairs(c, negatives, capped);
  CHECK(c.pairs.size() == 2);
  CHECK(c.skipped["over max_pairs"] == 1);
  std::string bad = dir.write("bad.jsonl", "{\"prompt\":\"p\"}\n");
  CHECK_THROWS_WITH_AS(append_negative_pairs(r, bad, {}),
                       (bad + ":1: a negative pair needs prompt, chosen and rejected (strings)").c_str(),
                       af::Error);
}
