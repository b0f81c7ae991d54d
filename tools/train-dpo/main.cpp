// train-dpo: aligns the SFT student to the teacher's preferences (DPO) with train-sft's training loop.
#include "config/cli.h"
#include "train/dpo.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("train-dpo", [&] {
    ToolCli cli(
        Tool::TrainDpo, "train-dpo",
        "Align the SFT student to the teacher with DPO on dpo_pairs.jsonl: the policy starts from the\n"
        "SFT checkpoint, which is also the frozen reference. Checkpoints, resume, dpo_metrics.jsonl.");
    bool resume = false;
    cli.app().add_flag("--resume", resume,
                       "Continue from the latest valid checkpoint-* in the output dir (same as "
                       "--resume-from-checkpoint latest)");
    if (auto code = cli.parse(argc, argv)) return *code;
    std::optional<Resolved> cfg = cli.resolve_for_run();
    if (!cfg) return 0;
    if (resume && cfg->is_null("alignment.resume_from_checkpoint"))
      cfg->values["alignment.resume_from_checkpoint"] = "latest";
    af::train::run_dpo(*cfg);
    return 0;
  });
}
