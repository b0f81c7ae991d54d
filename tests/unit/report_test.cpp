// report: Markdown cells and tables, failure ranking, lenient inputs (line numbers of malformed lines), and
// whole reports from real files: plots drawn by gnuplot, missing inputs named, alignment_report.md verdicts.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "report/failures.h"
#include "report/inputs.h"
#include "report/markdown.h"
#include "report/report.h"
#include "support/temp_dir.h"

using namespace af::report;
using af::test::slurp;
using af::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json record(const std::string& id, bool parsed, bool valid, json accept, bool exact, bool truncated = false) {
  return {{"id", id},
          {"query", "query of " + id},
          {"raw_output", "{\"out\":\"" + id + "\"}"},
          {"parsed", parsed},
          {"truncated", truncated},
          {"parse_error", parsed ? json() : json("invalid JSON: line 1, column 3")},
          {"schema_valid", valid},
          {"schema_errors",
           valid ? json::array()
                 : json::array({{{"instance_path", ""}, {"message", "outer"}},
                                {{"instance_path", "/query/limit"}, {"message", "must be >= 1"}}})},
          {"teacher_accept", accept},
          {"teacher_reason", "wrong field"},
          {"teacher_canonical", "{\"t\":\"" + id + "\"}"},
          {"exact_match", exact}};
}

std::string jsonl(const std::vector<json>& rows) {
  std::string s;
  for (const auto& r : rows) s += r.dump() + "\n";
  return s;
}

json summary(double parsed, double accept) {
  json by = {{"samples", 10},
             {"parsed_rate", parsed},
             {"parsed_count", int(parsed * 10)},
             {"schema_valid_rate", 0.5},
             {"exact_match_rate", 0.4},
             {"teacher_accept_rate", accept},
             {"semantic_pass_rate", 0.3}};
  json s = by;
  s["adapter"] = "run/checkpoint-final";
  s["teacher_model"] = "teacher-sim";
  s["truncated_count"] = 1;
  s["by_language"] = {{"en", by}, {"fr", by}};
  s["by_kind"] = {{"filter", by}};
  return s;
}

}  // namespace

TEST_CASE("report markdown: cells are escaped and cut on characters, rates are percentages") {
  CHECK(cell("a|b\nc") == "a\\|b c");
  CHECK(cell("héllo wörld", 4) == "héll…");
  CHECK(cell("abc", 3) == "abc");
  CHECK(percent(json(0.955)) == "95.5%");
  CHECK(percent(json()) == "n/a");
  CHECK(fixed(json(1.23456), 2) == "1.23");
  CHECK(table({"a", "b"}, {{"1", "2"}}) == "| a | b |\n| --- | --- |\n| 1 | 2 |\n");
}

TEST_CASE(
    "report failures: truncated, unparsable, schema-invalid, rejected, mismatched, and successes left out") {
  std::vector<json> rows{record("ok", true, true, true, true),
                         record("mismatch", true, true, true, false),
                         record("rejected", true, true, false, true),
                         record("invalid", true, false, nullptr, false),
                         record("garbled", false, false, nullptr, false),
                         record("cut", false, false, nullptr, false, true)};
  CHECK(classify(rows[0]).severity == 0);
  Failure invalid = classify(rows[3]);
  CHECK(invalid.outcome == "schema-invalid");
  CHECK(invalid.detail == "/query/limit: must be >= 1");  // the innermost error
  CHECK(classify(rows[2]).detail == "wrong field");
  CHECK(classify(rows[4]).detail == "invalid JSON: line 1, column 3");

  std::vector<Failure> worst = worst_failures(rows, 10);
  REQUIRE(worst.size() == 5);
  std::vector<std::string> order;
  for (const auto& f : worst) order.push_back((*f.record)["id"]);
  CHECK(order == std::vector<std::string>{"cut", "garbled", "invalid", "rejected", "mismatch"});
  CHECK(worst_failures(rows, 2).size() == 2);
}

TEST_CASE("report inputs: missing files are not found, malformed lines are named by file and line") {
  TempDir dir;
  CHECK_FALSE(read_metrics(dir.file("nope.jsonl")).found);
  std::string path = dir.write("m.jsonl",
                               "{\"step\":10,\"loss\":2.5}\n{\"step\":20,\"loss\":\n[1,2]\n"
                               "{\"loss\":1.0}\n{\"step\":30,\"loss\":1.5}\n");
  JsonlInput in = read_metrics(path);
  CHECK(in.found);
  REQUIRE(in.rows.size() == 2);
  CHECK(in.rows[1]["step"] == 30);
  REQUIRE(in.problems.size() == 3);
  CHECK(in.problems[0].rfind(path + ":2: ", 0) == 0);
  CHECK(in.problems[1] == path + ":3: not a metrics line: expected an object with an integer \"step\"");
  CHECK(in.problems[2].rfind(path + ":4: ", 0) == 0);

  JsonInput bad = read_summary(dir.write("s.json", "{\"rates\": 1}"));
  CHECK(bad.found);
  CHECK(bad.value.is_null());
  CHECK(bad.problem.find("not an evaluation summary") != std::string::npos);
}

