// Running an external program (gnuplot for the report's plots) without a shell: no quoting pitfalls.
#pragma once
#include <string>
#include <vector>

namespace af {

/// How a child process ended: its exit code (or -1 when it could not start or was killed) and its stderr.
struct CommandResult {
  int exit_code = -1;
  std::string error_output;  // the child's stderr, or why it could not be started
  bool ok() const { return exit_code == 0; }
};

/// Runs argv[0] (searched on PATH) with `argv`, stdin and stdout on /dev/null, and waits for it.
CommandResult run_command(const std::vector<std::string>& argv);

/// Whether `program` is an executable on PATH.
bool program_on_path(const std::string& program);

}  // namespace af
