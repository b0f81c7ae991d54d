// ds-build: Build the dataset: domain specs, schemas, (query, AST) samples, the SFT corpus and the eval set.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(
      argc, argv, af::config::Tool::DsBuild,
      "Build the dataset: domain specs, schemas, (query, AST) samples, the SFT corpus and the eval set.",
      "issue #3, dataset generation");
}