TEST_CASE("report: every input present gives every section, plot and the alignment comparison") {
  TempDir dir;
  ReportSettings s;
  s.run_name = "unit";
  s.out_dir = dir.file("out");
  s.training_metrics = dir.write("train.jsonl", jsonl({{{"step", 10},
                                                        {"loss", 3.0},
                                                        {"learning_rate", 1e-3},
                                                        {"grad_norm", 2.0},
                                                        {"tokens_per_second", 100.0}},
                                                       {{"step", 10}, {"eval_loss", 2.5}},
                                                       {{"step", 20},
                                                        {"loss", 2.0},
                                                        {"learning_rate", 5e-4},
                                                        {"grad_norm", 1.0},
                                                        {"tokens_per_second", 300.0}},
                                                       {{"step", 20}, {"eval_loss", 2.25}}}));
  s.dpo_metrics = dir.write("dpo.jsonl", jsonl({{{"step", 5},
                                                 {"loss", 0.6},
                                                 {"nll_loss", 0.25},
                                                 {"rewards/chosen", 0.1},
                                                 {"rewards/rejected", -0.1},
                                                 {"rewards/margins", 0.2},
                                                 {"rewards/accuracies", 0.75}}}));
  s.eval_summary = dir.write("sft.json", summary(0.9, 0.6).dump());
  s.dpo_eval_summary = dir.write("dposum.json", summary(0.95, 0.5).dump());
  s.eval_results =
      dir.write("results.jsonl",
                jsonl({record("a|1", false, false, nullptr, false), record("b", true, true, true, true)}));
  ReportOutcome out = write_reports(s);
  CHECK(out.missing.empty());
  CHECK(out.problems.empty());
  std::string md = slurp(out.report_path);
  CHECK(md.find("| training loss (first → last) | 3.0000 → 2.0000 |") != std::string::npos);
  CHECK(md.find("| best eval_loss | 2.2500 at step 20 |") != std::string::npos);
  CHECK(md.find("| tokens per second (median) | 300 |") != std::string::npos);
  CHECK(md.find("| parsed | 90.0% (9/10) | 95.0% (9/10) |") != std::string::npos);
  CHECK(md.find("| rewards/accuracies | 0.7500 |") != std::string::npos);
  CHECK(md.find("| nll_loss | 0.2500 |") != std::string::npos);  // RPO's term, beside the loss it is part of
  CHECK(slurp(s.out_dir + "/dpo_loss.gp").find("chosen NLL per token (RPO)") != std::string::npos);
  CHECK(md.find("The 1 worst of 1 failed samples (of 2)") != std::string::npos);
  CHECK(md.find("| 1 | a\\|1 | not JSON: invalid JSON: line 1, column 3 | query of a\\|1 |") !=
        std::string::npos);
  for (const char* plot : {"training_loss", "learning_rate", "grad_norm", "eval_rates", "rates_by_language",
                           "rates_by_kind", "dpo_loss", "dpo_rewards", "dpo_accuracy"}) {
    CAPTURE(plot);
    CHECK(md.find(std::string("](") + plot + ".svg)") != std::string::npos);
    CHECK(slurp(s.out_dir + "/" + plot + ".svg").find("<svg") != std::string::npos);
    CHECK(slurp(s.out_dir + "/" + plot + ".png").substr(1, 3) == "PNG");
    CHECK(fs::exists(s.out_dir + "/" + plot + ".gp"));
  }
  CHECK(out.plots.size() == 18);
  CHECK_FALSE(fs::exists(s.out_dir + "/eval_rates.svg.tmp"));
  // The saved script draws to the final names, so a user can rerun it.
  CHECK(slurp(s.out_dir + "/eval_rates.gp").find("eval_rates.svg\"") != std::string::npos);

  std::string alignment = slurp(out.alignment_report_path);
  CHECK(alignment.find("| teacher accept | 60.0% | 50.0% | -10.0 pts |") != std::string::npos);
  CHECK(alignment.find("**Teacher accept: DPO lowered it** (60.0% → 50.0%)") != std::string::npos);
}

TEST_CASE(
    "report: partial inputs give a report of what exists, name what is missing, and keep line numbers") {
  TempDir dir;
  ReportSettings s;
  s.run_name = "partial";
  s.out_dir = dir.file("out");
  s.plot_formats = {"png"};
  s.training_metrics = dir.write("train.jsonl", "{\"step\":10,\"loss\":3.0}\nnot json\n");
  s.eval_summary = dir.file("missing.json");
  s.eval_results = dir.file("missing.jsonl");
  s.dpo_metrics = dir.file("nodpo.jsonl");
  s.dpo_eval_summary = dir.file("nodpo.json");
  fs::create_directories(s.out_dir);
  dir.write("out/alignment_report.md", "stale");
  ReportOutcome out = write_reports(s);
  CHECK(out.missing.size() == 4);
  REQUIRE(out.problems.size() == 1);
  CHECK(out.problems[0].rfind(s.training_metrics + ":2: ", 0) == 0);
  std::string md = slurp(out.report_path);
  CHECK(md.find("| SFT training metrics | `" + s.training_metrics +
                "` | 1 lines, 1 malformed line(s) skipped |") != std::string::npos);
  CHECK(md.find("| SFT evaluation summary | `" + s.eval_summary + "` | missing (run eval-teacher) |") !=
        std::string::npos);
  CHECK(md.find("No SFT evaluation summary") != std::string::npos);
  CHECK(md.find("No DPO metrics: run `pipelines/runAlignment.sh`") != std::string::npos);
  CHECK(md.find("## Problems\n\n- " + s.training_metrics + ":2: ") != std::string::npos);
  CHECK(md.find("](training_loss.png)") != std::string::npos);
  CHECK_FALSE(fs::exists(s.out_dir + "/training_loss.svg"));
  CHECK(out.alignment_report_path.empty());
  CHECK_FALSE(fs::exists(s.out_dir + "/alignment_report.md"));  // a stale comparison is removed
}
