// train-sft: supervised fine-tuning of the student on the SFT corpus (LoRA, or every weight).
#include <cstdlib>

#include "config/cli.h"
#include "train/sft.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("train-sft", [&] {
    ToolCli cli(Tool::TrainSft, "train-sft",
                "Fine-tune the student on d_04_training_corpus.jsonl: LoRA (or every weight for the scratch\n"
                "student), checkpoints, resume, eval_loss, training_metrics.jsonl.");
    bool resume = false;
    int64_t show = 0;
    cli.app().add_flag("--resume", resume,
                       "Continue from the latest valid checkpoint-* in the output dir (same as "
                       "--resume-from-checkpoint latest)");
    cli.app().add_option(
        "--show-examples", show,
        "With --dry-run: print N training examples as the model sees them (tokens, and which "
        "are trained)");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    af::train::SftSettings s = af::train::sft_settings(cfg);
    if (resume && s.trainer.loop.resume.empty()) s.trainer.loop.resume = "latest";
    if (cli.dry_run()) {
      if (show > 0) {
        af::train::show_examples(s, show);
        return 0;
      }
      const char* world = std::getenv("WORLD_SIZE");
      return cli.print_dry_run(cfg, s.to_json(world != nullptr ? std::atoll(world) : 1));
    }
    af::train::run_sft(s, cli.run_config(cfg));
    return 0;
  });
}
