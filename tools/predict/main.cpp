// predict: Turn {schema, query} rows into ASTs with the trained student.
#include "config/pending_tool.h"

int main(int argc, char** argv) {
  return af::config::run_pending_tool(argc, argv, af::config::Tool::Predict,
                                      "Turn {schema, query} rows into ASTs with the trained student.",
                                      "issue #4, the student model");
}
