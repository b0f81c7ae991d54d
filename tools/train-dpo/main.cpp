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
    Resolved cfg = cli.resolve_for_run();
    af::train::DpoSettings s = af::train::dpo_settings(cfg);
    if (resume && s.trainer.loop.resume.empty()) s.trainer.loop.resume = "latest";
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::train::run_dpo(s, cli.run_config(cfg));
    return 0;
  });
}
