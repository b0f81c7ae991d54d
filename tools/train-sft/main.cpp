// train-sft: Fine-tune the student on the SFT corpus with LoRA (or fully, for the scratch student).
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(
      argc, argv, af::config::Tool::TrainSft,
      "Fine-tune the student on the SFT corpus with LoRA (or fully, for the scratch student).",
      "issue #5, train-sft");
}
