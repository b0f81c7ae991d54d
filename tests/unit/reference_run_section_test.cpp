// README's generated "Reference run" section judged from the files of a run: the stage times and their total
// against the 30-minute budget, the SFT rates against issue 7's floors, DPO against the SFT teacher-accept
// rate, and the log lines kept; a missing file is named.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/reference_run.h"
#include "support/temp_dir.h"

using af::report::reference_run_section;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

json rates(double parsed, double valid, double exact, double accept) {
  return {{"samples", 81},
          {"adapter", "outputs/dev/student_runs/dev-tiny/checkpoint-final"},
          {"parsed_rate", parsed},
          {"schema_valid_rate", valid},
          {"exact_match_rate", exact},
          {"teacher_accept_rate", accept},
          {"semantic_pass_rate", accept}};
}

// A run's folder: SFT and DPO summaries, stage timings adding up to `seconds`, three metrics lines, a log.
void write_run(const TempDir& dir, const json& sft, const json& dpo, double sft_seconds) {
  dir.write("sft_evaluation_summary.json", sft.dump());
  if (!dpo.is_null()) dir.write("dpo_evaluation_summary.json", dpo.dump());
  dir.write("run_config.json",
            json{{"config", {{"training", {{"max_steps", 2200}, {"batch_size", 16}}}}}}.dump());
  dir.write("timings.jsonl",
            "{\"stage\":\"dataset (ds-build)\",\"seconds\":6}\n"
            "{\"stage\":\"SFT (train-sft)\",\"seconds\":" +
                std::to_string(sft_seconds) + "}\n");
  dir.write("training_metrics.jsonl",
            "{\"step\":10,\"loss\":6.5}\n{\"step\":20,\"loss\":0.25}\n"
            "{\"step\":20,\"eval_loss\":0.125}\n");
  dir.write("runAll.log",
            "[12:00:00] ds-build all (config x)\ntrain: 3/40 (7.5%) noise\n"
            "train-sft: done at step 2200; out\nsome other line\n");
}

}  // namespace

TEST_CASE("reference run section: times, floors and DPO's teacher accept are judged from the files") {
  TempDir dir;
  write_run(dir, rates(1.0, 0.9012, 0.7901, 0.7901), rates(1.0, 0.9136, 0.8148, 0.8148), 1500);
  std::string md = reference_run_section(dir.path());
  CHECK(md.find("| dataset (ds-build) | 0 min 06 s |  |") != std::string::npos);
  CHECK(md.find("| **total** (after the build) | **25 min 06 s** | ≤ 30 min (met) |") != std::string::npos);
  CHECK(md.find("SFT: 2200 steps of 16 examples, training loss 6.50 → 0.25, last eval_loss 0.125.") !=
        std::string::npos);
  CHECK(md.find("| parsed | 100.0% | 100.0% | ≥ 95% (met) |") != std::string::npos);
  CHECK(md.find("| schema-valid | 90.1% | 91.4% | ≥ 90% (met) |") != std::string::npos);
  CHECK(md.find("| exact match | 79.0% | 81.5% | ≥ 60% (met) |") != std::string::npos);
  CHECK(md.find("| teacher accept | 79.0% | 81.5% | DPO ≥ SFT (met) |") != std::string::npos);
  CHECK(md.find("train-sft: done at step 2200; out\n") != std::string::npos);
  CHECK(md.find("noise") == std::string::npos);  // progress lines and others are not kept
  CHECK(md.find("some other line") == std::string::npos);
}

TEST_CASE("reference run section: a slow run, a floor missed and DPO lowering teacher accept say not met") {
  TempDir dir;
  write_run(dir, rates(0.94, 0.8999, 0.61, 0.79), rates(1.0, 0.95, 0.62, 0.7777), 1795);
  std::string md = reference_run_section(dir.path());
  CHECK(md.find("| **total** (after the build) | **30 min 01 s** | ≤ 30 min (**not met**) |") !=
        std::string::npos);
  CHECK(md.find("| parsed | 94.0% | 100.0% | ≥ 95% (**not met**) |") != std::string::npos);
  CHECK(md.find("| schema-valid | 90.0% | 95.0% | ≥ 90% (**not met**) |") != std::string::npos);
  CHECK(md.find("| exact match | 61.0% | 62.0% | ≥ 60% (met) |") != std::string::npos);
  CHECK(md.find("| teacher accept | 79.0% | 77.8% | DPO ≥ SFT (**not met**) |") != std::string::npos);
}

TEST_CASE("reference run section: without DPO the column says so, a missing file is named") {
  TempDir dir;
  write_run(dir, rates(1.0, 0.95, 0.7, 0.7), json(), 600);
  std::string md = reference_run_section(dir.path());
  CHECK(md.find("| teacher accept | 70.0% | not run | — |") != std::string::npos);
  std::filesystem::remove(dir.file("timings.jsonl"));
  CHECK_THROWS_WITH_AS(reference_run_section(dir.path()), doctest::Contains("timings.jsonl"), af::Error);
}
