// eval-teacher: Generate with the student, validate against each schema, and have the teacher judge the ASTs.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(
      argc, argv, af::config::Tool::EvalTeacher,
      "Generate with the student, validate against each schema, and have the teacher judge the ASTs.",
      "issue #6, evaluation and alignment");
}
