// train-dpo: Align the SFT student to the teacher's preferences with DPO.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(argc, argv, af::config::Tool::TrainDpo,
                                      "Align the SFT student to the teacher's preferences with DPO.",
                                      "issue #6, evaluation and alignment");
}
