// pairs-build: Build DPO preference pairs (teacher AST chosen, student AST rejected) from evaluation results.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(
      argc, argv, af::config::Tool::PairsBuild,
      "Build DPO preference pairs (teacher AST chosen, student AST rejected) from evaluation results.",
      "issue #6, evaluation and alignment");
}
