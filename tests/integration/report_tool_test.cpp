// The report tool as runEvals.sh drives it: flags override the config's paths, missing inputs are named on
// stderr and in the report, and the exit code is 0 while something could be reported.
#include <doctest/doctest.h>

#include <filesystem>

#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::slurp;
using af::test::TempDir;

TEST_CASE("report: the issue's flags pick the inputs, what is missing is named, a bad line by its number") {
  TempDir dir;
  std::string metrics =
      dir.write("training_metrics.jsonl",
                "{\"step\":1,\"loss\":4.0}\n{\"step\":2,\"loss\":3.0}\n{\"step\":3,\"loss\"\n");
  auto run =
      run_tool("report", {"--config", "configs/defaults.dev.yaml", "--training-metrics", metrics,
                          "--eval-summary", dir.file("none.json"), "--eval-results", dir.file("none.jsonl"),
                          "--set", "report.dpo_metrics=" + dir.file("x.jsonl"), "--set",
                          "report.dpo_eval_summary=" + dir.file("x.json"), "--out-dir", dir.file("rep")});
  CHECK(run.exit_code == 0);
  CHECK(run.err.find("not found (left out of the report): SFT evaluation summary (" + dir.file("none.json") +
                     ")") != std::string::npos);
  CHECK(run.err.find(metrics + ":3: ") != std::string::npos);
  CHECK(run.err.find("wrote " + dir.file("rep") + "/report.md (2 plot images)") != std::string::npos);
  std::string md = slurp(dir.file("rep/report.md"));
  CHECK(md.find("# astforge report — dev-tiny") != std::string::npos);
  CHECK(md.find("| training loss (first → last) | 4.0000 → 3.0000 |") != std::string::npos);
  CHECK(std::filesystem::exists(dir.file("rep/training_loss.png")));
  CHECK_FALSE(std::filesystem::exists(dir.file("rep/alignment_report.md")));
}

TEST_CASE("report: an out-of-range flag is a usage error naming the key") {
  auto run = run_tool("report", {"--config", "configs/defaults.dev.yaml", "--worst-failures", "-1"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("report.worst_failures") != std::string::npos);
}
