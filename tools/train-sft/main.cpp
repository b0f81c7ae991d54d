// train-sft: supervised fine-tuning of the student on the SFT corpus (LoRA, or every weight).
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
    if (show > 0 && cli.dry_run()) {
      Resolved resolved = cli.resolve();
      apply_logging(resolved);
      af::train::show_examples(resolved, show);
      return 0;
    }
    std::optional<Resolved> cfg = cli.resolve_for_run();
    if (!cfg) return 0;
    if (resume && cfg->is_null("training.resume_from_checkpoint"))
      cfg->values["training.resume_from_checkpoint"] = "latest";
    af::train::run_sft(*cfg);
    return 0;
  });
}
