// report: Write report.md and plots from training metrics and evaluations.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(argc, argv, af::config::Tool::Report,
                                      "Write report.md and plots from training metrics and evaluations.",
                                      "issue #7, report");
}
