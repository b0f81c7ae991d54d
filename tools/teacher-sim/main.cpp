// teacher-sim: Serve a deterministic stand-in teacher over the Ollama and OpenAI protocols on loopback.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(
      argc, argv, af::config::Tool::TeacherSim,
      "Serve a deterministic stand-in teacher over the Ollama and OpenAI protocols on loopback.",
      "issue #3, teacher-sim");
}
